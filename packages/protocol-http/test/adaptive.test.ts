// The adaptive connection policy in a real transfer: connections are a ceiling, reached while they
// add throughput (a per-connection cap) and not opened when they do not; each decision an event.
// Also the end game: an idle connection shares a slower one's tail below minSplitSize.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget, adaptiveConnections } from '@multiget/core';
import { generateContent, sha256, startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';

const MiB = 1024 * 1024;
let server: HttpTestServer;
let dir: string;
let mg: Multiget;

beforeEach(async () => {
  server = await startHttpServer();
  dir = await mkdtemp(join(tmpdir(), 'mg-adaptive-'));
  mg = new Multiget({
    plugins: [new HttpPlugin({ useEnvProxy: false })],
    connectionPolicy: adaptiveConnections(),
    minSplitSize: 256 * 1024,
    retry: { baseDelayMs: 10, maxDelayMs: 100 },
  });
});
afterEach(async () => {
  await mg.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('adaptive connections', () => {
  it('climbs past its first connections while each one adds throughput (a per-connection cap)', async () => {
    const content = generateContent({ size: 24 * MiB, seed: 5 });
    server.addFile('/capped.bin', content, { faults: { throttleBytesPerSec: 1 * MiB } });
    const dl = mg.download(server.url('/capped.bin'), { dir, connections: 12 });
    const decisions: Array<{ target: number; reason: string }> = [];
    dl.on('connections', (c) => decisions.push({ target: c.target, reason: c.reason }));
    const result = await dl.done;
    expect(sha256(await readFile(result.file))).toBe(sha256(content));
    // It started with a few and raised the target while the throughput rose.
    expect(decisions[0]!.target).toBeLessThan(12);
    expect(Math.max(...decisions.map((d) => d.target))).toBeGreaterThan(decisions[0]!.target);
    expect(server.maxConcurrentRequests('/capped.bin')).toBeGreaterThan(decisions[0]!.target);
  });

  it("is the engine's default: a few connections first, then the ceiling while each adds throughput", async () => {
    const content = generateContent({ size: 16 * MiB, seed: 6 });
    server.addFile('/default.bin', content, { faults: { throttleBytesPerSec: 1 * MiB } });
    const plain = new Multiget({ plugins: [new HttpPlugin({ useEnvProxy: false })], minSplitSize: 256 * 1024 });
    try {
      const dl = plain.download(server.url('/default.bin'), { dir, connections: 12 });
      const decisions: Array<{ target: number; reason: string }> = [];
      dl.on('connections', (c) => decisions.push({ target: c.target, reason: c.reason }));
      const result = await dl.done;
      expect(sha256(await readFile(result.file))).toBe(sha256(content));
      expect(decisions[0]).toMatchObject({ target: 4, reason: 'initial' });
      // An idle client (1 MiB/s per connection) whose connections deliver opens the ceiling at once.
      expect(decisions[1]).toMatchObject({ target: 12, reason: 'probing' });
      expect(server.maxConcurrentRequests('/default.bin')).toBe(12);
    } finally {
      await plain.close();
    }
  });

  it('shares the tail of a slower connection below minSplitSize when that finishes sooner (the end game)', async () => {
    const content = generateContent({ size: 4 * MiB, seed: 7 });
    // The probe's stream (request 1) runs at 2 MiB/s, the second segment's request at 1 MiB/s: when
    // the first connection is done, the second has 1 MiB left, less than two minSplitSizes.
    server.addFile('/tail.bin', content, { faults: { throttleBytesPerSec: 2 * MiB, latencyMs: 20, slowRequest: { nth: 2, bytesPerSec: 1 * MiB } } });
    const endGame = new Multiget({ plugins: [new HttpPlugin({ useEnvProxy: false })], minSplitSize: 1 * MiB });
    try {
      const dl = endGame.download(server.url('/tail.bin'), { dir, connections: 2 });
      const splits: Array<{ at: number; end: number }> = [];
      dl.on('split', (s) => splits.push({ at: s.at, end: s.end }));
      const result = await dl.done;
      expect(sha256(await readFile(result.file))).toBe(sha256(content));
      // The idle connection took part of the slow one's last MiB, less than minSplitSize.
      expect(splits.length).toBeGreaterThan(0);
      expect(splits[0]!.end - splits[0]!.at).toBeLessThan(MiB);
      expect(splits[0]!.end - splits[0]!.at).toBeGreaterThanOrEqual(64 * 1024);
      expect(server.requests('/tail.bin').length).toBeGreaterThanOrEqual(3);
    } finally {
      await endGame.close();
    }
  });
});

