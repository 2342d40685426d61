// One header policy for redirects: the caller's headers and credentials stay with the origin the
// caller named unless redirects are trusted, and HTTPS never turns into plain HTTP while the request
// carries them. Real servers: two plain HTTP origins and one HTTPS origin.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget } from '@multiget/core';
import { generateContent, startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';
import { makeJob, probed, rangeOf, readAll, rejection } from './helpers.js';

const SPEC = { size: 40_000, seed: 9 };
const BYTES = generateContent(SPEC);
const API_KEY = { 'x-api-key': 'k-123' };

let origin: HttpTestServer;
let other: HttpTestServer;
let secure: HttpTestServer;
let http: HttpPlugin;
let trusting: HttpPlugin;

beforeAll(async () => {
  [origin, other, secure] = await Promise.all([startHttpServer(), startHttpServer(), startHttpServer({ tls: true })]);
  http = new HttpPlugin({ useEnvProxy: false, ca: secure.ca });
  trusting = new HttpPlugin({ useEnvProxy: false, ca: secure.ca, trustRedirects: true });
  for (const s of [origin, other]) s.addFile('/file.bin', SPEC);
  origin.addRedirect('/same', '/file.bin');
  origin.addRedirect('/away', other.url('/file.bin'));
  secure.addRedirect('/down', other.url('/file.bin'));
  secure.addRedirect('/down-to-origin', origin.url('/file.bin'));
  origin.addRedirect('/up-and-down', secure.url('/down-to-origin'));
});

afterAll(async () => {
  await Promise.all([http.close(), trusting.close()]);
  await Promise.all([origin.close(), other.close(), secure.close()]);
});

describe('headers of the caller on redirects', () => {
  it('a cross-origin redirect reaches the new origin without the -H header, for the probe and every range', async () => {
    const job = await probed(http, makeJob(origin.url('/away'), { headers: API_KEY }));
    job.remote?.initialSource?.cancel();
    expect(origin.requests('/away').at(-1)?.headers['x-api-key']).toBe('k-123');
    expect(other.requests('/file.bin').at(-1)?.headers['x-api-key']).toBeUndefined();
    expect((await readAll(await http.fetchRange(rangeOf(job, 10, 99), job))).equals(BYTES.subarray(10, 100))).toBe(true);
    const range = other.requests('/file.bin').at(-1);
    expect(range?.headers.range).toBe('bytes=10-99');
    expect(range?.headers['x-api-key']).toBeUndefined();
  });

  it('a same-origin redirect keeps the -H header', async () => {
    const job = await probed(http, makeJob(origin.url('/same'), { headers: API_KEY }));
    job.remote?.initialSource?.cancel();
    expect(origin.requests('/file.bin').at(-1)?.headers['x-api-key']).toBe('k-123');
  });

  it('trustRedirects keeps the headers and credentials across origins (curl --location-trusted)', async () => {
    const job = await probed(trusting, makeJob(origin.url('/away'), { headers: API_KEY, credentials: { bearer: 'tok' } }));
    job.remote?.initialSource?.cancel();
    const hop = other.requests('/file.bin').at(-1);
    expect(hop?.headers['x-api-key']).toBe('k-123');
    expect(hop?.headers.authorization).toBe('Bearer tok');
  });
});

describe('a redirect from HTTPS to plain HTTP', () => {
  const carriers: Array<[string, Parameters<typeof makeJob>[1]]> = [
    ['credentials', { credentials: { username: 'u', password: 'p' } }],
    ['a bearer token', { credentials: { bearer: 'tok' } }],
    ['a -H header', { headers: API_KEY }],
    ['a Cookie header', { headers: { cookie: 'session=1' } }],
  ];

  it.each(carriers)('is refused with MG_ERR_BAD_REDIRECT when the request carries %s', async (_what, options) => {
    other.resetLog();
    const err = await rejection(http.probe(makeJob(secure.url('/down'), options)));
    expect(err).toMatchObject({ code: 'MG_ERR_BAD_REDIRECT', statusCode: 302 });
    expect(err.message).toMatch(/redirects to plain HTTP/);
    expect(other.requests()).toHaveLength(0);
  });

  it('is refused with credentials in the URL, and with trustRedirects too', async () => {
    const url = new URL(secure.url('/down'));
    url.username = 'alice';
    url.password = 'pw';
    expect((await rejection(http.probe(makeJob(url.href)))).code).toBe('MG_ERR_BAD_REDIRECT');
    const trusted = await rejection(trusting.probe(makeJob(secure.url('/down'), { headers: API_KEY })));
    expect(trusted.code).toBe('MG_ERR_BAD_REDIRECT');
  });

  it('is followed with one MG_WARN_INSECURE_REDIRECT warning when the request carries nothing of the user', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mg-redirect-'));
    const mg = new Multiget({ plugins: [new HttpPlugin({ useEnvProxy: false, ca: secure.ca })], minSplitSize: 8 * 1024 });
    try {
      const dl = mg.download(secure.url('/down'), { dir, connections: 4 });
      const warnings: Array<{ code: string; message: string }> = [];
      dl.on('warning', (w) => warnings.push(w));
      const result = await dl.done;
      expect(result.size).toBe(SPEC.size);
      expect(result.url).toBe(other.url('/file.bin'));
      expect(warnings).toEqual([
        { code: 'MG_WARN_INSECURE_REDIRECT', message: expect.stringMatching(/redirects to plain HTTP: http:\/\/127\.0\.0\.1:\d+\/file\.bin/) as string },
      ]);
    } finally {
      await mg.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('back to the plain-HTTP origin the caller named is followed with a warning (nothing new is exposed)', async () => {
    const warnings: string[] = [];
    const job = makeJob(origin.url('/up-and-down'), { headers: API_KEY }, undefined, (w) => warnings.push(w.code));
    const probedJob = await probed(http, job);
    probedJob.remote?.initialSource?.cancel();
    expect(probedJob.remote?.url.href).toBe(origin.url('/file.bin'));
    expect(warnings).toEqual(['MG_WARN_INSECURE_REDIRECT']);
    expect(origin.requests('/file.bin').at(-1)?.headers['x-api-key']).toBe('k-123');
    expect(secure.requests('/down-to-origin').at(-1)?.headers['x-api-key']).toBeUndefined();
  });
});
