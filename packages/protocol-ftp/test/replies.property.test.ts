// Property-based tests of what Multiget reads from FTP replies itself: SIZE and MDTM. Any reply
// gives a usable value or none, never a throw, never a number that is not one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMdtm } from '../src/parseMdtm.js';
import { parseSizeReply } from '../src/parseSizeReply.js';

const replyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.array(fc.oneof(fc.constantFrom('213', '213 ', '213-', ' ', '\t', '.', '0', '9', '99999999999999999999', '9007199254740993', '-1', '1e3', '0x10', '20240229', '235959', '.123'), fc.string({ maxLength: 4 })), { maxLength: 10 }).map((p) => p.join('')),
);

describe('SIZE replies (property)', () => {
  it('any reply gives a safe non-negative integer or undefined', () => {
    fc.assert(
      fc.property(replyText, (reply) => {
        const size = parseSizeReply(reply);
        if (size !== undefined) expect(Number.isSafeInteger(size) && size >= 0).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads back every size up to 2^53 - 1, and refuses the larger ones rather than round them', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n }), fc.constantFrom('', ' ', '  '), (size, trailing) => {
        const parsed = parseSizeReply(`213 ${size}${trailing}`);
        expect(parsed).toBe(size <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(size) : undefined);
      }),
    );
  });
});

describe('MDTM replies (property)', () => {
  it('any reply gives a whole number of milliseconds of a real date, or undefined', () => {
    fc.assert(
      fc.property(replyText, (reply) => {
        const ms = parseMdtm(reply);
        if (ms !== undefined) expect(Number.isSafeInteger(ms)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads back every UTC time from year 1000 to 9999, with or without fractions', () => {
    const date = fc.date({ min: new Date(Date.UTC(1000, 0, 1)), max: new Date(Date.UTC(9999, 11, 31, 23, 59, 59)), noInvalidDate: true });
    fc.assert(
      fc.property(date, fc.boolean(), (d, withMs) => {
        const p = (n: number, w = 2): string => String(n).padStart(w, '0');
        const text = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
        const expected = Math.floor(d.getTime() / 1000) * 1000 + (withMs ? d.getUTCMilliseconds() : 0);
        expect(parseMdtm(`213 ${text}${withMs ? `.${p(d.getUTCMilliseconds(), 3)}` : ''}`)).toBe(expected);
      }),
    );
  });
});
