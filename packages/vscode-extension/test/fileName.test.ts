import { describe, expect, it } from 'vitest';
import { suggestedFileName, validateFileName } from '../src/model/fileName';

describe('validateFileName', () => {
  it('accepts ordinary names, trimmed', () => {
    for (const name of ['a.iso', 'Report 2026 (final).pdf', '  x.bin ', 'файл.txt', '.hidden']) expect(validateFileName(name), name).toBeUndefined();
  });
  it('refuses anything that is not one safe path component', () => {
    expect(validateFileName('')).toMatch(/Enter a file name/);
    expect(validateFileName('..')).toMatch(/not a file name/);
    expect(validateFileName('.')).toMatch(/not a file name/);
    expect(validateFileName('a/b')).toMatch(/not a path/);
    expect(validateFileName('..\\x')).toMatch(/not a path/);
    expect(validateFileName('a\u0000b')).toMatch(/control character/);
    expect(validateFileName('a\nb')).toMatch(/control character/);
    expect(validateFileName('a:b')).toMatch(/not allowed/);
    expect(validateFileName('CON')).toMatch(/reserved/);
    expect(validateFileName('nul.txt')).toMatch(/reserved/);
    expect(validateFileName('name.')).toMatch(/end with a dot/);
    expect(validateFileName('x'.repeat(256))).toMatch(/longer than 255 bytes/);
    expect(validateFileName('é'.repeat(128))).toMatch(/longer than 255 bytes/);
    expect(validateFileName('a.iso.mgpart')).toMatch(/partial files/);
    expect(validateFileName('a.MGSTATE')).toMatch(/partial files/);
  });
});

describe('suggestedFileName', () => {
  it('takes the decoded last path segment', () => {
    expect(suggestedFileName('https://a.example/dir/My%20File.iso?x=1')).toBe('My File.iso');
  });
  it('gives nothing when the segment is missing or unsafe', () => {
    expect(suggestedFileName('https://a.example/')).toBe('');
    expect(suggestedFileName('https://a.example/a%2Fb')).toBe('');
    expect(suggestedFileName('not a url')).toBe('');
  });
});
