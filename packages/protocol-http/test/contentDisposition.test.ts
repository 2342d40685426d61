import { describe, expect, it } from 'vitest';
import { parseContentDisposition } from '../src/index.js';

/** Node.js hands header bytes over as ISO-8859-1 chars; this is what a raw UTF-8 header looks like. */
function asHeaderBytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

describe('parseContentDisposition', () => {
  it('reads a quoted filename', () => {
    expect(parseContentDisposition('attachment; filename="report.pdf"')).toBe('report.pdf');
  });

  it('reads a token filename', () => {
    expect(parseContentDisposition('attachment; filename=report.pdf')).toBe('report.pdf');
  });

  it('prefers filename* over filename, wherever it appears', () => {
    expect(parseContentDisposition(`attachment; filename*=UTF-8''%E2%82%AC%20rates.txt; filename="EUR rates.txt"`)).toBe('€ rates.txt');
    expect(parseContentDisposition(`attachment; filename="EUR rates.txt"; filename*=UTF-8''%E2%82%AC%20rates.txt`)).toBe('€ rates.txt');
  });

  it('percent-decodes UTF-8 filename*', () => {
    expect(parseContentDisposition(`attachment; filename*=UTF-8''%E2%82%AC.txt`)).toBe('€.txt');
  });

  it('decodes ISO-8859-1 filename* and ignores the language tag', () => {
    expect(parseContentDisposition(`attachment; filename*=iso-8859-1'de'%E4pfel.txt`)).toBe('äpfel.txt');
  });

  it('falls back to filename when filename* is malformed or of an unknown charset', () => {
    expect(parseContentDisposition(`attachment; filename*=UTF-8''%ZZ.txt; filename="plain.txt"`)).toBe('plain.txt');
    expect(parseContentDisposition(`attachment; filename*=UTF-8''%FF.txt; filename="plain.txt"`)).toBe('plain.txt');
    expect(parseContentDisposition(`attachment; filename*=koi8-r''%C1.txt; filename="plain.txt"`)).toBe('plain.txt');
    expect(parseContentDisposition(`attachment; filename*=no-quotes.txt; filename="plain.txt"`)).toBe('plain.txt');
  });

  it('unescapes backslashes in quoted strings', () => {
    expect(parseContentDisposition('attachment; filename="a \\"quoted\\" \\\\ name.txt"')).toBe('a "quoted" \\ name.txt');
  });

  it('keeps semicolons and equals signs inside quotes', () => {
    expect(parseContentDisposition('attachment; filename="a;b=c.txt"; size=3')).toBe('a;b=c.txt');
  });

  it('matches parameter names case-insensitively and tolerates spaces', () => {
    expect(parseContentDisposition('ATTACHMENT ; FileName = "x.bin"')).toBe('x.bin');
  });

  it('returns hostile names verbatim, since sanitising is the core\'s job', () => {
    expect(parseContentDisposition('attachment; filename="../../etc/passwd"')).toBe('../../etc/passwd');
    expect(parseContentDisposition(`attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd`)).toBe('../../etc/passwd');
    expect(parseContentDisposition('attachment; filename="C:\\\\Windows\\\\evil.exe"')).toBe('C:\\Windows\\evil.exe');
  });

  it('decodes raw UTF-8 sent in a plain filename', () => {
    expect(parseContentDisposition(asHeaderBytes('attachment; filename="résumé €.pdf"'))).toBe('résumé €.pdf');
  });

  it('keeps genuine ISO-8859-1 in a plain filename', () => {
    expect(parseContentDisposition('attachment; filename="caf\u00e9.txt"')).toBe('café.txt');
  });

  it('tolerates a missing disposition type and an unterminated quote', () => {
    expect(parseContentDisposition('filename="x.txt"')).toBe('x.txt');
    expect(parseContentDisposition('attachment; filename="unterminated.txt')).toBe('unterminated.txt');
  });

  it('takes the first of repeated parameters', () => {
    expect(parseContentDisposition('attachment; filename="first.txt"; filename="second.txt"')).toBe('first.txt');
  });

  it('returns undefined without a usable file name', () => {
    expect(parseContentDisposition('inline')).toBeUndefined();
    expect(parseContentDisposition('attachment')).toBeUndefined();
    expect(parseContentDisposition('attachment; filename=""')).toBeUndefined();
    expect(parseContentDisposition('attachment; filename=')).toBeUndefined();
    expect(parseContentDisposition('')).toBeUndefined();
    expect(parseContentDisposition(';;;=;"')).toBeUndefined();
  });
});
