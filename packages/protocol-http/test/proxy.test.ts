import { generateContent, startHttpServer, startProxyServer, type HttpTestServer, type ProxyTestServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';
import { makeJob, probed, rangeOf, readAll, rejection } from './helpers.js';

const SPEC = { size: 60_000, seed: 9 };
const BYTES = generateContent(SPEC);
const PROXY_VARS = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY'] as const;

let server: HttpTestServer;
let secure: HttpTestServer;
let proxy: ProxyTestServer;
let authProxy: ProxyTestServer;
const savedEnv = new Map<string, string | undefined>();

beforeAll(async () => {
  for (const name of PROXY_VARS) savedEnv.set(name, process.env[name]);
  [server, secure, proxy, authProxy] = await Promise.all([
    startHttpServer(),
    startHttpServer({ tls: true }),
    startProxyServer(),
    startProxyServer({ auth: { username: 'proxy user', password: 'proxy pass' } }),
  ]);
  server.addFile('/file.bin', SPEC);
  secure.addFile('/file.bin', SPEC);
});

afterEach(() => {
  for (const name of PROXY_VARS) {
    const value = savedEnv.get(name);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

afterAll(async () => {
  await Promise.all([server.close(), secure.close(), proxy.close(), authProxy.close()]);
});

function clearProxyEnv(): void {
  for (const name of PROXY_VARS) delete process.env[name];
}

describe('proxies', () => {
  it('forwards http:// through an explicit proxy', async () => {
    const http = new HttpPlugin({ proxy: proxy.url });
    try {
      const job = await probed(http, makeJob(server.url('/file.bin')));
      expect((await readAll(job.remote!.initialSource!)).equals(BYTES)).toBe(true);
      await readAll(await http.fetchRange(rangeOf(job, 10, 20), job));
      const seen = proxy.requests().filter((r) => r.target === server.url('/file.bin'));
      expect(seen.map((r) => r.method)).toEqual(['GET', 'GET']);
    } finally {
      await http.close();
    }
  });

  it('tunnels https:// through an explicit proxy with the CA applied to the origin', async () => {
    const http = new HttpPlugin({ proxy: proxy.url, ca: secure.ca });
    try {
      const job = await probed(http, makeJob(secure.url('/file.bin')));
      expect((await readAll(job.remote!.initialSource!)).equals(BYTES)).toBe(true);
      expect(proxy.requests().some((r) => r.method === 'CONNECT' && r.target === new URL(secure.origin).host)).toBe(true);
    } finally {
      await http.close();
    }
  });

  it('fails with MG_ERR_TLS through the tunnel when the origin is not trusted', async () => {
    const http = new HttpPlugin({ proxy: proxy.url });
    try {
      const err = await rejection(http.probe(makeJob(secure.url('/file.bin'))));
      expect(err.code).toBe('MG_ERR_TLS');
    } finally {
      await http.close();
    }
  });

  it('sends proxy credentials from the proxy URL', async () => {
    const url = new URL(authProxy.url);
    url.username = encodeURIComponent('proxy user');
    url.password = encodeURIComponent('proxy pass');
    const http = new HttpPlugin({ proxy: url.href });
    try {
      const job = await probed(http, makeJob(server.url('/file.bin')));
      expect((await readAll(job.remote!.initialSource!)).equals(BYTES)).toBe(true);
      const expected = `Basic ${Buffer.from('proxy user:proxy pass').toString('base64')}`;
      expect(authProxy.requests().at(-1)?.headers['proxy-authorization']).toBe(expected);
      // Proxy credentials are for the proxy: the origin never sees them.
      expect(server.requests('/file.bin').at(-1)?.headers['proxy-authorization']).toBeUndefined();
    } finally {
      await http.close();
    }
  });

  it('fails with MG_ERR_AUTH when the proxy wants credentials (forwarding and tunnelling)', async () => {
    const http = new HttpPlugin({ proxy: authProxy.url, ca: secure.ca });
    try {
      const forwarded = await rejection(http.probe(makeJob(server.url('/file.bin'))));
      expect(forwarded).toMatchObject({ code: 'MG_ERR_AUTH', statusCode: 407 });
      const tunnelled = await rejection(http.probe(makeJob(secure.url('/file.bin'))));
      expect(tunnelled).toMatchObject({ code: 'MG_ERR_AUTH', statusCode: 407 });
    } finally {
      await http.close();
    }
  });

  it('uses HTTP_PROXY from the environment', async () => {
    clearProxyEnv();
    process.env.HTTP_PROXY = proxy.url;
    const http = new HttpPlugin();
    try {
      const before = proxy.requests().length;
      const job = await probed(http, makeJob(server.url('/file.bin')));
      expect((await readAll(job.remote!.initialSource!)).equals(BYTES)).toBe(true);
      expect(proxy.requests().slice(before).map((r) => r.target)).toEqual([server.url('/file.bin')]);
    } finally {
      await http.close();
    }
  });

  it('bypasses the environment proxy for hosts in NO_PROXY', async () => {
    clearProxyEnv();
    process.env.HTTP_PROXY = proxy.url;
    process.env.NO_PROXY = 'example.invalid, 127.0.0.1';
    const http = new HttpPlugin();
    try {
      const before = proxy.requests().length;
      const job = await probed(http, makeJob(server.url('/file.bin')));
      expect((await readAll(job.remote!.initialSource!)).equals(BYTES)).toBe(true);
      expect(proxy.requests().length).toBe(before);
    } finally {
      await http.close();
    }
  });

  it('ignores the environment with useEnvProxy: false', async () => {
    clearProxyEnv();
    process.env.http_proxy = proxy.url;
    const http = new HttpPlugin({ useEnvProxy: false });
    try {
      const before = proxy.requests().length;
      const info = await http.probe(makeJob(server.url('/file.bin')));
      info.initialSource?.cancel();
      expect(proxy.requests().length).toBe(before);
    } finally {
      await http.close();
    }
  });

  it('lets an explicit proxy win over the environment', async () => {
    clearProxyEnv();
    process.env.HTTP_PROXY = 'http://127.0.0.1:1';
    const http = new HttpPlugin({ proxy: proxy.url });
    try {
      const info = await http.probe(makeJob(server.url('/file.bin')));
      info.initialSource?.cancel();
      expect(info.size).toBe(SPEC.size);
    } finally {
      await http.close();
    }
  });

  it('rejects a proxy option that is not a URL', () => {
    expect(() => new HttpPlugin({ proxy: 'not a url' })).toThrow(expect.objectContaining({ code: 'MG_ERR_INVALID_OPTION' }));
    expect(() => new HttpPlugin({ proxy: 'ftp://127.0.0.1:21' })).toThrow(expect.objectContaining({ code: 'MG_ERR_INVALID_OPTION' }));
  });

  it('keeps a caller\'s Proxy-Authorization header off the wire when a proxy is configured', async () => {
    const http = new HttpPlugin({ proxy: proxy.url });
    try {
      const info = await http.probe(makeJob(server.url('/file.bin'), { headers: { 'proxy-authorization': 'Basic bm9wZQ==' } }));
      info.initialSource?.cancel();
      expect(info.size).toBe(SPEC.size);
      expect(server.requests('/file.bin').at(-1)?.headers['proxy-authorization']).toBeUndefined();
    } finally {
      await http.close();
    }
  });
});
