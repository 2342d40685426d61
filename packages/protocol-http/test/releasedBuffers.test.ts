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
import { subscribe, unsubscribe } from 'node:diagnostics_channel';

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

// A response's first body bytes usually arrive in the socket read that held its head: that chunk is
// a view of the end of the read's buffer. It was never freed (part of a buffer), so every response
// left up to 64 KiB to the garbage collector: for a list of 1,000 files of 64 KiB, 28 MiB piled up
// between collections, and the bench's `many` profile peaked 30 MiB higher.
describe('the first chunk, read with the head', () => {
  async function readAll(path: string, size: number): Promise<{ chunks: Uint8Array[]; copies: Buffer[]; source: HttpByteSource; headers: Record<string, unknown> }> {
    const agent = new Agent();
    try {
      const url = new URL(server.url(path));
      const signal = AbortSignal.timeout(20_000);
      const { body, headers } = await sendRequest(agent, { origin: url.origin, path: url.pathname, headers: {}, headersTimeout: 30_000, signal });
      const source = new HttpByteSource(body, 0, size - 1, url, signal);
      const chunks: Uint8Array[] = [];
      const copies: Buffer[] = [];
      for await (const chunk of source.body) {
        chunks.push(chunk);
        copies.push(Buffer.from(chunk));
      }
      return { chunks, copies, source, headers };
    } finally {
      await agent.close();
    }
  }

  it('is freed once written, with the head before it, and the bytes were right', async () => {
    server.addFile('/small-head.bin', { size: 4096, seed: 34 });
    const { chunks, copies, source, headers } = await readAll('/small-head.bin', 4096);
    expect(sha256(Buffer.concat(copies))).toBe(sha256({ size: 4096, seed: 34 }));
    // The case itself: a small response comes in one read, its body a view after the head.
    const first = chunks[0]!;
    expect(first.byteOffset).toBeGreaterThan(0);
    expect(first.byteOffset + first.byteLength).toBe(first.buffer.byteLength);
    expect(Buffer.from(first.buffer, 0, 5).toString('latin1')).toBe('HTTP/');
    source.written(chunks);
    for (const c of chunks) expect(c.byteLength).toBe(0);
    // What the plugin kept of the head is strings, not views of the freed read.
    expect(headers['content-length']).toBe('4096');
  });

  it('is kept while a subscriber of undici:request:headers may hold views of the head', async () => {
    server.addFile('/small-head-2.bin', { size: 4096, seed: 35 });
    const heads: unknown[] = [];
    const onHeaders = (message: unknown): void => {
      heads.push(message);
    };
    subscribe('undici:request:headers', onHeaders);
    try {
      const { chunks, source } = await readAll('/small-head-2.bin', 4096);
      expect(heads).toHaveLength(1);
      expect(chunks[0]!.byteOffset).toBeGreaterThan(0);
      source.written(chunks);
      expect(chunks[0]!.byteLength).toBe(4096);
      const raw = (heads[0] as { response: { headers: Buffer[] } }).response.headers;
      expect(raw.map((b) => b.toString('latin1')).join(' ').toLowerCase()).toContain('content-length 4096');
    } finally {
      unsubscribe('undici:request:headers', onHeaders);
    }
  });

  it('nothing is freed while a subscriber of undici:request:bodyChunkReceived may hold the chunks', async () => {
    server.addFile('/seen-chunks.bin', { size: 1024 * 1024, seed: 36 });
    const seen: Uint8Array[] = [];
    const onChunk = (message: unknown): void => {
      seen.push((message as { chunk: Uint8Array }).chunk);
    };
    subscribe('undici:request:bodyChunkReceived', onChunk);
    try {
      const { chunks, copies, source } = await readAll('/seen-chunks.bin', 1024 * 1024);
      expect(seen.length).toBeGreaterThan(0);
      source.written(chunks);
      for (const c of chunks) expect(c.byteLength).toBeGreaterThan(0);
      // What the subscriber holds is still the bytes that arrived.
      expect(sha256(Buffer.concat(seen.map((c) => Buffer.from(c))))).toBe(sha256(Buffer.concat(copies)));
      expect(sha256(Buffer.concat(copies))).toBe(sha256({ size: 1024 * 1024, seed: 36 }));
    } finally {
      unsubscribe('undici:request:bodyChunkReceived', onChunk);
    }
  });

  it('only the first chunk, only to the end of a buffer that begins with a status line, and only once', () => {
    const url = new URL('http://127.0.0.1/x');
    const read = (head: string, bodyBytes: number): Uint8Array => {
      const buffer = new Uint8Array(head.length + bodyBytes);
      buffer.set(Buffer.from(head, 'latin1'));
      return buffer.subarray(head.length);
    };
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n';

    // The first chunk after a head: freed.
    let body = new ResponseBody(1 << 20, () => undefined);
    let source = new HttpByteSource(body, 0, 99, url, new AbortController().signal);
    const first = read(head, 60);
    const second = read(head, 40); // the same shape, but not the first chunk
    body.push(first);
    body.push(second);
    source.written([first, second]);
    expect(first.byteLength).toBe(0);
    expect(second.byteLength).toBe(40);

    // A view that stops before its buffer's end (later bytes of the read are someone's), a buffer
    // that does not begin with a status line, and a cut piece of the first chunk: kept.
    for (const chunk of [read(head, 80).subarray(0, 60), read('NOT A HEAD\r\n\r\n', 60)]) {
      body = new ResponseBody(1 << 20, () => undefined);
      source = new HttpByteSource(body, 0, 99, url, new AbortController().signal);
      body.push(chunk);
      source.written([chunk]);
      expect(chunk.byteLength).toBe(60);
    }
    body = new ResponseBody(1 << 20, () => undefined);
    source = new HttpByteSource(body, 0, 99, url, new AbortController().signal);
    const whole = read(head, 60);
    body.push(whole);
    const piece = whole.subarray(0, 30);
    source.written([piece]);
    expect(piece.byteLength).toBe(30);

    // Only chunks may be freed (a subscriber of the raw heads): kept.
    body = new ResponseBody(1 << 20, () => undefined, 'chunks');
    source = new HttpByteSource(body, 0, 99, url, new AbortController().signal);
    const kept = read(head, 60);
    body.push(kept);
    source.written([kept]);
    expect(kept.byteLength).toBe(60);
  });
});
