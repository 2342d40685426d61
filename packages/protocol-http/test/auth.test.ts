import { startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';
import { makeJob, probed, rangeOf, readAll, rejection } from './helpers.js';

const BODY = Buffer.from('members only\n');

let server: HttpTestServer;
let http: HttpPlugin;

beforeAll(async () => {
  server = await startHttpServer();
  http = new HttpPlugin({ useEnvProxy: false });
  server.addFile('/basic', BODY, { auth: { username: 'ünïcode user', password: 'p:ss w0rd' } });
  server.addFile('/bearer', BODY, { auth: { bearer: 'tok-123' } });
});

afterAll(async () => {
  await http.close();
  await server.close();
});

describe('authentication', () => {
  it('sends Basic credentials from the options', async () => {
    const job = await probed(http, makeJob(server.url('/basic'), { credentials: { username: 'ünïcode user', password: 'p:ss w0rd' } }));
    expect((await readAll(job.remote!.initialSource!)).equals(BODY)).toBe(true);
    // Every range carries them too.
    expect((await readAll(await http.fetchRange(rangeOf(job, 0, 6), job))).toString()).toBe('members');
  });

  it('sends Basic credentials from the URL userinfo, percent-decoded', async () => {
    const url = new URL(server.url('/basic'));
    url.username = encodeURIComponent('ünïcode user');
    url.password = encodeURIComponent('p:ss w0rd');
    const job = await probed(http, makeJob(url.href));
    expect((await readAll(job.remote!.initialSource!)).equals(BODY)).toBe(true);
  });

  it('prefers the credentials option over the URL userinfo', async () => {
    const url = new URL(server.url('/basic'));
    url.username = 'wrong';
    url.password = 'wrong';
    const job = await probed(http, makeJob(url.href, { credentials: { username: 'ünïcode user', password: 'p:ss w0rd' } }));
    job.remote?.initialSource?.cancel();
    expect(job.remote?.size).toBe(BODY.length);
  });

  it('sends a Bearer token', async () => {
    const job = await probed(http, makeJob(server.url('/bearer'), { credentials: { bearer: 'tok-123' } }));
    expect((await readAll(job.remote!.initialSource!)).equals(BODY)).toBe(true);
    expect(server.requests('/bearer').at(-1)?.headers.authorization).toBe('Bearer tok-123');
  });

  it('passes a caller-supplied Authorization header to the same origin', async () => {
    const job = await probed(http, makeJob(server.url('/bearer'), { headers: { authorization: 'Bearer tok-123' } }));
    job.remote?.initialSource?.cancel();
    expect(job.remote?.size).toBe(BODY.length);
  });

  it('fails with MG_ERR_AUTH on wrong or missing credentials', async () => {
    const wrong = await rejection(http.probe(makeJob(server.url('/bearer'), { credentials: { bearer: 'nope' } })));
    expect(wrong).toMatchObject({ code: 'MG_ERR_AUTH', statusCode: 401 });
    const missing = await rejection(http.probe(makeJob(server.url('/basic'))));
    expect(missing).toMatchObject({ code: 'MG_ERR_AUTH', statusCode: 401 });
  });

  it('keeps the driver\'s Range and Accept-Encoding over caller headers, and sends the rest', async () => {
    const job = await probed(http, makeJob(server.url('/bearer'), {
      credentials: { bearer: 'tok-123' },
      headers: { range: 'bytes=5-', 'accept-encoding': 'gzip', 'x-custom': 'yes' },
      userAgent: 'agent/2',
    }));
    job.remote?.initialSource?.cancel();
    const request = server.requests('/bearer').at(-1);
    expect(request?.headers).toMatchObject({ range: 'bytes=0-', 'accept-encoding': 'identity', 'x-custom': 'yes', 'user-agent': 'agent/2' });
  });

  it('rejects a header value that would split the request with MG_ERR_INVALID_OPTION', async () => {
    const err = await rejection(http.probe(makeJob(server.url('/bearer'), { headers: { 'x-evil': 'a\r\nx-injected: 1' } })));
    expect(err.code).toBe('MG_ERR_INVALID_OPTION');
    expect(server.requests('/bearer').some((r) => r.headers['x-injected'] !== undefined)).toBe(false);
  });
});
