import { describe, expect, it } from 'vitest';
import { isEncoded, parseLength, parseRetryAfter } from '../src/headerValues.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP-date relative to now, never negative', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:00:00 GMT', now)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});

describe('isEncoded', () => {
  it('treats identity and absence as unencoded', () => {
    expect(isEncoded({})).toBe(false);
    expect(isEncoded({ 'content-encoding': 'identity' })).toBe(false);
    expect(isEncoded({ 'content-encoding': ' Identity ' })).toBe(false);
  });

  it('treats any other coding as encoded', () => {
    expect(isEncoded({ 'content-encoding': 'gzip' })).toBe(true);
    expect(isEncoded({ 'content-encoding': 'identity, br' })).toBe(true);
  });
});

describe('parseLength', () => {
  it('reads decimal lengths only', () => {
    expect(parseLength('42')).toBe(42);
    expect(parseLength('0')).toBe(0);
    expect(parseLength('-1')).toBeUndefined();
    expect(parseLength('1e3')).toBeUndefined();
    expect(parseLength('99999999999999999999')).toBeUndefined();
    expect(parseLength(undefined)).toBeUndefined();
  });
});
