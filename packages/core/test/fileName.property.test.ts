// Property tests of the one function that turns a server's suggestion into a file name: whatever
// the input, the output is a single safe path component on Linux, macOS and Windows, and never
// the name of a Multiget sidecar file.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWindowsDeviceName, sanitizeFileName } from '../src/util/fileName.js';
import { isSidecarName } from '../src/storage/sidecars.js';

/** Pieces that hostile names are made of, so that random strings hit the interesting cases often. */
const pieces = [
  'CON', 'con', 'PRN', 'aux', 'NUL', 'COM1', 'com9', 'LPT1', 'lpt\u00b9', 'COM\u00b2', 'COM\u00b3', 'CONIN$', 'conout$',
  '.', '..', ' ', '/', '\\', '.mgstate', '.MGPART', '.mglock', '.mgstate.tmp', '.mglock.stale-12', '.mglock.new-12', '.tmp', '.txt',
  'f.bin', '\u0000', '\n', '\u007f', '\u202e', '\u2066', ':', '*', '?', '"', '<', '>', '|', 'é', 'e\u0301', '\ud800',
  '\udc00', '😀', '\u3000', '\u00a0', 'a'.repeat(120), 'é'.repeat(70),
];

const hostileName = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 4 })), { maxLength: 12 }).map((a) => a.join('')),
);

function isSafeComponent(name: string): void {
  expect(name.length).toBeGreaterThan(0);
  expect(name).not.toMatch(/[/\\]/);
  // eslint-disable-next-line no-control-regex
  expect(name).not.toMatch(/[\u0000-\u001f\u007f-\u009f<>:"|?*]/);
  expect(name === '.' || name === '..').toBe(false);
  expect(name.startsWith('.')).toBe(false);
  expect(name).not.toMatch(/[. ]$/);
  expect(name).toBe(name.trim());
  expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
  expect(isWindowsDeviceName(name)).toBe(false);
  expect(isSidecarName(name)).toBe(false);
  // Well-formed UTF-16: what reaches the disk is exactly this name.
  expect(Buffer.from(name, 'utf8').toString('utf8')).toBe(name);
}

describe('sanitizeFileName (properties)', () => {
  it('turns any input into a single safe path component', () => {
    fc.assert(
      fc.property(hostileName, (input) => {
        isSafeComponent(sanitizeFileName(input));
      }),
      { numRuns: 3000 },
    );
  });

  it('is idempotent: a safe name is kept as it is', () => {
    fc.assert(
      fc.property(hostileName, (input) => {
        const once = sanitizeFileName(input);
        expect(sanitizeFileName(once)).toBe(once);
      }),
      { numRuns: 2000 },
    );
  });

  // Regression (a CI run's seed -794841560): a name cut to the limit that then got its sidecar mark
  // was cut again by a second pass. Every reserved suffix and device name, at every length around
  // the limit, is kept by a second pass.
  it('is idempotent at the length limit, for every name that gets a mark', () => {
    const marked = ['.mgstate', '.mgpart', '.mglock', '.mgstate.tmp', '.mglock.stale-12', '.mglock.new-12'];
    for (let length = 190; length <= 210; length++) {
      for (const suffix of marked) {
        for (const input of ['a'.repeat(length) + suffix, 'é'.repeat(length / 2) + suffix, `CON.${'a'.repeat(length)}${suffix}`]) {
          const once = sanitizeFileName(input);
          isSafeComponent(once);
          expect(sanitizeFileName(once), input).toBe(once);
        }
      }
    }
    const cut = sanitizeFileName(`${'a'.repeat(260)}.mgstate`);
    expect(cut).toMatch(/^a+\.mgstate_$/);
    expect(Buffer.byteLength(cut)).toBe(200);
  });

  it('never changes an ordinary name', () => {
    const ordinary = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,40}(\.[a-z0-9]{1,5})?$/).filter(
      (n) => !isWindowsDeviceName(n) && !isSidecarName(n),
    );
    fc.assert(
      fc.property(ordinary, (n) => {
        expect(sanitizeFileName(n)).toBe(n);
      }),
    );
  });
});

describe('names Windows refuses and sidecar names', () => {
  it.each([
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['Nul.tar.gz', '_Nul.tar.gz'],
    ['COM0', '_COM0'],
    ['com7.log', '_com7.log'],
    ['LPT9', '_LPT9'],
    ['COM\u00b9', '_COM\u00b9'],
    ['lpt\u00b3.txt', '_lpt\u00b3.txt'],
    ['CONIN$', '_CONIN$'],
    ['conout$.x', '_conout$.x'],
    ['AUX .txt', '_AUX .txt'],
    ['name. . .', 'name'],
    ['name   ', 'name'],
    ['COM10', 'COM10'],
    ['CONSOLE', 'CONSOLE'],
    ['f.bin.mgstate', 'f.bin.mgstate_'],
    ['f.bin.MGPART', 'f.bin.MGPART_'],
    ['f.bin.mglock', 'f.bin.mglock_'],
    ['f.bin.mgstate.tmp', 'f.bin.mgstate.tmp_'],
    ['f.bin.mgstate. ', 'f.bin.mgstate_'],
    ['.mgpart', 'mgpart'],
  ])('%j becomes %j', (input, expected) => {
    expect(sanitizeFileName(input)).toBe(expected);
  });
});
