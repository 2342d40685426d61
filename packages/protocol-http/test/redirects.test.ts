import { generateContent, startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';
import { makeJob, probed, rangeOf, readAll, rejection } from './helpers.js';

const SPEC = { size: 50_000, seed: 3 };
const BYTES = generateContent(SPEC);
const SECRET_HEADERS = { authorization: 'Token abc', cookie: 'session=xyz', 'x-trace': 'keep-me' };

let origin: HttpTestServer;
let other: HttpTestServer;
let secure: HttpTestServer;
let http: HttpPlugin;

beforeAll(async () => {
  [origin, other, secure] = await Promise.all([startHttpServer(), startHttpServer(), startHttpServer({ tls: true })]);
  http = new HttpPlugin({ useEnvProxy: false, ca: secure.ca, maxRedirects: 3 });
  origin.addFile('/file.bin', SPEC);
  other.addFile('/file.bin', SPEC);
  secure.addFile('/file.bin', SPEC);
  origin.addRedirect('/same', '/file.bin', 301);
  origin.addRedirect('/relative/deeper', '../file.bin', 307);
  origin.addRedirect('/see-other', '/file.bin', 303);
  origin.addRedirect('/away', other.url('/file.bin'), 302);
  origin.addRedirect('/away-and-back', other.url('/back'), 302);
  other.addRedirect('/back', origin.url('/file.bin'), 302);
  origin.addRedirect('/to-https', secure.url('/file.bin'), 308);
  origin.addRedirect('/to-ftp', 'ftp://127.0.0.1/file.bin', 302);
  origin.addRedirect('/nowhere', '', 302);
  origin.addRedirect('/loop', '/loop', 302);
  origin.addRedirect('/hop1', '/hop2');
  origin.addRedirect('/hop2', '/hop3');
  origin.addRedirect('/hop3', '/file.bin');
  origin.addRedirect('/hop0', '/hop1');
});

afterAll(async () => {
  await http.close();
  await Promise.all([origin.close(), other.close(), secure.close()]);
});

describe('redirects', () => {
  it('follows a same-origin redirect and keeps credentials and headers', async () => {
    const job = await probed(http, makeJob(origin.url('/same'), { headers: SECRET_HEADERS, credentials: { username: 'u', password: 'p' } }));
    expect(job.remote?.url.href).toBe(origin.url('/file.bin'));
    expect(job.remote?.fileName).toBe('file.bin');
    expect((await readAll(job.remote!.initialSource!)).equals(BYTES)).toBe(true);
    const final = origin.requests('/file.bin').at(-1);
    expect(final?.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(final?.headers.cookie).toBe('session=xyz');
  });

  it('resolves a relative Location against the current URL', async () => {
    const job = await probed(http, makeJob(origin.url('/relative/deeper')));
    job.remote?.initialSource?.cancel();
    expect(job.remote?.url.href).toBe(origin.url('/file.bin'));
  });

  it('follows 303 with a GET', async () => {
    const job = await probed(http, makeJob(origin.url('/see-other')));
    job.remote?.initialSource?.cancel();
    expect(job.remote?.url.href).toBe(origin.url('/file.bin'));
    expect(origin.requests('/file.bin').at(-1)?.method).toBe('GET');
  });

  it('drops Authorization, Cookie, every other header of the caller and credentials on a cross-origin hop', async () => {
    const job = await probed(
      http,
      makeJob(origin.url('/away'), { headers: SECRET_HEADERS, credentials: { username: 'u', password: 'p' } }),
    );
    job.remote?.initialSource?.cancel();
    expect(job.remote?.url.href).toBe(other.url('/file.bin'));
    const first = origin.requests('/away').at(-1);
    expect(first?.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    const hop = other.requests('/file.bin').at(-1);
    expect(hop?.headers.authorization).toBeUndefined();
    expect(hop?.headers.cookie).toBeUndefined();
    expect(hop?.headers['x-trace']).toBeUndefined();
    expect(hop?.headers['user-agent']).toBeDefined();

    // Later ranges go to the other origin too, and never with the credentials.
    await readAll(await http.fetchRange(rangeOf(job, 0, 99), job));
    const range = other.requests('/file.bin').at(-1);
    expect(range?.headers.range).toBe('bytes=0-99');
    expect(range?.headers.authorization).toBeUndefined();
    expect(range?.headers.cookie).toBeUndefined();
  });

  it('drops credentials from URL userinfo and Bearer tokens across origins', async () => {
    const url = new URL(origin.url('/away'));
    url.username = 'alice';
    url.password = 's3cret';
    const job = await probed(http, makeJob(url.href));
    job.remote?.initialSource?.cancel();
    expect(origin.requests('/away').at(-1)?.headers.authorization).toBe(`Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
    expect(other.requests('/file.bin').at(-1)?.headers.authorization).toBeUndefined();

    const bearer = await probed(http, makeJob(origin.url('/away'), { credentials: { bearer: 'tok' } }));
    bearer.remote?.initialSource?.cancel();
    expect(origin.requests('/away').at(-1)?.headers.authorization).toBe('Bearer tok');
    expect(other.requests('/file.bin').at(-1)?.headers.authorization).toBeUndefined();
  });

  it('sends credentials again when a redirect comes back to the original origin', async () => {
    const job = await probed(http, makeJob(origin.url('/away-and-back'), { credentials: { bearer: 'tok' } }));
    job.remote?.initialSource?.cancel();
    expect(other.requests('/back').at(-1)?.headers.authorization).toBeUndefined();
    expect(origin.requests('/file.bin').at(-1)?.headers.authorization).toBe('Bearer tok');
  });

  it('follows a redirect to https (a different origin: credentials dropped)', async () => {
    const job = await probed(http, makeJob(origin.url('/to-https'), { credentials: { bearer: 'tok' } }));
    expect(job.remote?.url.href).toBe(secure.url('/file.bin'));
    expect((await readAll(job.remote!.initialSource!)).equals(BYTES)).toBe(true);
    expect(secure.requests('/file.bin').at(-1)?.headers.authorization).toBeUndefined();
  });

  it('refuses a redirect to ftp:// with MG_ERR_BAD_REDIRECT', async () => {
    const err = await rejection(http.probe(makeJob(origin.url('/to-ftp'))));
    expect(err).toMatchObject({ code: 'MG_ERR_BAD_REDIRECT', statusCode: 302 });
  });

  it('refuses a redirect without a Location with MG_ERR_BAD_REDIRECT', async () => {
    const err = await rejection(http.probe(makeJob(origin.url('/nowhere'))));
    expect(err.code).toBe('MG_ERR_BAD_REDIRECT');
  });

  it('follows up to maxRedirects and fails with MG_ERR_TOO_MANY_REDIRECTS beyond', async () => {
    const ok = await probed(http, makeJob(origin.url('/hop1')));
    ok.remote?.initialSource?.cancel();
    expect(ok.remote?.url.href).toBe(origin.url('/file.bin'));

    const err = await rejection(http.probe(makeJob(origin.url('/hop0'))));
    expect(err.code).toBe('MG_ERR_TOO_MANY_REDIRECTS');
    const loop = await rejection(http.probe(makeJob(origin.url('/loop'))));
    expect(loop.code).toBe('MG_ERR_TOO_MANY_REDIRECTS');
    expect(origin.requests('/loop')).toHaveLength(4);
  });
});
