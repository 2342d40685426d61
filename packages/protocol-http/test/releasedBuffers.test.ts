// The engine tells the HTTP source which chunks it wrote, and the source frees their memory at once.
// Not an empty chunk: when undici resumes a paused body and the socket has nothing yet, it parses an
// empty buffer it shares across connections and delivers an empty view of it. Freeing that one
// (an empty view spans its whole, empty, buffer) broke every later resume of every connection
// ("Cannot perform %TypedArray%.prototype.set on a detached ArrayBuffer"): downloads read slower
// than their socket failed and retried. Every download is compared by sha256.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget } from '@multiget/core';
import { sha256, startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';
import { HttpByteSource } from '../src/HttpByteSource.js';
import { ResponseBody } from '../src/ResponseBody.js';
import { sendRequest } from '../src/sendRequest.js';
import { Agent } from 'undici';

const MiB = 1024 * 1024;
let server: HttpTestServer;
let dir: string;

beforeAll(async () => {
  server = await startHttpServer();
  server.addFile('/one-stream.bin', { size: 24 * MiB, seed: 31 }, { faults: { refuseRanges: true } });
  server.addFile('/ranges.bin', { size: 24 * MiB, seed: 32 });
  // Slow enough that the socket is often empty when a paused body resumes.
  server.addFile('/trickle.bin', { size: 256 * 1024, seed: 33 }, { faults: { throttleBytesPerSec: 4_000_000 } });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-http-release-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('chunks freed once written', () => {
  for (const [path, connections] of [
    ['/one-stream.bin', 1],
    ['/ranges.bin', 4],
  ] as const) {
    it(`a download read slower than its socket (${path}, ${connections} connection(s), rate limit) completes with no retry and the right bytes`, async () => {
      const mg = new Multiget({ plugins: [new HttpPlugin({ useEnvProxy: false })], retry: { baseDelayMs: 10, maxDelayMs: 50 } });
      try {
        const dl = mg.download(server.url(path), { dir, connections, rateLimit: 48 * MiB });
        const failures: string[] = [];
        dl.on('retry', (r) => failures.push(r.error.message));
        const result = await dl.done;
        expect(failures).toEqual([]);
        expect(result.restarts).toBe(0);
        expect(sha256(await readFile(result.file))).toBe(sha256({ size: 24 * MiB, seed: path === '/ranges.bin' ? 32 : 31 }));
      } finally {
        await mg.close();
      }
    });
  }
});

describe('HttpByteSource.written', () => {
  it('a body paused after every chunk and resumed on an empty socket, its chunks freed as it goes, ends whole', async () => {
    const agent = new Agent();
    try {
      const url = new URL(server.url('/trickle.bin'));
      // A high-water mark of one byte: undici is paused after every chunk, resumed once it is taken.
      const signal = AbortSignal.timeout(20_000);
      const { body, statusCode } = await sendRequest(agent, { origin: url.origin, path: url.pathname, headers: {}, headersTimeout: 30_000, signal, highWater: 1 });
      const source = new HttpByteSource(body, 0, 256 * 1024 - 1, url, signal);
      // (The bound only turns a hang into a failure: a freed shared buffer stalled the body for good.)
      expect(statusCode).toBe(200);
      const copies: Buffer[] = [];
      let empty = 0;
      for (;;) {
        const chunk = body.take();
        if (chunk === null) break;
        if (chunk === undefined) {
          await body.wait();
          continue;
        }
        if (chunk.byteLength === 0) empty++;
        copies.push(Buffer.from(chunk));
        source.written([chunk]);
      }
      expect(sha256(Buffer.concat(copies))).toBe(sha256({ size: 256 * 1024, seed: 33 }));
      // The case that broke: undici resumed on an empty socket and handed out an empty view.
      expect(empty).toBeGreaterThan(0);
    } finally {
      await agent.close();
    }
  });

  it('frees the chunks it is given, but never a view of part of a buffer nor an empty one', () => {
    const url = new URL('http://127.0.0.1/x');
    const source = new HttpByteSource(new ResponseBody(1 << 20, () => undefined), 0, 999, url, new AbortController().signal);
    const whole = new Uint8Array(1000);
    const read = new Uint8Array(4096);
    const bodyPart = read.subarray(300);
    const shared = new Uint8Array(0);
    source.written([whole, bodyPart, shared]);
    expect(whole.byteLength).toBe(0);
    expect(bodyPart.byteLength).toBe(4096 - 300);
    expect(shared.buffer.byteLength).toBe(0);
    expect((shared.buffer as ArrayBuffer & { detached?: boolean }).detached).toBe(false);
  });
});
