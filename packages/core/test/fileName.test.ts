import { describe, expect, it } from 'vitest';
import { fileNameFromUrl, sanitizeFileName } from '../src/util/fileName.js';

describe('sanitizeFileName', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\windows\\system32\\evil.dll', 'evil.dll'],
    ['/absolute/path.txt', 'path.txt'],
    ['.bashrc', 'bashrc'],
    ['..', 'download'],
    ['', 'download'],
    ['a\u0000b\nc.txt', 'abc.txt'],
    ['what?<is>:this|.txt', 'what__is__this_.txt'],
    ['evil\u202Etxt.exe', 'eviltxt.exe'],
    ['CON.txt', '_CON.txt'],
    ['trailing. . ', 'trailing'],
  ])('%j becomes %j', (input, expected) => {
    expect(sanitizeFileName(input)).toBe(expected);
  });

  it('keeps the name under 200 bytes and keeps the extension', () => {
    const out = sanitizeFileName(`${'é'.repeat(300)}.tar.gz`);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(200);
    expect(out.endsWith('.gz')).toBe(true);
  });
});

describe('fileNameFromUrl', () => {
  it('takes the last path segment, percent-decoded', () => {
    expect(fileNameFromUrl(new URL('http://h/dir/my%20file.iso?x=1'))).toBe('my file.iso');
    expect(fileNameFromUrl(new URL('http://h/dir/'))).toBe('dir');
    expect(fileNameFromUrl(new URL('http://h/'))).toBeUndefined();
    expect(fileNameFromUrl(new URL('http://h/%E0%A4%A'))).toBe('%E0%A4%A');
  });
});
