import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Manager, type ResourceUsage, type SegmentMap } from '../src/index.js';
import { MemoryPlugin, pseudoRandom } from './helpers/MemoryPlugin.js';

const MiB = 1024 * 1024;
let dir: string;
let mem: MemoryPlugin;
let m: Manager | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-insight-'));
  mem = new MemoryPlugin();
});
afterEach(async () => {
  await m?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('Manager: resource use and segment maps with progress', () => {
  it('reports its CPU time and memory with each progress event, and the running download\'s segment map', async () => {
    mem.put('/r', pseudoRandom(4 * MiB, 2), { chunkDelayMs: 40 });
    m = await Manager.open({ plugins: [mem], minSplitSize: 256 * 1024, progressIntervalMs: 10, settings: { dir } });
    const entry = await m.add('mem://h/r', { connections: 3 });
    expect(m.running('nope')).toBeUndefined();
    const { resources, map } = await new Promise<{ resources: ResourceUsage; map: SegmentMap }>((resolve) => {
      m!.on('progress', (entries, usage) => {
        const map = m!.running(entry.id)?.segmentMap();
        if (entries[0]!.bytes > 0 && map?.segments.some((s) => s.connection !== undefined)) resolve({ resources: usage, map });
      });
    });
    expect(resources.rssBytes).toBeGreaterThan(0);
    expect(resources.heapUsedBytes).toBeGreaterThan(0);
    expect(resources.cpuUserMs + resources.cpuSystemMs).toBeGreaterThan(0);
    expect(map.size).toBe(4 * MiB);
    await m.pause(entry.id);
    expect(m.running(entry.id)).toBeUndefined();
  });
});
