import { describe, expect, it } from 'vitest';
import { parseMdtm } from '../src/index.js';

describe('parseMdtm', () => {
  it('reads a 213 reply as UTC milliseconds', () => {
    expect(parseMdtm('213 20240229235958')).toBe(Date.UTC(2024, 1, 29, 23, 59, 58));
    expect(parseMdtm('20000101000000')).toBe(Date.UTC(2000, 0, 1));
  });

  it('keeps milliseconds of a fractional time', () => {
    expect(parseMdtm('213 20240101120000.5')).toBe(Date.UTC(2024, 0, 1, 12, 0, 0, 500));
    expect(parseMdtm('213 20240101120000.123456')).toBe(Date.UTC(2024, 0, 1, 12, 0, 0, 123));
  });

  it('gives undefined for impossible dates and other text', () => {
    expect(parseMdtm('213 20230229000000')).toBeUndefined();
    expect(parseMdtm('213 2024010112')).toBeUndefined();
    expect(parseMdtm('550 Could not get file modification time.')).toBeUndefined();
    expect(parseMdtm('213 20240101120060')).toBeUndefined();
  });
});
