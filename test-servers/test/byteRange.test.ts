import { describe, expect, it } from 'vitest';
import { ifRangeMatches, parseRange } from '../src/http/byteRange.js';

describe('parseRange', () => {
  it.each([
    ['bytes=0-0', 10, { kind: 'range', start: 0, end: 0 }],
    ['bytes=3-', 10, { kind: 'range', start: 3, end: 9 }],
    ['bytes=-3', 10, { kind: 'range', start: 7, end: 9 }],
    ['bytes=-30', 10, { kind: 'range', start: 0, end: 9 }],
    ['bytes=5-500', 10, { kind: 'range', start: 5, end: 9 }],
    ['BYTES = 1 - 2', 10, { kind: 'range', start: 1, end: 2 }],
    ['bytes=10-', 10, { kind: 'unsatisfiable' }],
    ['bytes=-0', 10, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=-5', 0, { kind: 'unsatisfiable' }],
    ['bytes=4-3', 10, { kind: 'ignore' }],
    ['bytes=0-1,3-4', 10, { kind: 'ignore' }],
    ['bytes=-', 10, { kind: 'ignore' }],
    ['lines=1-2', 10, { kind: 'ignore' }],
    [undefined, 10, { kind: 'ignore' }],
  ])('reads %s against size %i', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  it('handles offsets beyond 2 ** 32', () => {
    expect(parseRange(`bytes=${2 ** 40}-`, 2 ** 50)).toEqual({ kind: 'range', start: 2 ** 40, end: 2 ** 50 - 1 });
  });
});

describe('ifRangeMatches', () => {
  const date = 'Wed, 21 Oct 2015 07:28:00 GMT';
  it('compares entity tags strongly', () => {
    expect(ifRangeMatches('"a"', '"a"', date)).toBe(true);
    expect(ifRangeMatches('"b"', '"a"', date)).toBe(false);
    expect(ifRangeMatches('W/"a"', 'W/"a"', date)).toBe(false);
    expect(ifRangeMatches('"a"', undefined, date)).toBe(false);
  });

  it('compares dates with Last-Modified', () => {
    expect(ifRangeMatches(date, '"a"', date)).toBe(true);
    expect(ifRangeMatches('Wed, 21 Oct 2015 07:28:01 GMT', '"a"', date)).toBe(false);
    expect(ifRangeMatches(date, '"a"', undefined)).toBe(false);
    expect(ifRangeMatches('not a date', '"a"', date)).toBe(false);
  });
});
