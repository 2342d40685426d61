// A source is told which chunks the engine wrote (ByteSource.written), when the storage copies them (a
// file), so that it can free their memory at once instead of waiting for the garbage collector;
// releaseBuffer frees only a chunk that is its whole buffer, never an empty one.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allAtOnce, MemoryStorage, Multiget } from '../src/index.js';
import { SegmentWriter } from '../src/transfer/SegmentWriter.js';
import { releaseBuffer } from '../src/index.js';
import { FileSink } from '../src/storage/FileSink.js';
import { open } from 'node:fs/promises';
import { CHUNK, ChunkedPlugin } from './helpers/ChunkedPlugin.js';
import { pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

const MiB = 1024 * 1024;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-fresh-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ByteSource.written', () => {
  it('a source that frees what it is told was written, to a file: every chunk is freed, and the file is right', async () => {
    const data = pseudoRandom(3 * MiB + 12_345, 21);
    const plugin = new ChunkedPlugin(data, { scheme: 'fresh:', written: 'release', keep: true });
    const mg = new Multiget({ plugins: [plugin] });
    await mg.download('fresh://h/a.bin', { dir, connections: 1 }).done;
    await mg.close();
    expect(sha256(await readFile(join(dir, 'a.bin')))).toBe(sha256(data));
    expect(plugin.yielded.length).toBeGreaterThan(40);
    expect(plugin.yielded.filter((c) => c.byteLength !== 0)).toEqual([]);
  });

  it('several connections with splits: the file is right, whatever was freed', async () => {
    const data = pseudoRandom(6 * MiB + 999, 22);
    const plugin = new ChunkedPlugin(data, { scheme: 'fresh:', written: 'release', keep: true });
    const mg = new Multiget({ plugins: [plugin], minSplitSize: 128 * 1024, connectionPolicy: allAtOnce });
    await mg.download('fresh://h/b.bin', { dir, connections: 6 }).done;
    await mg.close();
    expect(sha256(await readFile(join(dir, 'b.bin')))).toBe(sha256(data));
    expect(plugin.yielded.some((c) => c.byteLength === 0)).toBe(true);
  });

  it('a source without written keeps its chunks', async () => {
    const data = pseudoRandom(MiB, 23);
    const plugin = new ChunkedPlugin(data, { scheme: 'fresh:', keep: true });
    const mg = new Multiget({ plugins: [plugin] });
    await mg.download('fresh://h/c.bin', { dir, connections: 1 }).done;
    await mg.close();
    expect(plugin.yielded.every((c) => c.byteLength > 0)).toBe(true);
  });

  it('a storage that keeps the chunks (in memory) never tells the source: they stay intact', async () => {
    const data = pseudoRandom(2 * MiB + 7, 24);
    const plugin = new ChunkedPlugin(data, { scheme: 'fresh:', written: 'release', keep: true });
    const store = new MemoryStorage();
    const mg = new Multiget({ plugins: [plugin, store] });
    await mg.download('fresh://h/d.bin', { dir, connections: 1 }).done;
    await mg.close();
    expect(plugin.yielded.every((c) => c.byteLength > 0)).toBe(true);
    expect(sha256(Buffer.from(store.files.get('d.bin')!))).toBe(sha256(data));
  });
});

describe('SegmentWriter and releaseBuffer', () => {
  it('never frees an empty chunk (a library\'s shared empty buffer)', () => {
    const empty = new Uint8Array(0);
    expect(releaseBuffer(empty)).toBe(false);
    expect((empty.buffer as ArrayBuffer & { detached?: boolean }).detached).toBe(false);
  });

  it('frees only chunks that span their whole ArrayBuffer: a view of part of one keeps it', async () => {
    const shared = new Uint8Array(4096).fill(7);
    const head = shared.subarray(0, 1000);
    const tail = shared.subarray(1000);
    const whole = new Uint8Array(2048).fill(9);
    releaseBuffer(head);
    releaseBuffer(whole);
    expect(head.byteLength).toBe(1000);
    expect(tail[0]).toBe(7);
    expect(whole.byteLength).toBe(0);
  });

  it('with unusedBefore, also frees a chunk that runs to its buffer\'s end, never one that stops short', () => {
    const read = new Uint8Array(4096);
    const middle = read.subarray(100, 4000);
    expect(releaseBuffer(middle, { unusedBefore: true })).toBe(false);
    expect(read.byteLength).toBe(4096);
    const rest = read.subarray(100);
    expect(releaseBuffer(rest)).toBe(false);
    expect(releaseBuffer(rest, { unusedBefore: true })).toBe(true);
    expect(read.byteLength).toBe(0);
    expect(releaseBuffer(new Uint8Array(8).subarray(8), { unusedBefore: true })).toBe(false);
  });

  it('a writer tells of each write once it resolved; the bytes on disk are the bytes received', async () => {
    const path = join(dir, 'w.bin');
    const sink = new FileSink(await open(path, 'w+'), path);
    const seg = { id: 0, start: 0, end: 3 * CHUNK, pos: 0 };
    const told: Uint8Array[][] = [];
    const writer = new SegmentWriter(sink, undefined, seg, undefined, (c) => {
      told.push([...c]);
      for (const x of c) releaseBuffer(x);
    });
    const chunks = [0, 1, 2].map((i) => new Uint8Array(CHUNK).fill(i + 1));
    const expected = Buffer.concat(chunks.map((c) => Buffer.from(c)));
    for (const c of chunks) writer.push(c, 0);
    await writer.flush();
    writer.close();
    await sink.close();
    expect(told).toHaveLength(1);
    expect(told[0]).toHaveLength(3);
    expect(chunks.map((c) => c.byteLength)).toEqual([0, 0, 0]);
    expect((await readFile(path)).equals(expected)).toBe(true);
    expect(seg.pos).toBe(3 * CHUNK);
  });
});
