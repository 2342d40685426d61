import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, Multiget, type DownloadEvents, type SegmentMap } from '../src/index.js';
import { MemoryPlugin, pseudoRandom } from './helpers/MemoryPlugin.js';

let dir: string;
let mem: MemoryPlugin;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-events-'));
  mem = new MemoryPlugin();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MiB = 1024 * 1024;

function engine(): Multiget {
  return new Multiget({
    plugins: [mem],
    minSplitSize: 256 * 1024,
    checkpointIntervalMs: 20,
    progressIntervalMs: 20,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
  });
}

type Recorded = { [K in keyof DownloadEvents]: { event: K; info: DownloadEvents[K][0] } }[keyof DownloadEvents];

describe('connection events', () => {
  it('pairs every rangeStart with a rangeEnd whose bytes add up to the file, and reports splits', async () => {
    const data = pseudoRandom(4 * MiB, 7);
    mem.put('/slow.bin', data, { slowStartOffsets: new Set([0]), failFetches: { count: 1, code: ErrorCodes.CONNECTION_RESET } });
    const dl = engine().download('mem://host/slow.bin', { dir, connections: 4 });
    const seen: Recorded[] = [];
    const maps: SegmentMap[] = [];
    for (const event of ['rangeStart', 'rangeEnd', 'split', 'checkpoint', 'connections'] as const) {
      dl.on(event, ((info: unknown) => seen.push({ event, info } as Recorded)) as never);
    }
    dl.on('progress', () => maps.push(dl.segmentMap()));
    await dl.done;

    const open = new Map<number, number>();
    let bytes = 0;
    for (const r of seen) {
      if (r.event === 'rangeStart') {
        expect(open.has(r.info.connection)).toBe(false);
        open.set(r.info.connection, r.info.start);
        expect(r.info.host).toBe('host');
      } else if (r.event === 'rangeEnd') {
        expect(open.get(r.info.connection)).toBe(r.info.start);
        open.delete(r.info.connection);
        bytes += r.info.bytes;
      }
    }
    expect(open.size).toBe(0);
    expect(bytes).toBe(data.length);
    const ends = seen.filter((r) => r.event === 'rangeEnd');
    expect(ends.some((r) => r.info.outcome === 'failed' && r.info.error?.code === ErrorCodes.CONNECTION_RESET)).toBe(true);
    expect(seen.some((r) => r.event === 'split')).toBe(true);
    expect(seen.find((r) => r.event === 'connections')?.info).toMatchObject({ active: 4, target: 4, ceiling: 4, reason: 'initial' });

    // Mid-transfer maps tile the file and name connections; the final one is all done.
    const mid = maps.find((m) => m.segments.some((s) => s.connection !== undefined));
    expect(mid?.size).toBe(data.length);
    const last = dl.segmentMap();
    expect(last.segments.every((s) => s.pos === s.end && s.connection === undefined)).toBe(true);
    let at = 0;
    for (const s of last.segments) {
      expect(s.start).toBe(at);
      at = s.end;
    }
    expect(at).toBe(data.length);
  });

  it('a transfer that starts while others of the process run opens fewer connections first, and the count follows transfers that end or fail', async () => {
    const initial = (dl: ReturnType<Multiget['download']>): Promise<number> =>
      new Promise((resolve) => dl.on('connections', (c) => c.reason === 'initial' && resolve(c.target)));
    const mg = engine();
    // Slow enough (hundreds of milliseconds) to be running while the next ones start.
    mem.put('/a.bin', pseudoRandom(4 * MiB, 1), { chunkDelayMs: 20 });
    mem.put('/b.bin', pseudoRandom(4 * MiB, 2), { chunkDelayMs: 20 });
    mem.put('/c.bin', pseudoRandom(4 * MiB, 3));
    mem.put('/d.bin', pseudoRandom(4 * MiB, 4), { chunkDelayMs: 5 });

    const a = mg.download('mem://host/a.bin', { dir, connections: 8 });
    expect(await initial(a)).toBe(4);
    const b = mg.download('mem://host/b.bin', { dir, connections: 8 });
    expect(await initial(b)).toBe(2); // four shared by two transfers
    // Another engine's transfers share the same CPU: counted too.
    const other = engine().download('mem://host/c.bin', { dir, connections: 8, output: join(dir, 'c-other.bin') });
    expect(await initial(other)).toBe(1);
    await Promise.all([a.done, b.done, other.done]);

    // One that is cancelled while it runs stops counting, as do those that ended.
    const d = mg.download('mem://host/d.bin', { dir, connections: 8 });
    expect(await initial(d)).toBe(4);
    await d.cancel();
    await expect(d.done).rejects.toMatchObject({ code: ErrorCodes.ABORTED });
    const c = mg.download('mem://host/c.bin', { dir, connections: 8 });
    expect(await initial(c)).toBe(4);
    await c.done;
  });

  it('reports a checkpoint that claims the bytes on disk', async () => {
    // Big enough for several writes per connection (each gathers up to 1 MiB) while it runs.
    mem.put('/c.bin', pseudoRandom(8 * MiB, 3), { chunkDelayMs: 2 });
    const dl = engine().download('mem://host/c.bin', { dir, connections: 2 });
    const claims: number[] = [];
    dl.on('checkpoint', (c) => claims.push(c.bytesDone));
    await dl.done;
    // A file this size gets its state file at once (0 bytes claimed), then one per interval with writes.
    expect(claims.some((b) => b > 0)).toBe(true);
    expect(claims.every((b, i) => b >= 0 && b <= 8 * MiB && (i === 0 || b > claims[i - 1]!))).toBe(true);
  });
});
