// Whole downloads through the engine, over real sockets, under each fault the test server knows.
// Every successful download is compared with the source by sha256.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget, type DownloadOptions, type DownloadResult } from '@multiget/core';
import { type HttpFaults, type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;

let server: HttpTestServer;
let other: HttpTestServer;
let dir: string;
let mg: Multiget;
let counter = 0;

beforeAll(async () => {
  server = await startHttpServer();
  other = await startHttpServer();
});
afterAll(async () => {
  await server.close();
  await other.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-http-engine-'));
  mg = new Multiget({
    plugins: [new HttpPlugin({ useEnvProxy: false })],
    minSplitSize: 128 * KiB,
    checkpointIntervalMs: 100,
    progressIntervalMs: 50,
    retry: { baseDelayMs: 10, maxDelayMs: 100 },
  });
});
afterEach(async () => {
  await mg.close();
  await rm(dir, { recursive: true, force: true });
});

/** Adds a fresh file with the given faults and returns its path and content spec. */
function serve(size: number, faults: HttpFaults = {}, extra: Parameters<HttpTestServer['addFile']>[2] = {}) {
  const path = `/f${++counter}.bin`;
  const content = { size, seed: counter };
  server.addFile(path, content, { ...extra, faults });
  return { path, content, url: server.url(path) };
}

async function download(url: string, options: DownloadOptions = {}): Promise<{ result: DownloadResult; hash: string }> {
  const result = await mg.download(url, { dir, connections: 8, ...options }).done;
  const hash = createHash('sha256').update(await readFile(result.file)).digest('hex');
  return { result, hash };
}

describe('downloads over HTTP through the engine', () => {
  it('uses several connections and gets the exact bytes', async () => {
    // Paced, so that responses last long enough to overlap: on bare loopback a client that reads
    // eagerly may finish each 1 MiB range before the next request reaches the server.
    const f = serve(4 * MiB, { throttleBytesPerSec: 16 * MiB });
    const { hash, result } = await download(f.url);
    expect(hash).toBe(sha256(f.content));
    expect(result.size).toBe(4 * MiB);
    const ranged = server.requests(f.path).filter((r) => r.status === 206);
    expect(ranged.length).toBeGreaterThanOrEqual(4);
    expect(server.maxConcurrentRequests(f.path)).toBeGreaterThan(1);
    expect(await readdir(dir)).toEqual([`f${counter}.bin`]);
  });

  it('sends Accept-Encoding: identity and If-Range on every range request', async () => {
    const f = serve(2 * MiB);
    await download(f.url);
    for (const r of server.requests(f.path)) {
      expect(r.headers['accept-encoding']).toBe('identity');
      if (r.headers.range && r.headers.range !== 'bytes=0-') expect(r.headers['if-range']).toBeTruthy();
    }
  });

  it('survives per-connection throttling and latency', async () => {
    const f = serve(MiB, { throttleBytesPerSec: 2 * MiB, latencyMs: 20 });
    expect((await download(f.url)).hash).toBe(sha256(f.content));
  });

  it('falls back to one stream when the server ignores Range (200)', async () => {
    const f = serve(2 * MiB, { ignoreRange: true });
    expect((await download(f.url)).hash).toBe(sha256(f.content));
    expect(server.requests(f.path).every((r) => r.status === 200)).toBe(true);
  });

  it('falls back to one stream when Content-Range is wrong, never writing shifted bytes', async () => {
    const f = serve(2 * MiB, { wrongContentRange: true });
    expect((await download(f.url)).hash).toBe(sha256(f.content));
  });

  it('downloads a chunked body of unknown length in one stream', async () => {
    const f = serve(MiB + 123, { chunked: true });
    const { hash, result } = await download(f.url);
    expect(hash).toBe(sha256(f.content));
    expect(result.size).toBe(MiB + 123);
  });

  it('never calls a cut chunked body complete', async () => {
    const f = serve(MiB, { chunked: true, dropAfterBytes: 300 * KiB });
    const dl = mg.download(f.url, { dir, retries: 2 });
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_CONNECTION_RESET' });
    expect((await readdir(dir)).filter((n) => !n.endsWith('.mgpart') && !n.endsWith('.mgstate'))).toEqual([]);
  });

  it('recovers a chunked body that was cut, from the start', async () => {
    const f = serve(MiB, { chunked: true, dropAfterBytes: 300 * KiB, dropTimes: 2 });
    expect((await download(f.url)).hash).toBe(sha256(f.content));
  });

  it('resumes segments whose connections drop mid-body', async () => {
    const f = serve(4 * MiB, { dropAfterBytes: 200 * KiB, dropTimes: 6 });
    const dl = mg.download(f.url, { dir, connections: 4 });
    const codes: string[] = [];
    dl.on('retry', (r) => codes.push(r.error.code));
    const result = await dl.done;
    expect(createHash('sha256').update(await readFile(result.file)).digest('hex')).toBe(sha256(f.content));
    expect(codes.length).toBeGreaterThan(0);
    expect(new Set(codes)).toEqual(new Set(['MG_ERR_SHORT_BODY']));
  });

  it('retries after failures and then succeeds (fail N times then recover)', async () => {
    const f = serve(MiB, { failTimes: { count: 3, status: 500 } });
    expect((await download(f.url)).hash).toBe(sha256(f.content));
  });

  it('honours Retry-After on 503', async () => {
    const f = serve(256 * KiB, { failTimes: { count: 1, status: 503, retryAfter: 1 } });
    const dl = mg.download(f.url, { dir });
    const delays: number[] = [];
    dl.on('retry', (r) => delays.push(r.delayMs));
    await dl.done;
    expect(delays[0]).toBeGreaterThanOrEqual(1000);
  });

  it('works with a server that answers 503 above N connections', async () => {
    const f = serve(4 * MiB, { maxConnections: 2, throttleBytesPerSec: 4 * MiB });
    expect((await download(f.url, { connections: 8 })).hash).toBe(sha256(f.content));
    expect(server.requests(f.path).some((r) => r.status === 503)).toBe(true);
  });

  it('starts over when the file is replaced mid-download (new ETag), never mixing versions', async () => {
    const f = serve(4 * MiB, { replaceAfterRequests: 3 });
    const dl = mg.download(f.url, { dir, connections: 4 });
    const reasons: string[] = [];
    dl.on('restart', (r) => reasons.push(r.reason));
    const result = await dl.done;
    const hash = createHash('sha256').update(await readFile(result.file)).digest('hex');
    expect(hash).toBe(sha256(server.fileContent(f.path)));
    expect(hash).not.toBe(sha256(f.content));
    expect(reasons.length).toBeGreaterThan(0);
    expect(result.restarts).toBeGreaterThan(0);
  });

  it('follows a same-origin redirect and uses the final URL for every connection', async () => {
    const f = serve(2 * MiB);
    server.addRedirect('/moved-here', f.path, 302);
    const { hash, result } = await download(server.url('/moved-here'));
    expect(hash).toBe(sha256(f.content));
    expect(result.url).toBe(f.url);
    expect(server.requests('/moved-here')).toHaveLength(1);
  });

  it('follows a cross-origin redirect without sending credentials there', async () => {
    const path = `/x${++counter}.bin`;
    const content = { size: MiB, seed: counter };
    other.addFile(path, content);
    server.addRedirect('/away', other.url(path), 307);
    const { hash } = await download(server.url('/away'), {
      credentials: { username: 'u', password: 'secret' },
      headers: { cookie: 'session=1' },
    });
    expect(hash).toBe(sha256(content));
    for (const r of other.requests(path)) {
      expect(r.headers.authorization).toBeUndefined();
      expect(r.headers.cookie).toBeUndefined();
    }
    expect(server.requests('/away')[0]?.headers.authorization).toMatch(/^Basic /);
  });

  it('reduces a hostile Content-Disposition name to a safe base name inside the directory', async () => {
    const f = serve(1000, {}, { contentDisposition: 'attachment; filename="../../etc/passwd"' });
    const { result } = await download(f.url);
    expect(result.file).toBe(join(dir, 'passwd'));
    const g = serve(1000, {}, { contentDisposition: "attachment; filename*=UTF-8''..%2F.hidden%E2%82%AC.txt" });
    expect((await download(g.url)).result.file).toBe(join(dir, 'hidden€.txt'));
  });

  it('fails with MG_ERR_NOT_FOUND at once on 404', async () => {
    const dl = mg.download(server.url('/nope'), { dir });
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_NOT_FOUND', statusCode: 404 });
    expect(server.requests('/nope')).toHaveLength(1);
  });

  it('fails with MG_ERR_AUTH at once on 401', async () => {
    const f = serve(1000, {}, { auth: { username: 'u', password: 'p' } });
    await expect(mg.download(f.url, { dir }).done).rejects.toMatchObject({ code: 'MG_ERR_AUTH', statusCode: 401 });
    expect(server.requests(f.path)).toHaveLength(1);
    const ok = await download(f.url, { credentials: { username: 'u', password: 'p' } });
    expect(ok.hash).toBe(sha256(f.content));
  });

  it('fails on a 416 answer with MG_ERR_RANGE_NOT_SATISFIABLE', async () => {
    const f = serve(1000, { status: 416 });
    await expect(mg.download(f.url, { dir }).done).rejects.toMatchObject({ code: 'MG_ERR_RANGE_NOT_SATISFIABLE' });
  });

  it('abandons a connection that stalls mid-body and finishes on another', async () => {
    const f = serve(2 * MiB, { stallAfterBytes: 100 * KiB, stallTimes: 1 });
    const dl = mg.download(f.url, { dir, stallTimeoutMs: 300 });
    const codes: string[] = [];
    dl.on('retry', (r) => codes.push(r.error.code));
    const result = await dl.done;
    expect(createHash('sha256').update(await readFile(result.file)).digest('hex')).toBe(sha256(f.content));
    expect(codes).toContain('MG_ERR_STALLED');
  });

  it('counts a server that never answers the probe as stalled (regression: probe ignored stallTimeoutMs)', async () => {
    const f = serve(1000, { latencyMs: 5000 });
    const dl = mg.download(f.url, { dir, stallTimeoutMs: 200, retries: 0 });
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_TIMEOUT' });
  });

  it('lets fast connections take over the tail of one slow connection', async () => {
    const f = serve(4 * MiB, { slowRequest: { nth: 2, bytesPerSec: 64 * KiB } });
    const { hash } = await download(f.url, { connections: 4 });
    expect(hash).toBe(sha256(f.content));
    // More ranges than connections were asked for: the slow one's segment was split.
    const ranges = server.requests(f.path).filter((r) => r.status === 206);
    expect(ranges.length).toBeGreaterThan(4);
  });

  it('refuses a ranged response with a Content-Encoding and still gets the raw bytes', async () => {
    const f = serve(2 * MiB, { contentEncoding: 'gzip' });
    const { hash } = await download(f.url);
    expect(hash).toBe(sha256(f.content));
  });

  it('verifies the digest the server sends (Repr-Digest)', async () => {
    const f = serve(MiB, {}, { digest: { reprDigest: true } });
    const { result } = await download(f.url);
    expect(result.verified).toBe(true);
    expect(result.digest).toMatchObject({ algorithm: 'sha256', source: 'server', hex: sha256(f.content) });
  });

  it('fails when the server digest does not match, leaving no complete file', async () => {
    const f = serve(MiB, {}, { digest: { reprDigest: true, wrong: true } });
    await expect(mg.download(f.url, { dir }).done).rejects.toMatchObject({ code: 'MG_ERR_CHECKSUM_MISMATCH' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('downloads an empty file', async () => {
    const f = serve(0);
    const { result } = await download(f.url);
    expect(result.size).toBe(0);
  });

  it('downloads over HTTPS with the test CA trusted', async () => {
    const tls = await startHttpServer({ tls: true });
    try {
      tls.addFile('/s.bin', { size: 2 * MiB, seed: 42 });
      const secure = new Multiget({ plugins: [new HttpPlugin({ ca: tls.ca!, useEnvProxy: false })] });
      const result = await secure.download(tls.url('/s.bin'), { dir }).done;
      expect(createHash('sha256').update(await readFile(result.file)).digest('hex')).toBe(sha256({ size: 2 * MiB, seed: 42 }));
      await secure.close();
      const untrusting = new Multiget({ plugins: [new HttpPlugin({ useEnvProxy: false })] });
      await expect(untrusting.download(tls.url('/s.bin'), { dir, retries: 0 }).done).rejects.toMatchObject({
        code: 'MG_ERR_TLS',
      });
      await untrusting.close();
    } finally {
      await tls.close();
    }
  });
});
