import { describe, expect, it } from 'vitest';
import { padEndToWidth, stringWidth, truncateToWidth } from '../src/display/width.js';

describe('terminal width of text', () => {
  it('counts ASCII one column a character', () => {
    expect(stringWidth('')).toBe(0);
    expect(stringWidth('big.iso')).toBe(7);
  });

  it('counts CJK, Hangul, kana and fullwidth forms two columns each', () => {
    expect(stringWidth('下载文件.iso')).toBe(12);
    expect(stringWidth('한국어')).toBe(6);
    expect(stringWidth('カタカナ')).toBe(8);
    expect(stringWidth('ＡＢＣ')).toBe(6);
    expect(stringWidth('𠀋')).toBe(2); // outside the BMP: two UTF-16 units, two columns
  });

  it('counts emoji pictures two columns, whatever their length in UTF-16 units', () => {
    expect(stringWidth('😀')).toBe(2);
    expect(stringWidth('👨‍👩‍👧‍👦')).toBe(2); // one cluster joined by ZWJ: 11 UTF-16 units
    expect(stringWidth('🇫🇷')).toBe(2);
    expect(stringWidth('❤️')).toBe(2); // text heart + VS16
    expect(stringWidth('❤')).toBe(1);
  });

  it('counts combining marks and control characters as nothing', () => {
    expect(stringWidth('e\u0301')).toBe(1); // e + combining acute
    expect(stringWidth('Zoë.txt')).toBe(7);
    expect(stringWidth('a\u200bb')).toBe(2); // zero-width space
    expect(stringWidth('\u0007')).toBe(0);
  });

  it('truncates by columns, never splitting a cluster, and pads by columns', () => {
    expect(truncateToWidth('下载文件.iso', 12)).toBe('下载文件.iso');
    expect(truncateToWidth('下载文件.iso', 6)).toBe('下载…');
    expect(stringWidth(truncateToWidth('下载文件.iso', 6))).toBe(5); // a wide character does not fit the 6th column
    expect(truncateToWidth('e\u0301e\u0301e\u0301', 2)).toBe('e\u0301…');
    expect(truncateToWidth('👨‍👩‍👧‍👦👨‍👩‍👧‍👦', 3)).toBe('👨‍👩‍👧‍👦…');
    expect(truncateToWidth('abc', 0)).toBe('');
    expect(padEndToWidth('下载', 6)).toBe('下载  ');
    expect(stringWidth(padEndToWidth('😀x', 10))).toBe(10);
  });
});
