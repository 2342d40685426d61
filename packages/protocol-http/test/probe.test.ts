import { createHash } from 'node:crypto';
import { generateContent, startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';
import { makeJob, readAll, rejection } from './helpers.js';

const SPEC = { size: 100_000, seed: 7 };
const BYTES = generateContent(SPEC);

let server: HttpTestServer;
let http: HttpPlugin;

beforeAll(async () => {
  server = await startHttpServer();
  http = new HttpPlugin({ useEnvProxy: false });
  server.addFile('/files/data.bin', SPEC, { etag: '"v1"', lastModified: 'Tue, 01 Jul 2025 10:00:00 GMT' });
  server.addFile('/ignore.bin', SPEC, { faults: { refuseRanges: true } });
  server.addFile('/chunked.bin', SPEC, { faults: { chunked: true } });
  server.addFile('/empty.bin', Buffer.alloc(0), { faults: { refuseRanges: true } });
  server.addFile('/empty-416.bin', Buffer.alloc(0), { faults: { status: 416 } });
  server.addFile('/wrong.bin', SPEC, { faults: { wrongContentRange: true } });
  server.addFile('/gzip-range.bin', SPEC, { faults: { contentEncoding: 'gzip' } });
  server.addFile('/gzip-whole.bin', SPEC, { faults: { contentEncoding: 'gzip', refuseRanges: true } });
  server.addFile('/named', SPEC, { contentDisposition: `attachment; filename*=UTF-8''%E2%82%AC.txt; filename="euro.txt"` });
  server.addFile('/raw-utf8', SPEC, { contentDisposition: 'attachment; filename="résumé €.pdf"' });
  server.addFile('/hostile', SPEC, { contentDisposition: 'attachment; filename="../../etc/passwd"' });
  server.addFile('/dir/caf%C3%A9%20menu.pdf', SPEC);
  server.addFile('/digests.bin', SPEC, { digest: { reprDigest: true, digest: true, contentMd5: true } });
  server.addFile('/digests-200.bin', SPEC, { digest: { contentMd5: true }, faults: { refuseRanges: true } });
  server.addFile('/416.bin', SPEC, { faults: { status: 416 } });
});

afterAll(async () => {
  await http.close();
  await server.close();
});

describe('probe', () => {
  it('learns size, range support and validators from a 206, and hands its body over', async () => {
    const info = await http.probe(makeJob(server.url('/files/data.bin')));
    expect(info.ranges).toBe(true);
    expect(info.size).toBe(SPEC.size);
    expect(info.validators).toEqual({ etag: '"v1"', lastModified: 'Tue, 01 Jul 2025 10:00:00 GMT', size: SPEC.size });
    expect(info.url.href).toBe(server.url('/files/data.bin'));
    expect(info.fileName).toBe('data.bin');
    expect(info.contentType).toBe('application/octet-stream');
    expect(info.initialSource).toMatchObject({ start: 0, end: SPEC.size - 1 });
    const bytes = await readAll(info.initialSource!);
    expect(bytes.equals(BYTES)).toBe(true);
    const [request] = server.requests('/files/data.bin');
    expect(request?.method).toBe('GET');
    expect(request?.headers.range).toBe('bytes=0-');
    expect(request?.headers['accept-encoding']).toBe('identity');
    expect(request?.headers['user-agent']).toBe('multiget-test/1.0');
  });

  it('reports no range support when the server answers 200, with the body as initialSource', async () => {
    const info = await http.probe(makeJob(server.url('/ignore.bin')));
    expect(info.ranges).toBe(false);
    expect(info.size).toBe(SPEC.size);
    expect(info.initialSource).toMatchObject({ start: 0, end: SPEC.size - 1 });
    expect((await readAll(info.initialSource!)).equals(BYTES)).toBe(true);
  });

  it('reports an unknown size for a chunked 200', async () => {
    const info = await http.probe(makeJob(server.url('/chunked.bin')));
    expect(info.ranges).toBe(false);
    expect(info.size).toBeUndefined();
    expect(info.validators.size).toBeUndefined();
    expect(info.initialSource).toMatchObject({ start: 0, end: undefined });
    expect((await readAll(info.initialSource!)).equals(BYTES)).toBe(true);
  });

  it('takes a 416 with bytes */0 as an empty file', async () => {
    const info = await http.probe(makeJob(server.url('/empty-416.bin')));
    expect(info).toMatchObject({ size: 0, ranges: true });
    expect(info.initialSource).toBeUndefined();
  });

  it('takes a 200 with Content-Length 0 as an empty file, with no stream to hand over', async () => {
    const info = await http.probe(makeJob(server.url('/empty.bin')));
    expect(info).toMatchObject({ size: 0, ranges: false });
    expect(info.initialSource).toBeUndefined();
  });

  it('fails on a 416 that is not an empty file', async () => {
    const err = await rejection(http.probe(makeJob(server.url('/416.bin'))));
    expect(err.code).toBe('MG_ERR_RANGE_NOT_SATISFIABLE');
    expect(err.statusCode).toBe(416);
  });

  it('distrusts ranges after a 206 with the wrong Content-Range, and drops that body', async () => {
    const info = await http.probe(makeJob(server.url('/wrong.bin')));
    expect(info.ranges).toBe(false);
    expect(info.size).toBeUndefined();
    expect(info.initialSource).toBeUndefined();
  });

  it('refuses ranges on an encoded 206 but still hands the whole stream over', async () => {
    const info = await http.probe(makeJob(server.url('/gzip-range.bin')));
    expect(info.ranges).toBe(false);
    expect(info.size).toBe(SPEC.size);
    expect((await readAll(info.initialSource!)).equals(BYTES)).toBe(true);
  });

  it('accepts an encoded 200 as a single stream of the raw bytes', async () => {
    const info = await http.probe(makeJob(server.url('/gzip-whole.bin')));
    expect(info.ranges).toBe(false);
    expect(info.size).toBe(SPEC.size);
    expect((await readAll(info.initialSource!)).equals(BYTES)).toBe(true);
  });

  it('takes the file name from Content-Disposition, filename* first', async () => {
    const info = await http.probe(makeJob(server.url('/named')));
    info.initialSource?.cancel();
    expect(info.fileName).toBe('€.txt');
  });

  it('decodes a plain filename that the server sent as raw UTF-8 bytes', async () => {
    const info = await http.probe(makeJob(server.url('/raw-utf8')));
    info.initialSource?.cancel();
    expect(info.fileName).toBe('résumé €.pdf');
  });

  it('passes a hostile file name through unsanitised (the core sanitises)', async () => {
    const info = await http.probe(makeJob(server.url('/hostile')));
    info.initialSource?.cancel();
    expect(info.fileName).toBe('../../etc/passwd');
  });

  it('takes the file name from the last path segment, percent-decoded, ignoring the query', async () => {
    const info = await http.probe(makeJob(server.url('/dir/caf%C3%A9%20menu.pdf?token=1')));
    info.initialSource?.cancel();
    expect(info.fileName).toBe('café menu.pdf');
  });

  it('reads Repr-Digest and Digest from a 206, but not Content-MD5', async () => {
    const info = await http.probe(makeJob(server.url('/digests.bin')));
    info.initialSource?.cancel();
    const sha = createHash('sha256').update(BYTES).digest('hex');
    expect(info.digests).toContainEqual({ algorithm: 'sha256', hex: sha, source: 'server' });
    expect(info.digests.some((d) => d.algorithm === 'md5')).toBe(false);
  });

  it('reads Content-MD5 from a full 200', async () => {
    const info = await http.probe(makeJob(server.url('/digests-200.bin')));
    info.initialSource?.cancel();
    const md5 = createHash('md5').update(BYTES).digest('hex');
    expect(info.digests).toEqual([{ algorithm: 'md5', hex: md5, source: 'server' }]);
  });

  it('strips userinfo from the URL it reports', async () => {
    const url = new URL(server.url('/files/data.bin'));
    url.username = 'someone';
    url.password = 'secret';
    const info = await http.probe(makeJob(url.href));
    info.initialSource?.cancel();
    expect(info.url.href).toBe(server.url('/files/data.bin'));
  });

  it('fails with MG_ERR_ABORTED when the job is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await rejection(http.probe(makeJob(server.url('/files/data.bin'), {}, controller.signal)));
    expect(err.code).toBe('MG_ERR_ABORTED');
  });
});
