// The block digests recorded while bytes arrive, whatever order the connections write them in, are
// the digests of the blocks of the finished file; a state's runs let a resumed run continue them.
import { fileReader } from '../src/storage/FileSink.js';
import { open, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockDigests, blockDigest, checkBlocks, segmentsFromTrusted } from '../src/storage/blockDigests.js';
import { pseudoRandom } from './helpers/MemoryPlugin.js';

const BS = 1024 * 1024;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-blocks-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `data` in pieces cut at `cuts`, in the order `order`, through a real file, as the engine does. */
async function writeInOrder(path: string, data: Buffer, cuts: number[], order: number[], blocks: BlockDigests): Promise<void> {
  const bounds = [...new Set([0, ...cuts.map((c) => Math.floor(c * data.length)), data.length])].sort((a, b) => a - b);
  const pieces: Array<[number, number]> = [];
  for (let i = 0; i + 1 < bounds.length; i++) pieces.push([bounds[i]!, bounds[i + 1]!]);
  pieces.sort((a, b) => (order[pieces.indexOf(a)] ?? 0) - (order[pieces.indexOf(b)] ?? 0));
  const fh = await open(path, 'w+');
  try {
    await fh.truncate(data.length);
    for (const [a, b] of pieces) {
      // Each piece in chunks of up to 64 KiB, as a connection delivers them.
      for (let p = a; p < b; p += 65536) {
        const chunk = data.subarray(p, Math.min(b, p + 65536));
        await fh.write(chunk, 0, chunk.length, p);
        blocks.update([chunk], p);
      }
    }
  } finally {
    await fh.close();
  }
  await blocks.settle();
}

describe('BlockDigests', () => {
  it('gives every block the digest of its bytes, whatever order they were written in', async () => {
    const data = pseudoRandom(5 * BS + 12345, 9);
    const path = join(dir, 'order.mgpart');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 10 }),
        fc.array(fc.nat(), { minLength: 11, maxLength: 11 }),
        async (cuts, order) => {
          const blocks = new BlockDigests(data.length, BS, fileReader(path));
          await writeInOrder(path, data, cuts, order, blocks);
          for (let i = 0; i < blocks.count; i++) {
            expect(blocks.digest(i)).toBe(blockDigest(data.subarray(i * BS, Math.min(data.length, (i + 1) * BS))));
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('saves runs of half-done blocks that a resumed run checks and continues', async () => {
    const data = pseudoRandom(3 * BS, 4);
    const path = join(dir, 'runs.mgpart');
    await writeFile(path, Buffer.alloc(data.length));
    const first = new BlockDigests(data.length, BS, fileReader(path));
    const fh = await open(path, 'r+');
    // Block 0 complete; block 1 half; block 2 from a split point in its middle.
    for (const [a, b] of [[0, BS + BS / 2], [2 * BS + 1000, 2 * BS + 5000]] as const) {
      await fh.write(data, a, b - a, a);
      first.update([data.subarray(a, b)], a);
    }
    await fh.close();
    const saved = first.toSaved();
    expect(saved.digests[0]).not.toBeNull();
    expect(saved.runs).toEqual([
      [BS, BS / 2, expect.any(String)],
      [2 * BS + 1000, 4000, expect.any(String)],
    ]);
    const claimed = BS + BS / 2 + 4000;
    const check = await checkBlocks(fileReader(path), data.length, saved, claimed);
    expect(check.failed).toEqual([]);
    expect(check.droppedBytes).toBe(0);
    expect(check.trusted).toEqual([
      [0, BS + BS / 2],
      [2 * BS + 1000, 2 * BS + 5000],
    ]);
    expect(segmentsFromTrusted(data.length, check.trusted).map((s) => [s.start, s.end, s.pos])).toEqual([
      [0, BS + BS / 2, BS + BS / 2],
      [BS + BS / 2, 2 * BS + 1000, BS + BS / 2],
      [2 * BS + 1000, 2 * BS + 5000, 2 * BS + 5000],
      [2 * BS + 5000, 3 * BS, 2 * BS + 5000],
    ]);
    // The resumed run continues the half block from its run and completes it without reading back.
    const next = new BlockDigests(data.length, BS, undefined, { digests: check.digests, seeds: check.seeds });
    next.update([data.subarray(BS + BS / 2, 2 * BS)], BS + BS / 2);
    expect(next.digest(1)).toBe(blockDigest(data.subarray(BS, 2 * BS)));
  });

  it('a changed byte fails its block or run on resume, and only that', async () => {
    const data = pseudoRandom(4 * BS, 5);
    const path = join(dir, 'bad.mgpart');
    const blocks = new BlockDigests(data.length, BS, fileReader(path));
    await writeInOrder(path, data, [], [], blocks);
    const saved = blocks.toSaved();
    const fh = await open(path, 'r+');
    await fh.write(Buffer.from([data[2 * BS + 77]! ^ 1]), 0, 1, 2 * BS + 77);
    await fh.close();
    const check = await checkBlocks(fileReader(path), data.length, saved, data.length);
    expect(check.failed).toEqual([[2 * BS, 3 * BS]]);
    expect(check.trusted).toEqual([
      [0, 2 * BS],
      [3 * BS, 4 * BS],
    ]);
    expect(check.droppedBytes).toBe(BS);
  });
});
