import { startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';
import { makeJob, rejection } from './helpers.js';

let server: HttpTestServer;
let http: HttpPlugin;

beforeAll(async () => {
  server = await startHttpServer();
  http = new HttpPlugin({ useEnvProxy: false });
  server.addFile('/gone', Buffer.from('x'), { faults: { status: 410 } });
  server.addFile('/forbidden', Buffer.from('x'), { faults: { status: 403 } });
  server.addFile('/teapot', Buffer.from('x'), { faults: { status: 418 } });
  server.addFile('/broken', Buffer.from('x'), { faults: { status: 500 } });
  server.addFile('/gateway', Buffer.from('x'), { faults: { status: 502 } });
  server.addFile('/busy', Buffer.from('x'), { faults: { failTimes: { count: 100, code: 503, retryAfter: 7 } } });
  server.addFile('/limited', Buffer.from('x'), { faults: { failTimes: { count: 100, code: 429 } } });
  server.addFile('/private', Buffer.from('x'), { auth: { username: 'u', password: 'p' } });
});

afterAll(async () => {
  await http.close();
  await server.close();
});

describe('status mapping', () => {
  it.each([
    ['/missing', 404, 'MG_ERR_NOT_FOUND', 'Not Found'],
    ['/gone', 410, 'MG_ERR_NOT_FOUND', 'Gone'],
    ['/private', 401, 'MG_ERR_AUTH', 'Unauthorized'],
    ['/forbidden', 403, 'MG_ERR_FORBIDDEN', 'Forbidden'],
    ['/teapot', 418, 'MG_ERR_HTTP_STATUS', "I'm a Teapot"],
    ['/broken', 500, 'MG_ERR_SERVER', 'Internal Server Error'],
    ['/gateway', 502, 'MG_ERR_SERVER', 'Bad Gateway'],
  ])('%s answers %i: %s', async (path, status, code, reason) => {
    const err = await rejection(http.probe(makeJob(server.url(path))));
    expect(err.code).toBe(code);
    expect(err.statusCode).toBe(status);
    expect(err.url).toBe(server.url(path));
    expect(err.message).toBe(`HTTP ${status} ${reason} for ${server.url(path)}`);
  });

  it('maps 503 to MG_ERR_SERVER_BUSY with Retry-After in milliseconds', async () => {
    const err = await rejection(http.probe(makeJob(server.url('/busy'))));
    expect(err).toMatchObject({ code: 'MG_ERR_SERVER_BUSY', statusCode: 503, retryAfterMs: 7000 });
    expect(err.retryable).toBe(true);
  });

  it('maps 429 to MG_ERR_SERVER_BUSY without a Retry-After', async () => {
    const err = await rejection(http.probe(makeJob(server.url('/limited'))));
    expect(err).toMatchObject({ code: 'MG_ERR_SERVER_BUSY', statusCode: 429 });
    expect(err.retryAfterMs).toBeUndefined();
  });

  it('never shows credentials in the message or the url field', async () => {
    const url = new URL(server.url('/private'));
    url.username = 'wrong';
    url.password = 'hunter2';
    const err = await rejection(http.probe(makeJob(url.href)));
    expect(err.code).toBe('MG_ERR_AUTH');
    expect(err.message).not.toContain('hunter2');
    expect(err.url).toBe(server.url('/private'));
    expect(JSON.stringify(err.toJSON())).not.toContain('hunter2');
  });
});

describe('network errors', () => {
  it('maps a refused connection to MG_ERR_CONNECT', async () => {
    const closed = await startHttpServer();
    const url = closed.url('/x');
    await closed.close();
    const err = await rejection(http.probe(makeJob(url)));
    expect(err.code).toBe('MG_ERR_CONNECT');
    expect(err.errno).toBe('ECONNREFUSED');
  });

  it('maps a server that never sends headers to MG_ERR_TIMEOUT', async () => {
    const slow = new HttpPlugin({ useEnvProxy: false, headersTimeoutMs: 200 });
    server.addFile('/slow', Buffer.from('x'), { faults: { latencyMs: 5_000 } });
    try {
      const err = await rejection(slow.probe(makeJob(server.url('/slow'))));
      expect(err.code).toBe('MG_ERR_TIMEOUT');
    } finally {
      await slow.close();
    }
  });

  it('fails with MG_ERR_ABORTED after close()', async () => {
    const closing = new HttpPlugin({ useEnvProxy: false });
    await closing.close();
    const err = await rejection(closing.probe(makeJob(server.url('/missing'))));
    expect(err.code).toBe('MG_ERR_ABORTED');
  });
});
