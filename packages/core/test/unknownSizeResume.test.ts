// A stream of unknown length from a server that does support ranges: its state carries block
// digests of its own, so a resumed run keeps the checked prefix and fetches only the rest.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Multiget, StateFile } from '../src/index.js';
import { MemoryPlugin, pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

const MiB = 1024 * 1024;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-unknown-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function engine(mem: MemoryPlugin): Multiget {
  return new Multiget({ plugins: [mem], checkpointIntervalMs: 50, progressIntervalMs: 20, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
}

it('resumes a stream of unknown length from its checked prefix, and refetches a damaged one', async () => {
  const mem = new MemoryPlugin();
  const data = pseudoRandom(6 * MiB + 333, 21);
  mem.put('/s.bin', data, { unknownSize: true, chunkDelayMs: 5 });
  const ctl = new AbortController();
  const first = engine(mem).download('mem://host/s.bin', { dir, signal: ctl.signal });
  await new Promise<void>((resolve) => first.on('progress', (p) => p.bytesDone > 3 * MiB && resolve()));
  ctl.abort();
  await expect(first.done).rejects.toMatchObject({ code: 'MG_ERR_ABORTED' });
  const state = await new StateFile(join(dir, 's.bin.mgstate')).read();
  if (state === undefined || state === 'corrupt') throw new Error(`no usable state: ${String(state)}`);
  expect(state.size).toBeNull();
  expect(state.blocks?.digests.slice(0, 3).every((d) => d !== null)).toBe(true);

  const again = engine(mem).download('mem://host/s.bin', { dir });
  let resumedBytes = -1;
  again.on('start', (e) => (resumedBytes = e.resumedBytes));
  const result = await again.done;
  expect(sha256(await readFile(result.file))).toBe(sha256(data));
  expect(result.resumed).toBe(true);
  expect(resumedBytes).toBeGreaterThanOrEqual(3 * MiB);

  // Once more, with the second block damaged on disk: only the first block is kept.
  mem.put('/t.bin', data, { unknownSize: true, chunkDelayMs: 5 });
  const ctl2 = new AbortController();
  const third = engine(mem).download('mem://host/t.bin', { dir, signal: ctl2.signal });
  await new Promise<void>((resolve) => third.on('progress', (p) => p.bytesDone > 3 * MiB && resolve()));
  ctl2.abort();
  await third.done.catch(() => undefined);
  const part = await readFile(join(dir, 't.bin.mgpart'));
  part[MiB + 5]! ^= 0xff;
  await writeFile(join(dir, 't.bin.mgpart'), part);
  const fourth = engine(mem).download('mem://host/t.bin', { dir });
  let kept = -1;
  fourth.on('start', (e) => (kept = e.resumedBytes));
  const warnings: string[] = [];
  fourth.on('warning', (w) => warnings.push(w.code));
  const r4 = await fourth.done;
  expect(sha256(await readFile(r4.file))).toBe(sha256(data));
  expect(kept).toBe(MiB);
  expect(warnings).toContain('MG_WARN_BLOCKS_REFETCHED');
});
