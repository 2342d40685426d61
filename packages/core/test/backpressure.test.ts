// The network faster than the disk: the engine must not read ahead of what it has written by more
// than its per-connection buffer, whatever the file size.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type ByteSink, Multiget, PartialFile, type Plugin, type Storage } from '../src/index.js';
import { FLUSH_BYTES } from '../src/transfer/SegmentWriter.js';
import { MemoryPlugin, pseudoRandom } from './helpers/MemoryPlugin.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-bp-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('reads at most a bounded amount ahead of a slow disk', async () => {
  const mem = new MemoryPlugin();
  const size = 24 * 1024 * 1024;
  mem.put('/fast.bin', pseudoRandom(size));
  let written = 0;
  let maxAhead = 0;
  // A disk that takes 2 ms per write, however small: far slower than the in-memory source.
  const slowDisk: Plugin = {
    name: 'SlowDisk',
    apply(engine) {
      // A storage of its own: only a sink matters here.
      engine.hooks.openStorage.tapPromise('SlowDisk', async (): Promise<Storage> => ({
        target: 'fast.bin',
        saved: undefined,
        async open(): Promise<ByteSink> {
          return {
            async write(chunks) {
              await sleep(2);
              for (const c of chunks) written += c.byteLength;
              maxAhead = Math.max(maxAhead, mem.bytesServed - written);
            },
            async sync() {},
            async truncate() {},
            async close() {},
          };
        },
        async checkLength() {},
        openReader: () => Promise.reject(new Error('not kept')),
        async checkpoint() {},
        async forget() {},
        async flush() {},
        async commit() {},
        async remove() {},
        async release() {},
      }));
    },
  };
  const connections = 4;
  // The slow disk replaces the built-in storage (nothing reaches the real disk).
  const mg = new Multiget({
    plugins: [mem, slowDisk],
    defaultPlugins: (d) => d.filter((p) => !(p instanceof PartialFile)),
    minSplitSize: 1024 * 1024,
    checkpointIntervalMs: 60_000,
  });
  const result = await mg.download('mem://h/fast.bin', { dir, connections }).done;
  expect(result.size).toBe(size);
  expect(written).toBe(size);
  // Each connection holds at most one batch (FLUSH_BYTES with so few writers open) plus the chunk
  // being read (64 KiB here).
  expect(maxAhead).toBeLessThanOrEqual(connections * (FLUSH_BYTES + 64 * 1024));
});
