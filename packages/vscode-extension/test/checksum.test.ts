import { describe, expect, it } from 'vitest';
import { normalizeChecksum, validateChecksum } from '../src/model/checksum';

const SHA256 = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

describe('normalizeChecksum', () => {
  it('accepts algo=hex, algo:hex and "SHA-256 hex", lower-casing the hex', () => {
    expect(normalizeChecksum(`sha256=${SHA256}`)).toBe(`sha256=${SHA256}`);
    expect(normalizeChecksum(`SHA-256: ${SHA256.toUpperCase()}`)).toBe(`sha256=${SHA256}`);
    expect(normalizeChecksum(`md5 ${'a'.repeat(32)}`)).toBe(`md5=${'a'.repeat(32)}`);
  });
  it('tells the algorithm of a bare digest from its length', () => {
    expect(normalizeChecksum(SHA256)).toBe(`sha256=${SHA256}`);
    expect(normalizeChecksum('b'.repeat(128))).toBe(`sha512=${'b'.repeat(128)}`);
    expect(normalizeChecksum('c'.repeat(40))).toBe(`sha1=${'c'.repeat(40)}`);
  });
  it('refuses wrong lengths, unknown algorithms and non-hex', () => {
    for (const bad of [`sha256=${SHA256.slice(1)}`, `crc32=${'a'.repeat(8)}`, 'z'.repeat(64), 'abc', `sha256=${SHA256}x`]) {
      expect(normalizeChecksum(bad)).toBeUndefined();
    }
  });
});

describe('validateChecksum', () => {
  it('lets an empty answer through (no checksum) and explains a bad one', () => {
    expect(validateChecksum('')).toBeUndefined();
    expect(validateChecksum(SHA256)).toBeUndefined();
    expect(validateChecksum('nope')).toMatch(/sha256=HEX/);
  });
});
