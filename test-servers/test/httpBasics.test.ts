import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateContent, startHttpServer, type HttpTestServer } from '../src/index.js';
import { request, singleSocketAgent, until } from './helpers.js';

const CONTENT = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');

describe('HTTP basics', () => {
  let server: HttpTestServer;
  beforeEach(async () => {
    server = await startHttpServer();
    server.addFile('/file.bin', CONTENT);
  });
  afterEach(async () => {
    await server.close();
  });

  it('listens on 127.0.0.1 with a port from the OS', () => {
    expect(server.origin).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    expect(server.ca).toBeUndefined();
    expect(server.url('/x')).toBe(`${server.origin}/x`);
  });

  it('serves a whole file with length, validators and Accept-Ranges', async () => {
    const reply = await request(server.url('/file.bin'));
    expect(reply.status).toBe(200);
    expect(reply.body.equals(CONTENT)).toBe(true);
    expect(reply.headers['content-length']).toBe(String(CONTENT.length));
    expect(reply.headers['accept-ranges']).toBe('bytes');
    expect(reply.headers['content-type']).toBe('application/octet-stream');
    expect(reply.headers.etag).toMatch(/^"[^"]+"$/);
    expect(Date.parse(reply.headers['last-modified'] ?? '')).not.toBeNaN();
  });

  it('serves generated content as the bytes generateContent gives', async () => {
    const spec = { size: 1024 * 1024 + 17, seed: 12 };
    server.addFile('/gen', spec);
    const reply = await request(server.url('/gen'));
    expect(reply.body.equals(generateContent(spec))).toBe(true);
    const ranged = await request(server.url('/gen'), { headers: { range: 'bytes=1000-300000' } });
    expect(ranged.body.equals(generateContent(spec, 1000, 300_001))).toBe(true);
  });

  it.each([
    ['bytes=2-5', 2, 5],
    ['bytes=30-', 30, 35],
    ['bytes=-4', 32, 35],
    ['bytes=34-1000', 34, 35],
    ['bytes=-1000', 0, 35],
  ])('answers Range %s with 206 and the right bytes', async (range, first, last) => {
    const reply = await request(server.url('/file.bin'), { headers: { range } });
    expect(reply.status).toBe(206);
    expect(reply.headers['content-range']).toBe(`bytes ${first}-${last}/${CONTENT.length}`);
    expect(reply.headers['content-length']).toBe(String(last - first + 1));
    expect(reply.body.equals(CONTENT.subarray(first, last + 1))).toBe(true);
  });

  it('answers an unsatisfiable range with 416 and Content-Range */size', async () => {
    for (const range of ['bytes=36-', 'bytes=100-200', 'bytes=-0']) {
      const reply = await request(server.url('/file.bin'), { headers: { range } });
      expect(reply.status, range).toBe(416);
      expect(reply.headers['content-range']).toBe(`bytes */${CONTENT.length}`);
    }
  });

  it('ignores multi-range and malformed Range headers with a 200', async () => {
    for (const range of ['bytes=0-1,4-5', 'items=0-1', 'bytes=5-2']) {
      const reply = await request(server.url('/file.bin'), { headers: { range } });
      expect(reply.status, range).toBe(200);
      expect(reply.body.equals(CONTENT)).toBe(true);
    }
  });

  it('honours If-Range with the current ETag or Last-Modified and sends the whole file otherwise', async () => {
    const head = await request(server.url('/file.bin'), { method: 'HEAD' });
    const etag = head.headers.etag ?? '';
    const lastModified = head.headers['last-modified'] ?? '';
    const ranged = (ifRange: string): Promise<{ status: number; body: Buffer }> =>
      request(server.url('/file.bin'), { headers: { range: 'bytes=0-3', 'if-range': ifRange } });
    expect((await ranged(etag)).status).toBe(206);
    expect((await ranged(lastModified)).status).toBe(206);
    const stale = await ranged('"something-else"');
    expect(stale.status).toBe(200);
    expect(stale.body.equals(CONTENT)).toBe(true);
    expect((await ranged(`W/${etag}`)).status).toBe(200);
    expect((await ranged(new Date(Date.parse(lastModified) - 1000).toUTCString())).status).toBe(200);
  });

  it('answers HEAD with the GET headers and no body', async () => {
    const reply = await request(server.url('/file.bin'), { method: 'HEAD' });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-length']).toBe(String(CONTENT.length));
    expect(reply.body.length).toBe(0);
    const ranged = await request(server.url('/file.bin'), { method: 'HEAD', headers: { range: 'bytes=1-2' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers['content-range']).toBe(`bytes 1-2/${CONTENT.length}`);
  });

  it('answers 404 for a missing file and 405 for other methods', async () => {
    expect((await request(server.url('/missing'))).status).toBe(404);
    const post = await request(server.url('/file.bin'), { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('serves empty files, and any range of them is unsatisfiable', async () => {
    server.addFile('/empty', Buffer.alloc(0));
    server.addFile('/empty-gen', { size: 0 });
    for (const path of ['/empty', '/empty-gen']) {
      const reply = await request(server.url(path));
      expect(reply.status).toBe(200);
      expect(reply.headers['content-length']).toBe('0');
      expect(reply.body.length).toBe(0);
      const ranged = await request(server.url(path), { headers: { range: 'bytes=0-' } });
      expect(ranged.status).toBe(416);
      expect(ranged.headers['content-range']).toBe('bytes */0');
    }
  });

  it('matches a file by its path when the request has a query, and by the exact target first', async () => {
    server.addFile('/q?v=2', Buffer.from('two'));
    server.addFile('/q', Buffer.from('plain'));
    expect((await request(server.url('/q?v=2'))).body.toString()).toBe('two');
    expect((await request(server.url('/q?v=3'))).body.toString()).toBe('plain');
  });

  it('keeps connections alive and honours Connection: close', async () => {
    const agent = singleSocketAgent();
    try {
      await request(server.url('/file.bin'), { agent });
      await request(server.url('/file.bin'), { agent });
      const closing = await request(server.url('/file.bin'), { agent, headers: { connection: 'close' } });
      expect(closing.headers.connection).toBe('close');
      await request(server.url('/file.bin'), { agent });
      const ids = server.requests('/file.bin').map((record) => record.connectionId);
      expect(ids[0]).toBe(ids[1]);
      expect(ids[2]).toBe(ids[0]);
      expect(ids[3]).not.toBe(ids[0]);
      expect(server.connectionsOpened()).toBe(2);
    } finally {
      agent.destroy();
    }
  });

  it('replaceFile changes the bytes, the ETag and Last-Modified', async () => {
    const before = await request(server.url('/file.bin'));
    const next = Buffer.from('a different body');
    server.replaceFile('/file.bin', next);
    expect(server.fileContent('/file.bin')).toBe(next);
    const after = await request(server.url('/file.bin'));
    expect(after.body.equals(next)).toBe(true);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(Date.parse(after.headers['last-modified'] ?? '')).toBeGreaterThan(Date.parse(before.headers['last-modified'] ?? ''));
    const resumed = await request(server.url('/file.bin'), {
      headers: { range: 'bytes=4-', 'if-range': before.headers.etag ?? '' },
    });
    expect(resumed.status).toBe(200);
    expect(resumed.body.equals(next)).toBe(true);
  });

  it('sends explicit validators, types and dispositions verbatim, or no validators when false', async () => {
    server.addFile('/custom', CONTENT, {
      etag: '"fixed"',
      lastModified: 'Tue, 01 Jan 2019 00:00:00 GMT',
      contentType: 'text/plain',
      contentDisposition: 'attachment; filename="../../évil 日本.txt"',
    });
    server.addFile('/latin1', CONTENT, { contentDisposition: Buffer.from('attachment; filename="\xe9.txt"', 'latin1') });
    server.addFile('/bare', CONTENT, { etag: false, lastModified: false });
    const custom = await request(server.url('/custom'));
    expect(custom.headers.etag).toBe('"fixed"');
    expect(custom.headers['last-modified']).toBe('Tue, 01 Jan 2019 00:00:00 GMT');
    expect(custom.headers['content-type']).toBe('text/plain');
    // Node decodes header bytes as Latin-1: re-encoding gives back the raw UTF-8 the server sent.
    const disposition = Buffer.from(custom.headers['content-disposition'] ?? '', 'latin1').toString('utf8');
    expect(disposition).toBe('attachment; filename="../../évil 日本.txt"');
    const latin1 = await request(server.url('/latin1'));
    expect(Buffer.from(latin1.headers['content-disposition'] ?? '', 'latin1').toString('hex'))
      .toBe(Buffer.from('attachment; filename="\xe9.txt"', 'latin1').toString('hex'));
    server.replaceFile('/custom', Buffer.from('new'));
    expect((await request(server.url('/custom'))).headers.etag).toBe('"fixed"');
    const bare = await request(server.url('/bare'));
    expect(bare.headers.etag).toBeUndefined();
    expect(bare.headers['last-modified']).toBeUndefined();
    const ranged = await request(server.url('/bare'), { headers: { range: 'bytes=0-0', 'if-range': '"x"' } });
    expect(ranged.status).toBe(200);
  });

  it('refuses to serve two things at one path', () => {
    expect(() => server.addFile('/file.bin', CONTENT)).toThrow(/already/);
    expect(() => server.addRedirect('/file.bin', '/x')).toThrow(/already/);
    expect(() => server.replaceFile('/nope', CONTENT)).toThrow(/no file/);
  });

  it('logs requests with lower-case headers, status and bytes sent, and resets the log', async () => {
    await request(server.url('/file.bin'), { headers: { 'X-Probe': 'yes', Range: 'bytes=0-9' } });
    await request(server.url('/missing'));
    const [record] = server.requests('/file.bin');
    expect(record).toMatchObject({ method: 'GET', path: '/file.bin', status: 206, bytesSent: 10, done: true });
    expect(record?.headers['x-probe']).toBe('yes');
    expect(record?.headers.range).toBe('bytes=0-9');
    expect(record?.connectionId).toBe(1);
    expect(server.requests()).toHaveLength(2);
    expect(server.requests('/missing')[0]?.status).toBe(404);
    server.resetLog();
    expect(server.requests()).toHaveLength(0);
    expect(server.maxConcurrentRequests()).toBe(0);
  });

  it('counts the highest number of simultaneously open responses', async () => {
    server.addFile('/held', CONTENT, { faults: { stallAfterBytes: 0, stallTimes: 3 } });
    const pending = [1, 2, 3].map(() => request(server.url('/held')));
    // The stalled responses send their heads, then nothing: poll the log until all three are open.
    await until(() => server.requests('/held').filter((record) => record.status === 200 && !record.done).length === 3);
    expect(server.maxConcurrentRequests('/held')).toBe(3);
    expect(server.maxConcurrentRequests()).toBe(3);
    await server.close();
    const replies = await Promise.all(pending);
    for (const reply of replies) expect(reply.error).toBeDefined();
  });
});
