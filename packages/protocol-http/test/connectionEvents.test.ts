// The connection events of core's transfer module (rangeStart, rangeEnd, split, checkpoint,
// connections) and Download.segmentMap(), watched on real segmented downloads over HTTP.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ConnectionPolicy,
  type ConnectionsInfo,
  Multiget,
  type RangeEndInfo,
  type RangeStartInfo,
  type SegmentMap,
  type SplitInfo,
} from '@multiget/core';
import { type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;

let server: HttpTestServer;
let dir: string;
let counter = 0;

beforeAll(async () => {
  server = await startHttpServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-http-events-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function engine(extra: ConstructorParameters<typeof Multiget>[0] = {}): Multiget {
  return new Multiget({
    plugins: [new HttpPlugin({ useEnvProxy: false })],
    minSplitSize: 128 * KiB,
    checkpointIntervalMs: 20,
    progressIntervalMs: 20,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    ...extra,
  });
}

interface Seen {
  starts: RangeStartInfo[];
  ends: RangeEndInfo[];
  splits: SplitInfo[];
  checkpoints: number[];
  connections: ConnectionsInfo[];
  maps: SegmentMap[];
}

async function watched(mg: Multiget, url: string, connections: number): Promise<{ seen: Seen; hash: string; size: number }> {
  const seen: Seen = { starts: [], ends: [], splits: [], checkpoints: [], connections: [], maps: [] };
  const dl = mg.download(url, { dir, connections });
  dl.on('rangeStart', (i) => seen.starts.push(i));
  dl.on('rangeEnd', (i) => seen.ends.push(i));
  dl.on('split', (i) => seen.splits.push(i));
  dl.on('checkpoint', (i) => seen.checkpoints.push(i.bytesDone));
  dl.on('connections', (i) => seen.connections.push(i));
  dl.on('progress', () => seen.maps.push(dl.segmentMap()));
  const result = await dl.done;
  const hash = createHash('sha256').update(await readFile(result.file)).digest('hex');
  return { seen, hash, size: result.size };
}

describe('connection events of a segmented download', () => {
  it('reports each range once, and the bytes of the ranges add up to the file', async () => {
    const path = `/e${++counter}.bin`;
    const content = { size: 3 * MiB, seed: counter };
    // A throttled first request: the others finish first and split its range.
    server.addFile(path, content, { faults: { slowRequest: { nth: 2, bytesPerSec: 256 * KiB } } });
    const mg = engine();
    try {
      const { seen, hash, size } = await watched(mg, server.url(path), 4);
      expect(hash).toBe(sha256(content));
      expect(seen.ends).toHaveLength(seen.starts.length);
      expect(seen.ends.every((e) => e.outcome === 'done' || e.outcome === 'split')).toBe(true);
      expect(seen.ends.reduce((n, e) => n + e.bytes, 0)).toBe(size);
      // Every range started where no byte had been written yet: no byte was fetched twice.
      const starts = seen.starts.map((s) => s.start).sort((a, b) => a - b);
      expect(new Set(starts).size).toBe(starts.length);
      expect(new Set(seen.starts.map((s) => s.connection)).size).toBeGreaterThanOrEqual(2);
      expect(seen.starts.every((s) => s.host === new URL(server.url(path)).host && s.attempt === 0)).toBe(true);
      // Each split is followed by a range that starts at the cut; a range that ended early was cut
      // (once or more) while it ran.
      expect(seen.splits.length).toBeGreaterThan(0);
      for (const split of seen.splits) expect(starts).toContain(split.at);
      const cut = seen.ends.filter((e) => e.outcome === 'split');
      expect(cut.length).toBeGreaterThan(0);
      for (const e of cut) expect(seen.splits.some((s) => s.connection === e.connection)).toBe(true);
      // The first decision: all allowed connections at once (the default policy).
      expect(seen.connections[0]).toMatchObject({ reason: 'initial', target: 4, ceiling: 4, active: 4 });
      // Checkpoints only grow and never claim more than the file.
      expect(seen.checkpoints.length).toBeGreaterThan(0);
      expect(seen.checkpoints).toEqual([...seen.checkpoints].sort((a, b) => a - b));
      expect(Math.max(...seen.checkpoints)).toBeLessThanOrEqual(size);
      // The segment maps seen while running tile the file and name their connections.
      const running = seen.maps.filter((m) => m.segments.some((s) => s.connection !== undefined));
      expect(running.length).toBeGreaterThan(0);
      for (const map of seen.maps) {
        expect(map.size).toBe(size);
        const tiles = [...map.segments].sort((a, b) => a.start - b.start);
        let at = 0;
        for (const s of tiles) {
          expect(s.start).toBe(at);
          expect(s.pos).toBeGreaterThanOrEqual(s.start);
          expect(s.pos).toBeLessThanOrEqual(s.end);
          at = s.end;
        }
        expect(at).toBe(size);
      }
    } finally {
      await mg.close();
    }
  });

  it('reports a failed range with its error and the bytes it wrote before the retry', async () => {
    const path = `/e${++counter}.bin`;
    const content = { size: 2 * MiB, seed: counter };
    server.addFile(path, content, { faults: { dropAfterBytes: 300 * KiB, dropTimes: 2 } });
    const mg = engine();
    try {
      const { seen, hash, size } = await watched(mg, server.url(path), 2);
      expect(hash).toBe(sha256(content));
      const failed = seen.ends.filter((e) => e.outcome === 'failed');
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.every((e) => e.error !== undefined && e.bytes > 0)).toBe(true);
      expect(seen.starts.some((s) => s.attempt > 0)).toBe(true);
      expect(seen.ends).toHaveLength(seen.starts.length);
      expect(seen.ends.reduce((n, e) => n + e.bytes, 0)).toBe(size);
    } finally {
      await mg.close();
    }
  });

  it('follows a connection policy: opens what it asks first, then more or fewer on sample ticks', async () => {
    const path = `/e${++counter}.bin`;
    const content = { size: 4 * MiB, seed: counter };
    server.addFile(path, content, { faults: { throttleBytesPerSec: 2 * MiB } });
    const ceilings: number[] = [];
    let ticks = 0;
    // Starts with one connection, asks for three from the third tick on, then for two.
    const policy = (): ConnectionPolicy => ({
      initial(ceiling) {
        ceilings.push(ceiling);
        return 1;
      },
      next() {
        ticks++;
        return { target: ticks < 3 ? 1 : ticks < 20 ? 3 : 2 };
      },
      refused() {},
    });
    const mg = engine({ connectionPolicy: policy });
    try {
      const { seen, hash, size } = await watched(mg, server.url(path), 4);
      expect(hash).toBe(sha256(content));
      expect(ceilings).toEqual([4]);
      expect(seen.connections[0]).toMatchObject({ reason: 'initial', target: 1, active: 1, ceiling: 4 });
      expect(seen.connections.find((c) => c.reason === 'policy')).toMatchObject({ target: 3 });
      expect(new Set(seen.starts.map((s) => s.connection)).size).toBeGreaterThanOrEqual(3);
      expect(seen.ends.reduce((n, e) => n + e.bytes, 0)).toBe(size);
    } finally {
      await mg.close();
    }
  });
});
