// How much a connection gathers before one positioned write: FLUSH_BYTES while few writers are open
// in the process, less as more are (GATHER_BUDGET shared, never below MIN_FLUSH_BYTES), never for
// longer than GATHER_MS, and every writer the engine opens is closed again, whether its range ended,
// failed or was aborted.
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allAtOnce, Multiget } from '../src/index.js';
import { FileSink } from '../src/storage/FileSink.js';
import { FLUSH_BYTES, GATHER_BUDGET, GATHER_MS, joinAdjacent, MIN_FLUSH_BYTES, SegmentWriter } from '../src/transfer/SegmentWriter.js';
import { CHUNK, ChunkedPlugin } from './helpers/ChunkedPlugin.js';
import { pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

const KiB = 1024;
const MiB = 1024 * KiB;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-gather-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Opens `n` writers that gather nothing, as other connections of the process would. */
async function openSome(n: number): Promise<{ close(): Promise<void> }> {
  const path = join(dir, `others-${n}.bin`);
  const sink = new FileSink(await open(path, 'w+'), path);
  const writers = Array.from({ length: n }, () => new SegmentWriter(sink, undefined, { id: 0, start: 0, end: MiB, pos: 0 }));
  return {
    async close() {
      for (const w of writers) w.close();
      await sink.close();
    },
  };
}

describe('SegmentWriter: what a connection gathers before a write', () => {
  it('follows the number of writers open: the budget shared, between the floor and the ceiling', async () => {
    expect(SegmentWriter.flushBytes).toBe(FLUSH_BYTES);
    const sixteen = await openSome(GATHER_BUDGET / FLUSH_BYTES);
    expect(SegmentWriter.flushBytes).toBe(FLUSH_BYTES);
    const more = await openSome(16);
    expect(SegmentWriter.flushBytes).toBe(GATHER_BUDGET / 32);
    const many = await openSome(100);
    expect(SegmentWriter.flushBytes).toBe(MIN_FLUSH_BYTES);
    await many.close();
    await more.close();
    expect(SegmentWriter.flushBytes).toBe(FLUSH_BYTES);
    await sixteen.close();
    expect(SegmentWriter.flushBytes).toBe(FLUSH_BYTES);
  });

  it('closing a writer twice counts once', async () => {
    const path = join(dir, 'twice.bin');
    const sink = new FileSink(await open(path, 'w+'), path);
    const others = await openSome(16);
    const w = new SegmentWriter(sink, undefined, { id: 0, start: 0, end: MiB, pos: 0 });
    expect(SegmentWriter.flushBytes).toBeLessThan(FLUSH_BYTES);
    w.close();
    w.close();
    expect(SegmentWriter.flushBytes).toBe(FLUSH_BYTES);
    await others.close();
    await sink.close();
  });

  it('one stream alone writes FLUSH_BYTES at a time, and the file is right', async () => {
    const data = pseudoRandom(3 * MiB + 5 * CHUNK + 123, 31);
    const plugin = new ChunkedPlugin(data, { written: 'count' });
    const mg = new Multiget({ plugins: [plugin] });
    await mg.download('mem://h/one.bin', { dir, connections: 1 }).done;
    await mg.close();
    expect(SegmentWriter.openWriters).toBe(0);
    expect(sha256(await readFile(join(dir, 'one.bin')))).toBe(sha256(data));
    expect(plugin.writes.slice(0, 3)).toEqual([FLUSH_BYTES, FLUSH_BYTES, FLUSH_BYTES]);
    expect(plugin.writes.reduce((a, b) => a + b, 0)).toBe(data.length);
    expect(SegmentWriter.flushBytes).toBe(FLUSH_BYTES);
  });

  it("a source's gatherBytes caps what its connection gathers before a write, and never raises it", async () => {
    const data = pseudoRandom(2 * MiB + 3 * CHUNK + 9, 34);
    const small = new ChunkedPlugin(data, { written: 'count', gatherBytes: 3 * CHUNK });
    const mg = new Multiget({ plugins: [small] });
    await mg.download('mem://h/capped.bin', { dir, connections: 1 }).done;
    expect(sha256(await readFile(join(dir, 'capped.bin')))).toBe(sha256(data));
    expect(small.writes.slice(0, 8)).toEqual(Array(8).fill(3 * CHUNK));
    await mg.close();
    // Above what the open writers allow, it changes nothing.
    const big = new ChunkedPlugin(data, { written: 'count', gatherBytes: 4 * FLUSH_BYTES, scheme: 'big:' });
    const mg2 = new Multiget({ plugins: [big] });
    await mg2.download('big://h/uncapped.bin', { dir, connections: 1 }).done;
    await mg2.close();
    expect(big.writes.slice(0, 2)).toEqual([FLUSH_BYTES, FLUSH_BYTES]);
  });

  it('with many writers open elsewhere in the process, a stream writes MIN_FLUSH_BYTES at a time', async () => {
    const others = await openSome(100);
    try {
      const data = pseudoRandom(2 * MiB + 77, 32);
      const plugin = new ChunkedPlugin(data, { written: 'count' });
      const mg = new Multiget({ plugins: [plugin] });
      await mg.download('mem://h/small.bin', { dir, connections: 1 }).done;
      await mg.close();
      expect(sha256(await readFile(join(dir, 'small.bin')))).toBe(sha256(data));
      expect(plugin.writes.slice(0, 8)).toEqual(Array(8).fill(MIN_FLUSH_BYTES));
    } finally {
      await others.close();
    }
    expect(SegmentWriter.flushBytes).toBe(FLUSH_BYTES);
  });

  it('the engine closes the writers of ranges that failed, were aborted or were split, not only of those that ended', async () => {
    const data = pseudoRandom(8 * MiB + 1, 33);
    const plugin = new ChunkedPlugin(data, { written: 'count' });
    plugin.failAt = 3 * CHUNK;
    const mg = new Multiget({ plugins: [plugin], minSplitSize: 256 * KiB });
    await mg.download('mem://h/retried.bin', { dir, connections: 4 }).done;
    expect(sha256(await readFile(join(dir, 'retried.bin')))).toBe(sha256(data));
    expect(SegmentWriter.openWriters).toBe(0);

    const slow = new ChunkedPlugin(pseudoRandom(64 * MiB, 34), { written: 'count' });
    const mg2 = new Multiget({ plugins: [slow] });
    const d = mg2.download('mem://h/aborted.bin', { dir, connections: 4 });
    while (slow.writes.length === 0) await yieldToLoop();
    expect(SegmentWriter.openWriters).toBeGreaterThan(0);
    await d.pause();
    expect(SegmentWriter.openWriters).toBe(0);
    await mg.close();
    await mg2.close();
  });

  it('a split never cuts below the bytes a connection has gathered: no byte is fetched twice (regression: they were dropped and fetched again)', async () => {
    // Four segments of 1 MiB. The first connection gathers 768 KiB at once, then slows down; the
    // others finish and split its segment while those bytes wait for its write. Counted from its
    // written position the cut would fall at 512 KiB, inside them.
    const data = pseudoRandom(4 * MiB, 35);
    const plugin = new ChunkedPlugin(data, { written: 'count' });
    plugin.slowAfter = 12 * CHUNK;
    const splits: number[] = [];
    const mg = new Multiget({ plugins: [plugin], minSplitSize: 64 * KiB, connectionPolicy: allAtOnce });
    const d = mg.download('mem://h/split.bin', { dir, connections: 4 });
    d.on('split', (s) => splits.push(s.at));
    await d.done;
    await mg.close();
    expect(sha256(await readFile(join(dir, 'split.bin')))).toBe(sha256(data));
    expect(splits[0]).toBeGreaterThanOrEqual(12 * CHUNK);
    // A chunk that crosses a segment's new end is served whole and used in part: one per split at most.
    expect(plugin.served - data.length).toBeLessThanOrEqual(splits.length * CHUNK);
  });

  it('a write is due once enough is gathered, or once the first byte gathered waited GATHER_MS', async () => {
    const path = join(dir, 'due.bin');
    const sink = new FileSink(await open(path, 'w+'), path);
    const w = new SegmentWriter(sink, undefined, { id: 0, start: 0, end: 4 * MiB, pos: 0 });
    try {
      expect(w.due(1e9)).toBe(false);
      w.push(new Uint8Array(CHUNK), 1000);
      w.push(new Uint8Array(CHUNK), 1000 + GATHER_MS - 1);
      expect(w.due(1000 + GATHER_MS - 1)).toBe(false);
      expect(w.due(1000 + GATHER_MS)).toBe(true);
      await w.flush();
      // The clock starts again with the next byte gathered.
      w.push(new Uint8Array(CHUNK), 5000);
      expect(w.due(5000 + GATHER_MS - 1)).toBe(false);
      for (let n = CHUNK; n < FLUSH_BYTES; n += CHUNK) w.push(new Uint8Array(CHUNK), 5001);
      expect(w.due(5001)).toBe(true);
      await w.flush();
    } finally {
      w.close();
      await sink.close();
    }
  });

  it('a slow link\'s bytes are written every GATHER_MS or so, not once per FLUSH_BYTES', async () => {
    // 30 ms a chunk: a write is due at the first chunk that comes GATHER_MS or more after the first one gathered.
    const data = pseudoRandom(MiB, 36);
    const plugin = new ChunkedPlugin(data, { written: 'count' });
    plugin.slowAfter = 0;
    const mg = new Multiget({ plugins: [plugin] });
    await mg.download('mem://h/slow.bin', { dir, connections: 1 }).done;
    await mg.close();
    expect(sha256(await readFile(join(dir, 'slow.bin')))).toBe(sha256(data));
    expect(plugin.writes.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...plugin.writes)).toBeLessThanOrEqual(Math.ceil(GATHER_MS / 30 + 1) * CHUNK);
  });
});

/** A writer of a 100-byte segment into a file of its own, and what it tells the source. */
async function oneWriter(name: string) {
  const path = join(dir, name);
  const sink = new FileSink(await open(path, 'w+'), path);
  const told: Uint8Array[] = [];
  const seg = { id: 0, start: 0, end: 100, pos: 0 };
  const w = new SegmentWriter(sink, undefined, seg, undefined, (chunks) => told.push(...chunks));
  return { path, sink, told, seg, w };
}

describe('SegmentWriter: what the source is told it holds no more', () => {
  it('the chunks of each write once written, and the bytes past a split at once, so that every byte is told once', async () => {
    const { path, sink, told, seg, w } = await oneWriter('split.bin');
    const a = new Uint8Array(40).fill(1);
    const b = new Uint8Array(40).fill(2);
    const c = new Uint8Array(20).fill(3);
    w.push(a, 0);
    w.push(b, 0);
    w.push(c, 0);
    // The segment is split while all three are buffered: it ends at byte 50 now.
    seg.end = 50;
    await w.flush();
    w.close();
    await sink.close();
    expect((await readFile(path)).subarray(0, 50)).toEqual(Buffer.concat([a, b.subarray(0, 10)]));
    // b's last 30 bytes and all of c were dropped, a and b's first 10 written: 100 bytes in all, each once.
    expect(told.reduce((n, t) => n + t.byteLength, 0)).toBe(100);
    const byBuffer = new Map<ArrayBufferLike, number>();
    for (const t of told) byBuffer.set(t.buffer, (byBuffer.get(t.buffer) ?? 0) + t.byteLength);
    expect(byBuffer.get(a.buffer)).toBe(40);
    expect(byBuffer.get(b.buffer)).toBe(40);
    expect(byBuffer.get(c.buffer)).toBe(20);
  });
});

describe('SegmentWriter: a chunk freed before its write', () => {
  it('fails the write with MG_ERR_INTERNAL and writes nothing of the batch, rather than shifting the rest', async () => {
    const { path, sink, told, seg, w } = await oneWriter('freed.bin');
    const a = new Uint8Array(new ArrayBuffer(40)).fill(1);
    const b = new Uint8Array(new ArrayBuffer(40)).fill(2);
    w.push(a, 0);
    w.push(b, 0);
    // Freed while it waited (as releaseBuffer would): it reads as empty from now on.
    (a.buffer as ArrayBuffer & { transfer(n: number): ArrayBuffer }).transfer(0);
    await expect(w.flush()).rejects.toMatchObject({ code: 'MG_ERR_INTERNAL' });
    w.close();
    await sink.close();
    expect((await readFile(path)).length).toBe(0);
    expect(seg.pos).toBe(0);
    expect(told).toEqual([]);
  });
});

describe('SegmentWriter: neighbours in memory written as one view', () => {
  it('joins chunks that follow each other in one buffer (reads into a slab), not chunks of other buffers or with a gap', () => {
    const slab = new ArrayBuffer(100);
    const other = new ArrayBuffer(100);
    const a = new Uint8Array(slab, 0, 10);
    const b = new Uint8Array(slab, 10, 30);
    const c = new Uint8Array(slab, 40, 5);
    const gap = new Uint8Array(slab, 50, 10);
    const d = new Uint8Array(other, 60, 10);
    const e = new Uint8Array(slab, 60, 40);
    const out = joinAdjacent([a, b, c, gap, d, e]);
    expect(out.map((v) => [v.buffer === slab ? 'slab' : 'other', v.byteOffset, v.byteLength])).toEqual([
      ['slab', 0, 45],
      ['slab', 50, 10],
      ['other', 60, 10],
      ['slab', 60, 40],
    ]);
    // A chunk alone is passed on as it is.
    expect(out[2]).toBe(d);
    expect(joinAdjacent([])).toEqual([]);
  });

  it('the sink gets one view for a slab\'s reads back to back, the source is told of each chunk, and the file is right', async () => {
    const path = join(dir, 'joined.bin');
    const file = new FileSink(await open(path, 'w+'), path);
    const writes: Uint8Array[][] = [];
    const sink = { copiesChunks: true, write: (chunks: readonly Uint8Array[], pos: number) => (writes.push([...chunks]), file.write(chunks, pos)), sync: () => file.sync(), truncate: (n: number) => file.truncate(n), close: () => file.close() };
    const told: Uint8Array[] = [];
    const seg = { id: 0, start: 0, end: 100, pos: 0 };
    const w = new SegmentWriter(sink, undefined, seg, undefined, (chunks) => told.push(...chunks));
    const slab = new Uint8Array(pseudoRandom(100, 37));
    const pieces = [slab.subarray(0, 7), slab.subarray(7, 50), slab.subarray(50, 51), slab.subarray(51, 100)];
    for (const p of pieces) w.push(p, 0);
    await w.flush();
    w.close();
    await sink.close();
    expect(writes.map((chunks) => chunks.length)).toEqual([1]);
    expect(told).toEqual(pieces);
    expect(seg.pos).toBe(100);
    expect(await readFile(path)).toEqual(Buffer.from(slab));
  });
});
