// Property tests of the state file parser: it reads whatever lies on disk beside a target, so no
// input may make it throw, and a state either validates fully (its segments tile the file, its
// block digests stand for bytes it claims) or is discarded.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateFile } from '../src/storage/StateFile.js';
import { type SavedState, parseSavedState } from '../src/storage/validateState.js';

type Seg = [number, number | null, number];

/** A valid state: segments that tile [0, size) in random order, digests only for claimed blocks. */
const validState: fc.Arbitrary<SavedState> = fc
  .record({
    size: fc.integer({ min: 0, max: 64 * 1024 * 1024 }),
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
    done: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 9, maxLength: 9 }),
    order: fc.array(fc.nat(), { minLength: 9, maxLength: 9 }),
    blockShift: fc.integer({ min: 16, max: 22 }),
    withBlocks: fc.boolean(),
    etag: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
  })
  .map(({ size, cuts, done, order, blockShift, withBlocks, etag }) => {
    const bounds = [...new Set([0, ...cuts.map((c) => Math.floor(c * size)), size])].sort((a, b) => a - b);
    const segments: Seg[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const [a, b] = [bounds[i]!, bounds[i + 1]!];
      segments.push([a, b, a + Math.floor(done[i]! * (b - a))]);
    }
    segments.sort((x, y) => (order[segments.indexOf(x)] ?? 0) - (order[segments.indexOf(y)] ?? 0));
    const blockSize = 2 ** blockShift;
    const digests: Array<string | null> = [];
    for (let i = 0; i < Math.ceil(size / blockSize); i++) {
      const from = i * blockSize;
      const to = Math.min(size, from + blockSize);
      const claimed = segments.every(([s, e, p]) => Math.min(p, to) >= Math.min(e ?? 0, to) || e! <= from || s >= to);
      digests.push(claimed ? (i % 16).toString(16).repeat(8) : null);
    }
    return {
      format: 'multiget-state' as const,
      version: 2 as const,
      target: 'f.bin',
      url: 'http://example.test/f.bin',
      finalUrl: 'http://example.test/f.bin',
      size,
      ranges: true,
      validators: etag === undefined ? {} : { etag },
      segments,
      ...(withBlocks ? { blocks: { algorithm: 'crc32' as const, size: blockSize, digests } } : {}),
      updatedAt: new Date(0).toISOString(),
    };
  });

/** The invariants every accepted state holds. */
function checkInvariants(s: SavedState): void {
  expect(s.format).toBe('multiget-state');
  expect(s.version).toBe(2);
  if (s.size === null) {
    expect(s.segments).toHaveLength(1);
    const [start, end, pos] = s.segments[0]!;
    expect([start, end]).toEqual([0, null]);
    s.blocks?.digests.forEach((d, i) => {
      if (d !== null) expect((i + 1) * s.blocks!.size).toBeLessThanOrEqual(pos);
    });
    for (const [a, n] of s.blocks?.runs ?? []) expect(a + n).toBeLessThanOrEqual(pos);
    return;
  }
  const sorted = [...s.segments].sort((a, b) => a[0] - b[0]);
  let next = 0;
  for (const [start, end, pos] of sorted) {
    expect(start).toBe(next);
    expect(end).not.toBeNull();
    expect(pos).toBeGreaterThanOrEqual(start);
    expect(pos).toBeLessThanOrEqual(end!);
    next = end!;
  }
  expect(next).toBe(s.size);
  if (s.blocks) {
    expect(s.blocks.digests).toHaveLength(Math.ceil(s.size / s.blocks.size));
    s.blocks.digests.forEach((d, i) => {
      if (d === null) return;
      const from = i * s.blocks!.size;
      const to = Math.min(s.size!, from + s.blocks!.size);
      let covered = 0;
      for (const [start, , pos] of s.segments) covered += Math.max(0, Math.min(pos, to) - Math.max(start, from));
      expect(covered).toBe(to - from);
    });
  }
}

/** Small edits of a valid state: most break it, some keep it valid. Either way the rule must hold. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('dropSegment' as const), i: fc.nat() }),
  fc.record({ kind: fc.constant('shift' as const), i: fc.nat(), field: fc.integer({ min: 0, max: 2 }), by: fc.integer({ min: -5000, max: 5000 }) }),
  fc.record({ kind: fc.constant('size' as const), by: fc.integer({ min: -5000, max: 5000 }) }),
  fc.record({ kind: fc.constant('field' as const), key: fc.constantFrom('format', 'version', 'target', 'url', 'ranges', 'validators', 'segments', 'blocks', 'size', 'updatedAt'), value: fc.jsonValue() }),
  fc.record({ kind: fc.constant('digest' as const), i: fc.nat(), value: fc.jsonValue() }),
);

function mutate(state: SavedState, m: unknown): unknown {
  const s = structuredClone(state) as unknown as Record<string, unknown> & { segments: unknown[]; blocks?: { digests: unknown[] } };
  const mm = m as { kind: string; i: number; field: number; by: number; key: string; value: unknown };
  switch (mm.kind) {
    case 'dropSegment':
      if (s.segments.length > 0) s.segments.splice(mm.i % s.segments.length, 1);
      break;
    case 'shift':
      if (s.segments.length > 0) {
        const seg = s.segments[mm.i % s.segments.length] as number[];
        seg[mm.field] = (seg[mm.field] ?? 0) + mm.by;
      }
      break;
    case 'size':
      s.size = (s.size as number) + mm.by;
      break;
    case 'field':
      s[mm.key] = mm.value;
      break;
    case 'digest':
      if (s.blocks && s.blocks.digests.length > 0) s.blocks.digests[mm.i % s.blocks.digests.length] = mm.value;
      break;
  }
  return s;
}

describe('parseSavedState (properties)', () => {
  it('accepts every valid state as it is', () => {
    fc.assert(
      fc.property(validState, (s) => {
        const parsed = parseSavedState(JSON.parse(JSON.stringify(s)));
        expect(parsed).toEqual(s);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on any JSON value, and what it accepts holds every invariant', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const parsed = parseSavedState(v);
        if (parsed) checkInvariants(parsed);
      }),
      { numRuns: 2000 },
    );
  });

  it('a mutated state either validates fully or is discarded', () => {
    fc.assert(
      fc.property(validState, mutation, (s, m) => {
        const parsed = parseSavedState(JSON.parse(JSON.stringify(mutate(s, m))));
        if (parsed) checkInvariants(parsed);
      }),
      { numRuns: 3000 },
    );
  });

  it('discards a state with a gap, an overlap, a segment out of range or done past its end', () => {
    const base = (segments: Seg[]): unknown => ({
      format: 'multiget-state',
      version: 2,
      target: 'f.bin',
      url: 'u',
      finalUrl: 'u',
      size: 100,
      ranges: true,
      validators: { etag: '"x"' },
      segments,
      updatedAt: '',
    });
    expect(parseSavedState(base([[0, 50, 50], [50, 100, 60]]))).toBeDefined();
    expect(parseSavedState(base([[0, 40, 40], [50, 100, 60]]))).toBeUndefined(); // gap
    expect(parseSavedState(base([[0, 60, 40], [50, 100, 60]]))).toBeUndefined(); // overlap
    expect(parseSavedState(base([[0, 50, 50], [50, 120, 60]]))).toBeUndefined(); // past the size
    expect(parseSavedState(base([[0, 50, 51], [50, 100, 60]]))).toBeUndefined(); // done > length
    expect(parseSavedState(base([[0, 50, 50]]))).toBeUndefined(); // short of the size
    expect(parseSavedState(base([]))).toBeUndefined();
  });
});

describe('StateFile.read (properties)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mg-state-prop-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads any bytes as a valid state, "corrupt", never an exception', async () => {
    const path = join(dir, 'x.mgstate');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
          fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? '')),
          fc.tuple(validState, mutation).map(([s, m]) => Buffer.from(JSON.stringify(mutate(s, m)))),
        ),
        async (bytes) => {
          await writeFile(path, bytes);
          const got = await new StateFile(path).read();
          expect(got).toBeDefined();
          if (got !== 'corrupt') checkInvariants(got!);
        },
      ),
      { numRuns: 300 },
    );
  });
});
