// Property-based tests of the aria2-style input file reader: whatever the file holds, it returns
// entries or throws a UsageError that names the line, and what it returns is what the file says.
import { isDownloadError } from '@multiget/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInputFile, type InputEntry } from '../src/input/parseInputFile.js';

const PIECES = [
  'http://h/f', 'https://example.com/a b', 'ftp://x/y', '#', ' ', '\t', '\n', '\r\n', '\r', '=', '\uFEFF',
  'out=', 'dir=', 'checksum=', 'sha256=', 'sha-256=', 'header=', 'X-A: b', ':', 'split=', 'max-connection-per-server=',
  'max-download-limit=', '1K', '0', '257', '8', '-1', 'abc', 'unknown=1', '\0', '\u2028',
];
const fileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 6 })), { maxLength: 40 }).map((p) => p.join('')),
);

describe('parseInputFile (property)', () => {
  it('returns entries or throws a UsageError naming FILE:LINE, nothing else', () => {
    fc.assert(
      fc.property(fileText, (text) => {
        let entries: InputEntry[];
        try {
          entries = parseInputFile(text, 'list.txt');
        } catch (err) {
          expect(isDownloadError(err)).toBe(true);
          expect((err as { code: string }).code).toMatch(/^MG_ERR_INVALID_(OPTION|CHECKSUM)$/);
          expect((err as Error).message).toMatch(/^list\.txt:\d+: /);
          return;
        }
        let previous = 0;
        for (const e of entries) {
          expect(e.url).not.toBe('');
          expect(e.url).not.toMatch(/\s/);
          expect(e.url.startsWith('#')).toBe(false);
          expect(e.line).toBeGreaterThan(previous);
          previous = e.line;
          expect(e.where).toBe(`list.txt:${e.line}`);
          if (e.connections !== undefined) expect(Number.isInteger(e.connections) && e.connections >= 1 && e.connections <= 256).toBe(true);
          if (e.rateLimit !== undefined) expect(Number.isSafeInteger(e.rateLimit) && e.rateLimit >= 1).toBe(true);
          if (e.out !== undefined) expect(e.out).not.toBe('');
          if (e.dir !== undefined) expect(e.dir).not.toBe('');
          for (const [name, value] of e.headers) {
            expect(name).toMatch(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/);
            expect(value).not.toMatch(/[\r\n\0]/);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('reads back every entry it is given, whatever the indentation and line endings', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/);
    const entry = fc.record({
      url: token.map((t) => `https://host.example/${t}`),
      out: fc.option(token, { nil: undefined }),
      connections: fc.option(fc.integer({ min: 1, max: 256 }), { nil: undefined }),
      rateLimit: fc.option(fc.integer({ min: 1, max: 2 ** 40 }), { nil: undefined }),
      headers: fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/), token), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 6 }), fc.constantFrom(' ', '\t', '  '), fc.constantFrom('\n', '\r\n'), (list, indent, eol) => {
        const lines: string[] = [];
        for (const e of list) {
          lines.push(e.url, '# a comment', '');
          if (e.out !== undefined) lines.push(`${indent}out=${e.out}`);
          if (e.connections !== undefined) lines.push(`${indent}split=${e.connections}`);
          if (e.rateLimit !== undefined) lines.push(`${indent}max-download-limit=${e.rateLimit}`);
          for (const [k, v] of e.headers) lines.push(`${indent}header=${k}: ${v}`);
        }
        const parsed = parseInputFile(lines.join(eol), 'in');
        expect(parsed.map((p) => ({ url: p.url, out: p.out, connections: p.connections, rateLimit: p.rateLimit, headers: p.headers }))).toEqual(list);
      }),
    );
  });
});
