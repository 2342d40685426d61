import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateContent, sha256, startHttpServer, type HttpTestServer } from '../src/index.js';
import { request } from './helpers.js';

const CONTENT = Buffer.from('the quick brown fox jumps over the lazy dog');
const base64Sha256 = (data: Buffer): string => Buffer.from(sha256(data), 'hex').toString('base64');

describe('redirects', () => {
  let server: HttpTestServer;
  beforeEach(async () => {
    server = await startHttpServer();
    server.addFile('/file', CONTENT);
  });
  afterEach(async () => {
    await server.close();
  });

  it('answers with the status and Location given, relative or absolute', async () => {
    server.addRedirect('/a', '/b', 301);
    server.addRedirect('/b', server.url('/c'), 307);
    server.addRedirect('/c', 'file');
    const a = await request(server.url('/a'));
    expect(a.status).toBe(301);
    expect(a.headers.location).toBe('/b');
    const b = await request(server.url('/b'));
    expect(b.status).toBe(307);
    expect(b.headers.location).toBe(server.url('/c'));
    const c = await request(server.url('/c'));
    expect(c.status).toBe(302);
    expect(c.headers.location).toBe('file');
  });

  it('lets a following client reach the file through a chain', async () => {
    server.addRedirect('/start', '/middle', 308);
    server.addRedirect('/middle', server.url('/end'), 303);
    server.addRedirect('/end', '/file');
    const response = await fetch(server.url('/start'));
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(CONTENT)).toBe(true);
    expect(server.requests().map((record) => [record.path, record.status])).toEqual([
      ['/start', 308], ['/middle', 303], ['/end', 302], ['/file', 200],
    ]);
  });
});

describe('authentication', () => {
  let server: HttpTestServer;
  beforeEach(async () => {
    server = await startHttpServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('requires Basic credentials', async () => {
    server.addFile('/f', CONTENT, { auth: { username: 'ann', password: 'pässword' } });
    const anonymous = await request(server.url('/f'));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm=/);
    const wrong = await request(server.url('/f'), { headers: { authorization: `Basic ${Buffer.from('ann:nope').toString('base64')}` } });
    expect(wrong.status).toBe(401);
    const right = await request(server.url('/f'), {
      headers: { authorization: `Basic ${Buffer.from('ann:pässword').toString('base64')}` },
    });
    expect(right.status).toBe(200);
    expect(right.body.equals(CONTENT)).toBe(true);
  });

  it('requires a Bearer token', async () => {
    server.addFile('/f', CONTENT, { auth: { bearer: 'tok3n' } });
    const anonymous = await request(server.url('/f'));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    expect((await request(server.url('/f'), { headers: { authorization: 'Bearer other' } })).status).toBe(401);
    expect((await request(server.url('/f'), { headers: { authorization: 'Bearer tok3n' } })).status).toBe(200);
  });

  it('does not count refused requests towards the fault counters', async () => {
    server.addFile('/f', CONTENT, { auth: { bearer: 't' }, faults: { failTimes: { count: 1, code: 500 } } });
    expect((await request(server.url('/f'))).status).toBe(401);
    expect((await request(server.url('/f'), { headers: { authorization: 'Bearer t' } })).status).toBe(500);
    expect((await request(server.url('/f'), { headers: { authorization: 'Bearer t' } })).status).toBe(200);
  });
});

describe('digests', () => {
  let server: HttpTestServer;
  beforeEach(async () => {
    server = await startHttpServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('sends Repr-Digest, Digest and Content-MD5 of the content on a full response', async () => {
    server.addFile('/f', CONTENT, { digest: { reprDigest: true, digest: true, contentMd5: true } });
    const reply = await request(server.url('/f'));
    expect(reply.headers['repr-digest']).toBe(`sha-256=:${base64Sha256(CONTENT)}:`);
    expect(reply.headers.digest).toBe(`SHA-256=${base64Sha256(CONTENT)}`);
    expect(reply.headers['content-md5']).toBe(createHash('md5').update(CONTENT).digest('base64'));
  });

  it('keeps the representation digests on a 206 but not Content-MD5', async () => {
    server.addFile('/f', CONTENT, { digest: { reprDigest: true, digest: true, contentMd5: true } });
    const reply = await request(server.url('/f'), { headers: { range: 'bytes=0-3' } });
    expect(reply.status).toBe(206);
    expect(reply.headers['repr-digest']).toBe(`sha-256=:${base64Sha256(CONTENT)}:`);
    expect(reply.headers.digest).toBe(`SHA-256=${base64Sha256(CONTENT)}`);
    expect(reply.headers['content-md5']).toBeUndefined();
  });

  it('digests generated content as its bytes, and follows replacements', async () => {
    const spec = { size: 3_000_000, seed: 8 };
    server.addFile('/g', spec, { digest: { reprDigest: true } });
    const reply = await request(server.url('/g'), { method: 'HEAD' });
    expect(reply.headers['repr-digest']).toBe(`sha-256=:${Buffer.from(sha256(spec), 'hex').toString('base64')}:`);
    expect(sha256(spec)).toBe(sha256(generateContent(spec)));
    server.replaceFile('/g', CONTENT);
    const replaced = await request(server.url('/g'), { method: 'HEAD' });
    expect(replaced.headers['repr-digest']).toBe(`sha-256=:${base64Sha256(CONTENT)}:`);
  });

  it('sends digests of other bytes when wrong', async () => {
    server.addFile('/f', CONTENT, { digest: { reprDigest: true, digest: true, contentMd5: true, wrong: true } });
    const reply = await request(server.url('/f'));
    expect(reply.body.equals(CONTENT)).toBe(true);
    expect(reply.headers['repr-digest']).toMatch(/^sha-256=:[A-Za-z0-9+/]{43}=:$/);
    expect(reply.headers['repr-digest']).not.toBe(`sha-256=:${base64Sha256(CONTENT)}:`);
    expect(reply.headers.digest).not.toBe(`SHA-256=${base64Sha256(CONTENT)}`);
    expect(reply.headers['content-md5']).not.toBe(createHash('md5').update(CONTENT).digest('base64'));
  });

  it('sends no digest headers unless asked', async () => {
    server.addFile('/f', CONTENT);
    const reply = await request(server.url('/f'));
    expect(reply.headers['repr-digest']).toBeUndefined();
    expect(reply.headers.digest).toBeUndefined();
    expect(reply.headers['content-md5']).toBeUndefined();
  });
});
