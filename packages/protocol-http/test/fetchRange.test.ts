import { generateContent, startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';
import { makeJob, probed, rangeOf, readAll, rejection } from './helpers.js';

const SPEC = { size: 300_000, seed: 11 };
const BYTES = generateContent(SPEC);

let server: HttpTestServer;
let http: HttpPlugin;

beforeAll(async () => {
  server = await startHttpServer();
  http = new HttpPlugin({ useEnvProxy: false });
  server.addFile('/data.bin', SPEC, { etag: '"v1"' });
  server.addFile('/weak.bin', SPEC, { etag: 'W/"weak"', lastModified: 'Tue, 01 Jul 2025 10:00:00 GMT' });
});

afterAll(async () => {
  await http.close();
  await server.close();
});

/** A file of its own per test, so faults and counters never leak between tests. */
let counter = 0;
function freshPath(): string {
  return `/f${++counter}.bin`;
}

describe('fetchRange', () => {
  it('returns exactly the bytes asked for, with Range and If-Range', async () => {
    const job = await probed(http, makeJob(server.url('/data.bin')));
    job.remote?.initialSource?.cancel();
    const source = await http.fetchRange(rangeOf(job, 1000, 99_999), job);
    expect(source).toMatchObject({ start: 1000, end: 99_999 });
    expect((await readAll(source)).equals(BYTES.subarray(1000, 100_000))).toBe(true);
    const last = server.requests('/data.bin').at(-1);
    expect(last?.headers.range).toBe('bytes=1000-99999');
    expect(last?.headers['if-range']).toBe('"v1"');
    expect(last?.headers['accept-encoding']).toBe('identity');
  });

  it('reads an open-ended range to the end of the file', async () => {
    const job = await probed(http, makeJob(server.url('/data.bin')));
    job.remote?.initialSource?.cancel();
    const source = await http.fetchRange(rangeOf(job, 250_000, undefined), job);
    expect(source).toMatchObject({ start: 250_000, end: SPEC.size - 1 });
    expect((await readAll(source)).equals(BYTES.subarray(250_000))).toBe(true);
    expect(server.requests('/data.bin').at(-1)?.headers.range).toBe('bytes=250000-');
  });

  it('uses Last-Modified for If-Range when the ETag is weak', async () => {
    const job = await probed(http, makeJob(server.url('/weak.bin')));
    job.remote?.initialSource?.cancel();
    await readAll(await http.fetchRange(rangeOf(job, 0, 9), job));
    expect(server.requests('/weak.bin').at(-1)?.headers['if-range']).toBe('Tue, 01 Jul 2025 10:00:00 GMT');
  });

  it('uses job.remote.url, the URL after redirects', async () => {
    const path = freshPath();
    server.addFile(path, SPEC);
    server.addRedirect(`/to${path}`, path);
    const job = await probed(http, makeJob(server.url(`/to${path}`)));
    job.remote?.initialSource?.cancel();
    await readAll(await http.fetchRange(rangeOf(job, 10, 19), job));
    expect(server.requests(`/to${path}`)).toHaveLength(1);
    expect(server.requests(path)).toHaveLength(2);
  });

  it('fails with MG_ERR_RANGE_IGNORED when a range is answered with the same whole file', async () => {
    const path = freshPath();
    server.addFile(path, SPEC);
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    server.setFaults(path, { refuseRanges: true });
    const err = await rejection(http.fetchRange(rangeOf(job, 100, 199), job));
    expect(err).toMatchObject({ code: 'MG_ERR_RANGE_IGNORED', statusCode: 200 });
  });

  it('fails with MG_ERR_BAD_CONTENT_RANGE when the 206 covers other bytes', async () => {
    const path = freshPath();
    server.addFile(path, SPEC);
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    server.setFaults(path, { wrongContentRange: true });
    const err = await rejection(http.fetchRange(rangeOf(job, 100, 199), job));
    expect(err).toMatchObject({ code: 'MG_ERR_BAD_CONTENT_RANGE', statusCode: 206 });
  });

  it('fails with MG_ERR_REMOTE_CHANGED when If-Range no longer matches', async () => {
    const path = freshPath();
    server.addFile(path, SPEC);
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    server.replaceFile(path, { size: SPEC.size, seed: 12 });
    const err = await rejection(http.fetchRange(rangeOf(job, 100, 199), job));
    expect(err).toMatchObject({ code: 'MG_ERR_REMOTE_CHANGED', statusCode: 200 });
  });

  it('fails with MG_ERR_REMOTE_CHANGED when a 206 carries another ETag', async () => {
    const path = freshPath();
    server.addFile(path, SPEC);
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    // A server that ignores If-Range but still labels the new version.
    const request = { ...rangeOf(job, 100, 199), validators: { etag: 'W/"older"' } };
    const err = await rejection(http.fetchRange(request, job));
    expect(err).toMatchObject({ code: 'MG_ERR_REMOTE_CHANGED', statusCode: 206 });
  });

  it('fails with MG_ERR_REMOTE_CHANGED when the total size differs', async () => {
    const path = freshPath();
    server.addFile(path, SPEC, { etag: false, lastModified: false });
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    server.replaceFile(path, { size: SPEC.size + 1, seed: 11 });
    const err = await rejection(http.fetchRange(rangeOf(job, 100, 199), job));
    expect(err).toMatchObject({ code: 'MG_ERR_REMOTE_CHANGED', statusCode: 206 });
  });

  it('fails with MG_ERR_REMOTE_CHANGED on a 416 that shows another size', async () => {
    const path = freshPath();
    server.addFile(path, SPEC, { etag: false, lastModified: false });
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    server.replaceFile(path, { size: 1000, seed: 11 });
    const err = await rejection(http.fetchRange(rangeOf(job, 200_000, 200_099), job));
    expect(err).toMatchObject({ code: 'MG_ERR_REMOTE_CHANGED', statusCode: 416 });
  });

  it('fails with MG_ERR_RANGE_NOT_SATISFIABLE on a 416 of the same size', async () => {
    const path = freshPath();
    server.addFile(path, SPEC);
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    const err = await rejection(http.fetchRange({ ...rangeOf(job, SPEC.size + 10, SPEC.size + 20) }, job));
    expect(err).toMatchObject({ code: 'MG_ERR_RANGE_NOT_SATISFIABLE', statusCode: 416 });
  });

  it('fails with MG_ERR_ENCODED_RANGE when a 206 is content-encoded', async () => {
    const path = freshPath();
    server.addFile(path, SPEC);
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    server.setFaults(path, { contentEncoding: 'br' });
    const err = await rejection(http.fetchRange(rangeOf(job, 100, 199), job));
    expect(err).toMatchObject({ code: 'MG_ERR_ENCODED_RANGE', statusCode: 206 });
  });

  it('maps statuses the same way as the probe (503 with Retry-After)', async () => {
    const path = freshPath();
    server.addFile(path, SPEC);
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    server.setFaults(path, { failTimes: { count: 1, code: 503, retryAfter: 2 } });
    const err = await rejection(http.fetchRange(rangeOf(job, 100, 199), job));
    expect(err).toMatchObject({ code: 'MG_ERR_SERVER_BUSY', statusCode: 503, retryAfterMs: 2000 });
    // The connection that carried the 503 is usable again.
    expect((await readAll(await http.fetchRange(rangeOf(job, 100, 199), job))).equals(BYTES.subarray(100, 200))).toBe(true);
  });

  it('throws MG_ERR_SHORT_BODY when the connection drops before the range is complete', async () => {
    const path = freshPath();
    server.addFile(path, SPEC);
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    server.setFaults(path, { dropAfterBytes: 5000 });
    const source = await http.fetchRange(rangeOf(job, 0, 99_999), job);
    const received: Uint8Array[] = [];
    const err = await rejection((async () => {
      for await (const chunk of source.body) received.push(chunk);
    })());
    expect(err.code).toBe('MG_ERR_SHORT_BODY');
    expect(err.retryable).toBe(true);
    expect(Buffer.concat(received).equals(BYTES.subarray(0, 5000))).toBe(true);
  });

  it('throws MG_ERR_CONNECTION_RESET when a chunked body of unknown length is cut', async () => {
    const path = freshPath();
    server.addFile(path, SPEC, { faults: { chunked: true, dropAfterBytes: 5000 } });
    const job = await probed(http, makeJob(server.url(path)));
    expect(job.remote?.size).toBeUndefined();
    const err = await rejection(readAll(job.remote!.initialSource!));
    expect(err.code).toBe('MG_ERR_CONNECTION_RESET');
  });

  it('fetches the whole file without a Range header when the server has no range support', async () => {
    const path = freshPath();
    server.addFile(path, SPEC, { faults: { wrongContentRange: true } });
    const job = await probed(http, makeJob(server.url(path)));
    expect(job.remote).toMatchObject({ ranges: false, size: undefined });
    const source = await http.fetchRange(rangeOf(job, 0, undefined), job);
    expect((await readAll(source)).equals(BYTES)).toBe(true);
    const last = server.requests(path).at(-1);
    expect(last?.headers.range).toBeUndefined();
    expect(last?.status).toBe(200);
  });

  it('fetches a whole chunked file without a Range header and counts no length', async () => {
    const path = freshPath();
    server.addFile(path, SPEC, { faults: { chunked: true } });
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    const source = await http.fetchRange(rangeOf(job, 0, undefined), job);
    expect(source).toMatchObject({ start: 0, end: undefined });
    expect((await readAll(source)).equals(BYTES)).toBe(true);
    expect(server.requests(path).at(-1)?.headers.range).toBeUndefined();
  });

  it('refuses to fetch from an offset when the server has no range support', async () => {
    const path = freshPath();
    server.addFile(path, SPEC, { faults: { refuseRanges: true } });
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    const before = server.requests(path).length;
    const err = await rejection(http.fetchRange(rangeOf(job, 10, undefined), job));
    expect(err.code).toBe('MG_ERR_RANGE_IGNORED');
    expect(server.requests(path)).toHaveLength(before);
  });

  it('fails with MG_ERR_REMOTE_CHANGED when a plain GET shows another size', async () => {
    const path = freshPath();
    server.addFile(path, SPEC, { etag: false, lastModified: false, faults: { refuseRanges: true } });
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    server.replaceFile(path, { size: 5, seed: 1 });
    const err = await rejection(http.fetchRange(rangeOf(job, 0, undefined), job));
    expect(err).toMatchObject({ code: 'MG_ERR_REMOTE_CHANGED', statusCode: 200 });
  });

  it('fails with MG_ERR_ABORTED when the request signal aborts mid-body', async () => {
    const path = freshPath();
    server.addFile(path, SPEC, { faults: { throttleBytesPerSec: 100_000 } });
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    const controller = new AbortController();
    const source = await http.fetchRange(rangeOf(job, 0, SPEC.size - 1, controller.signal), job);
    const err = await rejection((async () => {
      for await (const _chunk of source.body) controller.abort();
    })());
    expect(err.code).toBe('MG_ERR_ABORTED');
  });

  it('passes a DownloadError abort reason through', async () => {
    const path = freshPath();
    server.addFile(path, SPEC, { faults: { throttleBytesPerSec: 100_000 } });
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    const controller = new AbortController();
    const source = await http.fetchRange(rangeOf(job, 0, SPEC.size - 1, controller.signal), job);
    const { NetworkError } = await import('@multiget/core');
    const stalled = new NetworkError('MG_ERR_STALLED', 'no bytes for 30 s');
    const err = await rejection((async () => {
      for await (const _chunk of source.body) controller.abort(stalled);
    })());
    expect(err).toBe(stalled);
  });

  it('releases the connection when the reader breaks out early', async () => {
    const path = freshPath();
    server.addFile(path, SPEC, { faults: { throttleBytesPerSec: 200_000 } });
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    const source = await http.fetchRange(rangeOf(job, 0, SPEC.size - 1), job);
    for await (const _chunk of source.body) break;
    await expect.poll(() => server.requests(path).every((r) => r.done)).toBe(true);
  });

  it('releases the connection on cancel() before any read, and cancel is idempotent', async () => {
    const path = freshPath();
    server.addFile(path, SPEC, { faults: { throttleBytesPerSec: 200_000 } });
    const job = await probed(http, makeJob(server.url(path)));
    job.remote?.initialSource?.cancel();
    const source = await http.fetchRange(rangeOf(job, 0, SPEC.size - 1), job);
    source.cancel();
    source.cancel(new Error('again'));
    await expect.poll(() => server.requests(path).every((r) => r.done)).toBe(true);
    const err = await rejection(readAll(source));
    expect(err.code).toBe('MG_ERR_ABORTED');
  });
});
