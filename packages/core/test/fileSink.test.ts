// FileSink flushes written bytes to disk in the background as they accumulate, so that the final
// sync waits only for the tail; a failed background flush is never lost: the next sync throws it.
import { fstatSync, openSync } from 'node:fs';
import { open, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescriptorFile, FileSink } from '../src/storage/FileSink.js';
import { ErrorCodes, isDownloadError } from '../src/index.js';
import { pseudoRandom } from './helpers/MemoryPlugin.js';

const MiB = 1024 * 1024;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-sink-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A real file handle with some of its methods replaced (each replacement gets the real handle). */
function withMethods(fh: FileHandle, replaced: { datasync?: (real: FileHandle) => Promise<void>; writev?: (real: FileHandle, buffers: Uint8Array[], position: number) => Promise<unknown> }): FileHandle {
  return new Proxy(fh, {
    get(target, prop, receiver) {
      if (prop === 'datasync' && replaced.datasync) return () => replaced.datasync!(target);
      if (prop === 'writev' && replaced.writev) return (buffers: Uint8Array[], position: number) => replaced.writev!(target, buffers, position);
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * A real file handle whose datasync calls are counted, and failed on demand. Failing one is the
 * only thing faked: a disk that fails a writeback cannot be had in a test.
 */
function watched(fh: FileHandle, failFirst = false, gate?: Promise<void>): { fh: FileHandle; syncs: () => number } {
  let syncs = 0;
  const proxy = withMethods(fh, {
    async datasync(real) {
      syncs++;
      if (failFirst && syncs === 1) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', errno: -5 });
      // A slow disk: the flush ends when the test says so.
      if (gate) await gate;
      return real.datasync();
    },
  });
  return { fh: proxy, syncs: () => syncs };
}

/**
 * A real file handle whose writev calls are counted while they run: the most at once, and one
 * failed on demand (the write at `failAt`), as a disk error would.
 */
function writesWatched(fh: FileHandle, failAt?: number): { fh: FileHandle; mostAtOnce: () => number; calls: () => number } {
  let running = 0;
  let most = 0;
  let calls = 0;
  const proxy = withMethods(fh, {
    async writev(real, buffers, position) {
      calls++;
      running++;
      most = Math.max(most, running);
      try {
        if (position === failAt) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO', errno: -5 });
        return await real.writev(buffers, position);
      } finally {
        running--;
      }
    },
  });
  return { fh: proxy, mostAtOnce: () => most, calls: () => calls };
}

async function writeAll(sink: FileSink, data: Buffer, chunk: number): Promise<void> {
  for (let at = 0; at < data.length; at += chunk) await sink.write([data.subarray(at, Math.min(at + chunk, data.length))], at);
}

describe('FileSink', () => {
  it('works over a file descriptor (DescriptorFile) as over a FileHandle: sized, written at offsets, synced, closed once', async () => {
    const path = join(dir, 'fd.bin');
    const data = pseudoRandom(3 * MiB, 21);
    const fd = openSync(path, 'w+');
    const file = new DescriptorFile(fd);
    const sink = new FileSink(file, path);
    await sink.truncate(data.length);
    expect((await stat(path)).size).toBe(data.length);
    // Out of order, as connections write.
    await sink.write([data.subarray(MiB)], MiB);
    await sink.write([data.subarray(0, MiB / 2), data.subarray(MiB / 2, MiB)], 0);
    await sink.sync();
    await sink.close();
    expect((await readFile(path)).equals(data)).toBe(true);
    // Closed: the descriptor is gone, a second close does nothing, and a late write fails.
    expect(() => fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    await expect(file.close()).resolves.toBeUndefined();
    await expect(file.writev([data.subarray(0, 1)], 0)).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('flushes to disk while writing, not only at the end, and the file holds every byte', async () => {
    const path = join(dir, 'big.bin');
    const data = pseudoRandom(96 * MiB, 7);
    const w = watched(await open(path, 'w+'));
    const sink = new FileSink(w.fh, path);
    await writeAll(sink, data, MiB);
    const during = w.syncs();
    await sink.sync();
    await sink.close();
    // 96 MiB with a flush started every 32 MiB (one at a time): at least one before the final sync.
    expect(during).toBeGreaterThanOrEqual(1);
    expect(w.syncs()).toBe(during + 1);
    expect((await readFile(path)).equals(data)).toBe(true);
  });

  it('starts no background flush for a small file: its one sync is the final one', async () => {
    const path = join(dir, 'small.bin');
    const w = watched(await open(path, 'w+'));
    const sink = new FileSink(w.fh, path);
    await writeAll(sink, pseudoRandom(4 * MiB, 8), 256 * 1024);
    expect(w.syncs()).toBe(0);
    await sink.sync();
    await sink.close();
    expect(w.syncs()).toBe(1);
  });

  it('a background flush that failed makes the next sync fail with MG_ERR_IO, even when the disk recovered', async () => {
    const path = join(dir, 'failing.bin');
    const w = watched(await open(path, 'w+'), true);
    const sink = new FileSink(w.fh, path);
    await writeAll(sink, pseudoRandom(40 * MiB, 9), MiB);
    expect(w.syncs()).toBeGreaterThanOrEqual(1);
    const err: unknown = await sink.sync().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isDownloadError(err)).toBe(true);
    expect((err as { code: string }).code).toBe(ErrorCodes.IO);
    await sink.close();
  });

  it('flushes one file at a time in the background: a second file waits while the first one\'s flush is under way', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const a = watched(await open(join(dir, 'a.bin'), 'w+'), false, gate);
    const b = watched(await open(join(dir, 'b.bin'), 'w+'));
    const sinkA = new FileSink(a.fh, join(dir, 'a.bin'));
    const sinkB = new FileSink(b.fh, join(dir, 'b.bin'));
    await writeAll(sinkA, pseudoRandom(33 * MiB, 11), MiB);
    expect(a.syncs()).toBe(1);
    // A's flush hangs on a slow disk: B passes its threshold twice over and starts none.
    await writeAll(sinkB, pseudoRandom(70 * MiB, 12), MiB);
    expect(b.syncs()).toBe(0);
    release();
    await sinkA.sync();
    // Once A's flush is over, B's next write past its threshold starts one.
    await sinkB.write([pseudoRandom(MiB, 13)], 70 * MiB);
    expect(b.syncs()).toBe(1);
    await sinkB.sync();
    await Promise.all([sinkA.close(), sinkB.close()]);
  });

  it('sends one write at a time to a file (the kernel would serialise them on the inode lock), in the order given, every byte in place', async () => {
    const path = join(dir, 'queued.bin');
    const data = pseudoRandom(16 * 256 * 1024, 14);
    const w = writesWatched(await open(path, 'w+'));
    const sink = new FileSink(w.fh, path);
    // Sixteen connections' writes arriving together, in no particular order of position.
    const order = [5, 0, 15, 3, 9, 1, 12, 7, 2, 14, 4, 11, 6, 13, 8, 10];
    await Promise.all(order.map((i) => sink.write([data.subarray(i * 256 * 1024, (i + 1) * 256 * 1024)], i * 256 * 1024)));
    expect(w.calls()).toBe(16);
    expect(w.mostAtOnce()).toBe(1);
    await sink.sync();
    await sink.close();
    expect((await readFile(path)).equals(data)).toBe(true);
  });

  it('a failed write fails its own caller only: the writes queued behind it still land', async () => {
    const path = join(dir, 'queued-fail.bin');
    const data = pseudoRandom(4 * MiB, 15);
    const w = writesWatched(await open(path, 'w+'), MiB);
    const sink = new FileSink(w.fh, path);
    const results = await Promise.allSettled([0, 1, 2, 3].map((i) => sink.write([data.subarray(i * MiB, (i + 1) * MiB)], i * MiB)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const err = (results[1] as PromiseRejectedResult).reason as unknown;
    expect(isDownloadError(err)).toBe(true);
    expect((err as { code: string }).code).toBe(ErrorCodes.IO);
    await sink.sync();
    await sink.close();
    const got = await readFile(path);
    expect(got.subarray(0, MiB).equals(data.subarray(0, MiB))).toBe(true);
    expect(got.subarray(2 * MiB).equals(data.subarray(2 * MiB))).toBe(true);
  });

  it('close waits for a background flush under way (no operation on a closed handle)', async () => {
    const path = join(dir, 'close.bin');
    const w = watched(await open(path, 'w+'));
    const sink = new FileSink(w.fh, path);
    await writeAll(sink, pseudoRandom(33 * MiB, 10), MiB);
    expect(w.syncs()).toBe(1);
    await expect(sink.close()).resolves.toBeUndefined();
  });
});
