import { describe, expect, it } from 'vitest';
import { parseContentRange } from '../src/index.js';

describe('parseContentRange', () => {
  it('reads a satisfied range', () => {
    expect(parseContentRange('bytes 0-99/1000')).toEqual({ kind: 'range', start: 0, end: 99, size: 1000 });
    expect(parseContentRange('BYTES 5-5/6')).toEqual({ kind: 'range', start: 5, end: 5, size: 6 });
  });

  it('reads an unknown total', () => {
    expect(parseContentRange('bytes 10-19/*')).toEqual({ kind: 'range', start: 10, end: 19, size: undefined });
  });

  it('reads the 416 form', () => {
    expect(parseContentRange('bytes */0')).toEqual({ kind: 'unsatisfied', size: 0 });
    expect(parseContentRange('bytes */1234')).toEqual({ kind: 'unsatisfied', size: 1234 });
  });

  it('rejects malformed and inconsistent values', () => {
    for (const value of ['', 'bytes', 'bytes 0-99', 'items 0-9/10', 'bytes 9-0/10', 'bytes 0-10/10', 'bytes -1-5/10',
      'bytes 0-1/99999999999999999999', 'bytes */*', 'bytes 0-9/10, bytes 10-19/20']) {
      expect(parseContentRange(value), value).toBeUndefined();
    }
    expect(parseContentRange(undefined)).toBeUndefined();
  });
});
