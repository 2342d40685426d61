// Servers that break HTTP in ways a single plain stream survives (ranges that only work from byte 0,
// 206 bodies longer than their Content-Range), and ways nothing survives (forbidden bytes in a
// header: a protocol error, never retried). Real sockets, whole downloads through the engine.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import { Multiget } from '@multiget/core';
import { type HttpFaults, type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';
import { makeJob, probed, rangeOf, readAll, rejection } from './helpers.js';

const KiB = 1024;

let server: HttpTestServer;
let http: HttpPlugin;
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
  dir = await mkdtemp(join(tmpdir(), 'mg-http-broken-'));
  http = new HttpPlugin({ useEnvProxy: false });
  mg = new Multiget({
    plugins: [http],
    minSplitSize: 64 * KiB,
    checkpointIntervalMs: 100,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
  });
});
afterEach(async () => {
  await mg.close();
  await rm(dir, { recursive: true, force: true });
});

function serve(size: number, faults: HttpFaults): { path: string; url: string; content: { size: number; seed: number } } {
  const path = `/b${++counter}.bin`;
  const content = { size, seed: 100 + counter };
  server.addFile(path, content, { faults });
  return { path, url: server.url(path), content };
}

async function fileHash(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

describe('ranges that only work from byte 0', () => {
  it('a 416 for a range inside the file is MG_ERR_RANGE_IGNORED, not the end of the download', async () => {
    const f = serve(200 * KiB, { rangeFromZeroOnly: true });
    const job = await probed(http, makeJob(f.url));
    job.remote?.initialSource?.cancel();
    expect(job.remote?.ranges).toBe(true);
    const err = await rejection(http.fetchRange(rangeOf(job, 1000, 1999), job));
    expect(err).toMatchObject({ code: 'MG_ERR_RANGE_IGNORED', statusCode: 416 });
    expect(err.message).toMatch(/refused bytes 1000-1999/);
  });

  it('falls back to one plain stream from byte 0 and gets the exact file', async () => {
    const f = serve(1024 * KiB + 17, { rangeFromZeroOnly: true });
    const dl = mg.download(f.url, { dir, connections: 4 });
    const restarts: string[] = [];
    dl.on('restart', (r) => restarts.push(r.reason));
    const result = await dl.done;
    expect(await fileHash(result.file)).toBe(sha256(f.content));
    expect(restarts.join('\n')).toMatch(/HTTP 416.*one stream/);
    const log = server.requests(f.path);
    expect(log.some((r) => r.faults.includes('rangeFromZeroOnly'))).toBe(true);
    // The last request is the plain stream: no Range header, a 200 with every byte.
    const last = log.at(-1)!;
    expect(last.headers.range).toBeUndefined();
    expect(last.status).toBe(200);
  });
});

describe('206 bodies longer than their Content-Range', () => {
  it('a ranged body that runs past its range is MG_ERR_BAD_CONTENT_RANGE', async () => {
    const f = serve(200 * KiB, { trailingBytesAfterRange: 100 });
    const job = await probed(http, makeJob(f.url));
    job.remote?.initialSource?.cancel();
    const err = await rejection(readAll(await http.fetchRange(rangeOf(job, 1000, 1999), job)));
    expect(err.code).toBe('MG_ERR_BAD_CONTENT_RANGE');
    expect(err.message).toMatch(/runs past the 1000 bytes/);
  });

  it('falls back to one plain stream when the segments see the extra bytes', async () => {
    const f = serve(1024 * KiB + 5, { trailingBytesAfterRange: 300 });
    const dl = mg.download(f.url, { dir, connections: 4 });
    const restarts: string[] = [];
    dl.on('restart', (r) => restarts.push(r.reason));
    const result = await dl.done;
    expect(await fileHash(result.file)).toBe(sha256(f.content));
    expect(restarts.join('\n')).toMatch(/runs past .* one stream/);
    const last = server.requests(f.path).at(-1)!;
    expect(last.headers.range).toBeUndefined();
    expect(last.status).toBe(200);
  });

  it('does not reuse the probe ranged body for the plain stream (one segment, extra bytes at the end)', async () => {
    // Smaller than two split sizes: one segment, served by the probe's own bytes=0- response.
    const f = serve(100 * KiB, { trailingBytesAfterRange: 10 });
    const dl = mg.download(f.url, { dir, connections: 4 });
    const result = await dl.done;
    expect(await fileHash(result.file)).toBe(sha256(f.content));
    const log = server.requests(f.path);
    expect(log.filter((r) => r.faults.includes('trailingBytesAfterRange')).length).toBeGreaterThanOrEqual(2);
    expect(log.at(-1)!.headers.range).toBeUndefined();
  });
});

/** Header lines undici's parser (llhttp) refuses: forbidden bytes in a value or a name. */
const FORBIDDEN_LINES: Array<[string, Buffer]> = [
  ['a NUL in a value', Buffer.from('x-bad: a\0b', 'latin1')],
  ['a NUL in a name', Buffer.from('x-b\0ad: ab', 'latin1')],
  ['a control byte in a value', Buffer.from('x-bad: a\x01b', 'latin1')],
  ['DEL in a value', Buffer.from('x-bad: a\x7fb', 'latin1')],
  ['a bare CR in a value', Buffer.from('x-bad: a\rb', 'latin1')],
  ['a space in a name', Buffer.from('x bad: ab', 'latin1')],
  ['a space before the colon', Buffer.from('x-bad : ab', 'latin1')],
];

describe('forbidden bytes in a response header', () => {
  it.each(FORBIDDEN_LINES)('%s is MG_ERR_PROTOCOL, not retryable', async (_name, line) => {
    const f = serve(1000, { rawHeaderLine: line });
    const err = await rejection(http.probe(makeJob(f.url)));
    expect(err.code).toBe('MG_ERR_PROTOCOL');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/Malformed response/);
  });

  it('a malformed chunk in the middle of a body is MG_ERR_PROTOCOL too, not a reset', async () => {
    // Node's server cannot send a broken chunk: a raw socket does.
    const raw = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => {
        socket.end('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n');
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(raw.address() as net.AddressInfo).port}/chunks.bin`;
      const job = await probed(http, makeJob(url));
      const err = await rejection(readAll(job.remote!.initialSource!));
      expect(err.code).toBe('MG_ERR_PROTOCOL');
      expect(err.retryable).toBe(false);
    } finally {
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
  });

  it('fails the download at once with MG_ERR_PROTOCOL: one request, no retry', async () => {
    const f = serve(10 * KiB, { rawHeaderLine: Buffer.from('x-api-version: 1\0', 'latin1') });
    const dl = mg.download(f.url, { dir, retries: 3 });
    let retries = 0;
    dl.on('retry', () => retries++);
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_PROTOCOL' });
    expect(retries).toBe(0);
    expect(server.requests(f.path)).toHaveLength(1);
  });
});
