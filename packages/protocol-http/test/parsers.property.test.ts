// Property-based tests of the parsers that read what a server sends: Content-Disposition,
// Content-Range and the digest headers. Whatever the input, they return (never throw), and what
// they return keeps its promise: a name that, once sanitised, is one safe path component; a range
// inside the file; digests of the algorithm's length.
import { sanitizeFileName } from '@multiget/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseContentDisposition, parseContentRange, parseDigestHeaders } from '../src/index.js';

/** Header values as Node hands them over: one char per byte (ISO-8859-1), any byte but CR, LF and NUL. */
const headerValue = fc
  .array(fc.integer({ min: 0, max: 255 }).filter((b) => b !== 0x0d && b !== 0x0a && b !== 0x00), { maxLength: 200 })
  .map((bytes) => Buffer.from(bytes).toString('latin1'));

/** Strings biased towards the syntax the parsers look for, so the interesting branches are reached. */
function biased(pieces: string[]): fc.Arbitrary<string> {
  return fc.array(fc.oneof(fc.constantFrom(...pieces), headerValue.map((v) => v.slice(0, 8))), { maxLength: 24 }).map((p) => p.join(''));
}

const dispositionText = fc.oneof(
  headerValue,
  biased(['attachment', ';', ' ', 'filename', 'filename*', '=', '"', '\\', "UTF-8''", "iso-8859-1'en'", '%', '%2F', '%00', '%C3%A9', '..', '/', '\\', '.', 'CON', 'nul.txt', '\u00e9']),
);

/** What a safe name is: one path component that a file system takes as a plain new file. */
function expectSafeComponent(name: string): void {
  expect(name.length).toBeGreaterThan(0);
  expect(name).not.toMatch(/[/\\\0]/);
  expect(name).not.toMatch(/^\./);
  expect(name).not.toMatch(/[. ]$/);
  expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
  // eslint-disable-next-line no-control-regex
  expect(name).not.toMatch(/[\u0000-\u001f\u007f]/);
}

describe('parseContentDisposition (property)', () => {
  it('never throws; a name it returns is non-empty, and sanitised it is one safe path component', () => {
    fc.assert(
      fc.property(dispositionText, (value) => {
        const name = parseContentDisposition(value);
        if (name === undefined) return;
        expect(typeof name).toBe('string');
        expect(name).not.toBe('');
        expectSafeComponent(sanitizeFileName(name));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back any name sent as filename* (RFC 8187, UTF-8)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), fc.constantFrom('attachment', 'inline', ''), (name, type) => {
        const header = `${type}; filename*=UTF-8''${encodeURIComponent(name)}`;
        expect(parseContentDisposition(header)).toBe(name);
      }),
    );
  });

  it('reads back any printable ASCII name sent as a quoted filename', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 40 }), (name) => {
        const quoted = `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
        expect(parseContentDisposition(`attachment; filename=${quoted}`)).toBe(name);
      }),
    );
  });
});

const MAX = Number.MAX_SAFE_INTEGER;

describe('parseContentRange (property)', () => {
  it('never throws; a range it returns lies inside the file', () => {
    const text = fc.oneof(
      headerValue,
      biased(['bytes', 'BYTES', ' ', '\t', '-', '/', '*', '0', '1', '9', '99999999999999999999', String(MAX), String(MAX + 1)]),
    );
    fc.assert(
      fc.property(fc.option(text, { nil: undefined }), (value) => {
        const range = parseContentRange(value);
        if (range === undefined) return;
        if (range.kind === 'unsatisfied') {
          expect(Number.isSafeInteger(range.size) && range.size >= 0).toBe(true);
          return;
        }
        expect(Number.isSafeInteger(range.start) && range.start >= 0).toBe(true);
        expect(Number.isSafeInteger(range.end) && range.end >= range.start).toBe(true);
        if (range.size !== undefined) {
          expect(Number.isSafeInteger(range.size)).toBe(true);
          expect(range.end).toBeLessThan(range.size);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back every well-formed range, whatever the spacing and case', () => {
    const triple = fc
      .tuple(fc.integer({ min: 0, max: MAX - 1 }), fc.integer({ min: 0, max: MAX - 1 }), fc.integer({ min: 1, max: MAX }))
      .map(([a, b, c]) => [a, b, c].sort((x, y) => x - y) as [number, number, number])
      .filter(([, end, size]) => end < size);
    const space = fc.constantFrom('', ' ', '\t', '  ');
    fc.assert(
      fc.property(triple, space, space, fc.constantFrom('bytes', 'BYTES', 'Bytes'), ([start, end, size], s1, s2, unit) => {
        expect(parseContentRange(`${unit} ${start}${s1}-${s2}${end}/${size}`)).toEqual({ kind: 'range', start, end, size });
        expect(parseContentRange(`${unit} ${start}-${end}/*`)).toEqual({ kind: 'range', start, end, size: undefined });
        expect(parseContentRange(`${unit} */${size}`)).toEqual({ kind: 'unsatisfied', size });
      }),
    );
  });

  it('refuses a range that ends at or past the size', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), fc.nat({ max: 1_000_000 }), (size, extra) => {
        expect(parseContentRange(`bytes 0-${size + extra}/${size}`)).toBeUndefined();
      }),
    );
  });
});

const LENGTHS = { sha512: 64, sha256: 32, sha1: 20, md5: 16 } as const;
const ORDER = ['sha512', 'sha256', 'sha1', 'md5'];

describe('parseDigestHeaders (property)', () => {
  const digestText = fc.oneof(
    headerValue,
    biased(['sha-256', 'SHA-256', 'sha-512', 'sha', 'md5', 'MD5', '=', ':', ',', ';', ' ', 'AAAA', '==', '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', 'd41d8cd98f00b204e9800998ecf8427e']),
  );
  const headers = fc.record(
    {
      'repr-digest': fc.oneof(digestText, fc.array(digestText, { maxLength: 3 })),
      'content-digest': digestText,
      digest: fc.oneof(digestText, fc.array(digestText, { maxLength: 3 })),
      'content-md5': digestText,
    },
    { requiredKeys: [] },
  );

  it('never throws; every digest has its algorithm\'s length in lower-case hex, no duplicates, strongest first', () => {
    fc.assert(
      fc.property(headers, fc.constantFrom(200, 206), (map, status) => {
        const digests = parseDigestHeaders(map, status);
        const seen = new Set<string>();
        let last = -1;
        for (const d of digests) {
          expect(d.hex).toMatch(new RegExp(`^[0-9a-f]{${LENGTHS[d.algorithm] * 2}}$`));
          expect(d.source).toBe('server');
          const key = `${d.algorithm}:${d.hex}`;
          expect(seen.has(key)).toBe(false);
          seen.add(key);
          expect(ORDER.indexOf(d.algorithm)).toBeGreaterThanOrEqual(last);
          last = ORDER.indexOf(d.algorithm);
        }
        if (status === 206) {
          // Body digests describe the part on a 206: only representation digests may come back.
          const without = parseDigestHeaders({ ...map, 'content-digest': undefined, 'content-md5': undefined }, 206);
          expect(digests).toEqual(without);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back a digest of any bytes from Repr-Digest and Digest', () => {
    fc.assert(
      fc.property(fc.constantFrom(['sha-256', 'sha256', 32], ['sha-512', 'sha512', 64], ['sha', 'sha1', 20], ['md5', 'md5', 16]) as fc.Arbitrary<[string, 'sha256' | 'sha512' | 'sha1' | 'md5', number]>, fc.uint8Array({ minLength: 64, maxLength: 64 }), ([name, algorithm, length], raw) => {
        const bytes = Buffer.from(raw.subarray(0, length));
        const expected = [{ algorithm, hex: bytes.toString('hex'), source: 'server' }];
        expect(parseDigestHeaders({ 'repr-digest': `${name}=:${bytes.toString('base64')}:` }, 206)).toEqual(expected);
        expect(parseDigestHeaders({ digest: `${name.toUpperCase()}=${bytes.toString('base64')}` }, 206)).toEqual(expected);
      }),
    );
  });
});
