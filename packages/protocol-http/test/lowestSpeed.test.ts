// The lowest-speed rule and the slow-connection rule through the engine, against servers that
// drip, throttle every connection, or throttle one connection among fast ones (the test server
// paces each response on its own).
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget, type DownloadError } from '@multiget/core';
import { type HttpFaults, type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';

const KiB = 1024;

let server: HttpTestServer;
let mg: Multiget;
let dir: string;
let counter = 0;

beforeAll(async () => {
  server = await startHttpServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-http-slow-'));
  mg = new Multiget({
    plugins: [new HttpPlugin({ useEnvProxy: false })],
    checkpointIntervalMs: 100,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    // Long enough that only the speed rules can act in these tests.
    stallTimeoutMs: 60_000,
    lowestSpeedTimeMs: 1000,
  });
});
afterEach(async () => {
  await mg.close();
  await rm(dir, { recursive: true, force: true });
});

function serve(size: number, faults: HttpFaults): { path: string; url: string; content: { size: number; seed: number } } {
  const path = `/s${++counter}.bin`;
  const content = { size, seed: 200 + counter };
  server.addFile(path, content, { faults });
  return { path, url: server.url(path), content };
}

describe('a dripping server', () => {
  it('one byte every two seconds trips the lowest speed, and the download fails with MG_ERR_STALLED after its retries', async () => {
    const f = serve(64 * KiB, { throttleBytesPerSec: 0.5 });
    const dl = mg.download(f.url, { dir, retries: 1, connections: 1 });
    const retries: DownloadError[] = [];
    dl.on('retry', (r) => retries.push(r.error));
    const err = (await dl.done.catch((e: unknown) => e)) as DownloadError;
    expect(err).toMatchObject({ code: 'MG_ERR_STALLED' });
    expect(err.message).toMatch(/Slower than 1\.00 KiB\/s for 1 s/);
    // The trickle is no progress: the second slow window in a row ends the download.
    expect(retries).toHaveLength(1);
    expect(retries[0]!.code).toBe('MG_ERR_STALLED');
    expect(server.requests(f.path).filter((r) => r.faults.includes('throttleBytesPerSec'))).toHaveLength(2);
  }, 20_000);

  it('every connection dripping restarts them all', async () => {
    const f = serve(512 * KiB, { throttleBytesPerSec: 2 });
    const dl = mg.download(f.url, { dir, retries: 0, connections: 4, minSplitSize: 64 * KiB });
    const err = (await dl.done.catch((e: unknown) => e)) as DownloadError;
    expect(err).toMatchObject({ code: 'MG_ERR_STALLED' });
    expect(server.requests(f.path).length).toBeGreaterThanOrEqual(4);
  }, 20_000);

  it('lowestSpeed 0 turns the rule off (the drip is then only bounded by the caller)', async () => {
    const f = serve(64 * KiB, { throttleBytesPerSec: 4 });
    const controller = new AbortController();
    const dl = mg.download(f.url, { dir, retries: 0, connections: 1, lowestSpeed: 0, signal: controller.signal });
    let retried = false;
    dl.on('retry', () => (retried = true));
    // Three windows of drip, then the caller stops it: no rule fired meanwhile.
    const timer = setTimeout(() => controller.abort(), 3000);
    const err = (await dl.done.catch((e: unknown) => e)) as DownloadError;
    clearTimeout(timer);
    expect(err).toMatchObject({ code: 'MG_ERR_ABORTED' });
    expect(retried).toBe(false);
  }, 20_000);
});

describe('slow but real links are not punished', () => {
  it('eight connections at 600 B/s each (4.7 KiB/s together) stay below 1 KiB/s one by one, and are left alone', async () => {
    const f = serve(12 * KiB, { throttleBytesPerSec: 600 });
    const dl = mg.download(f.url, { dir, connections: 8, minSplitSize: 1 * KiB });
    const retries: string[] = [];
    dl.on('retry', (r) => retries.push(r.error.message));
    const result = await dl.done;
    expect(retries).toEqual([]);
    expect(createHash('sha256').update(await readFile(result.file)).digest('hex')).toBe(sha256(f.content));
  }, 20_000);

  it('a rate limit below the lowest speed is ours, not the server\'s: no restart', async () => {
    const f = serve(6 * KiB, {});
    const dl = mg.download(f.url, { dir, connections: 1, rateLimit: 2000, lowestSpeed: 4096 });
    const retries: string[] = [];
    dl.on('retry', (r) => retries.push(r.error.message));
    const result = await dl.done;
    expect(retries).toEqual([]);
    expect((await stat(result.file)).size).toBe(6 * KiB);
  }, 20_000);
});

describe('one slow connection among fast ones', () => {
  it('a connection that gets nothing at all is restarted long before the stall timeout, without using up the retries', async () => {
    // The probe's own response (which serves the first segment) stops after its head.
    const f = serve(4 * 1024 * KiB, { throttleBytesPerSec: 256 * KiB, stallAfterBytes: 0, stallTimes: 1 });
    const dl = mg.download(f.url, { dir, connections: 4, minSplitSize: 256 * KiB, retries: 1 });
    const retries: string[] = [];
    dl.on('retry', (r) => retries.push(r.error.message));
    const result = await dl.done;
    expect(createHash('sha256').update(await readFile(result.file)).digest('hex')).toBe(sha256(f.content));
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries[0]).toMatch(/ran at 0 B\/s .* far below its siblings/);
    expect(server.requests(f.path).filter((r) => r.faults.includes('stallAfterBytes'))).toHaveLength(1);
  }, 30_000);

  it('is restarted, and the download finishes on fast connections with the exact bytes', async () => {
    // Request 1 is the probe (it serves the first segment); request 3 is one of the other three.
    const f = serve(4 * 1024 * KiB, { throttleBytesPerSec: 256 * KiB, slowRequest: { nth: 3, bytesPerSec: 2 * KiB } });
    const dl = mg.download(f.url, { dir, connections: 4, minSplitSize: 256 * KiB });
    const retries: string[] = [];
    dl.on('retry', (r) => retries.push(r.error.message));
    const retired: string[] = [];
    dl.on('connections', (c) => {
      if (c.reason === 'slow connection') retired.push(c.reason);
    });
    const result = await dl.done;
    expect(createHash('sha256').update(await readFile(result.file)).digest('hex')).toBe(sha256(f.content));
    // The slow connection is restarted by the speed rule (a retry) or retired by the connection
    // policy, whichever sees it first (a busy machine may make another look slow for a window too).
    expect(retries.length + retired.length).toBeGreaterThanOrEqual(1);
    for (const message of retries) expect(message).toMatch(/far below its siblings/);
    const slow = server.requests(f.path).filter((r) => r.faults.includes('slowRequest'));
    expect(slow).toHaveLength(1);
    // It was cut off long before the end of its megabyte: a new connection fetched the rest.
    expect(slow[0]!.bytesSent).toBeLessThan(256 * KiB);
    expect(slow[0]!.done).toBe(true);
  }, 30_000);
});
