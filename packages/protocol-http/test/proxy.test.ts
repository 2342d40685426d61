import { createHash } from 'node:crypto';
import {
  generateContent,
  startDante,
  startHttpServer,
  startProxyServer,
  startSocksServer,
  type DanteServer,
  type HttpTestServer,
  type ProxyTestServer,
  type SocksTestServer,
} from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';
import { makeJob, probed, rangeOf, readAll, rejection } from './helpers.js';

const SPEC = { size: 60_000, seed: 9 };
const BYTES = generateContent(SPEC);
const PROXY_VARS = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY'] as const;

let server: HttpTestServer;
let secure: HttpTestServer;
let proxy: ProxyTestServer;
let authProxy: ProxyTestServer;
let socks: SocksTestServer;
let authSocks: SocksTestServer;
let dante: DanteServer;
const savedEnv = new Map<string, string | undefined>();

beforeAll(async () => {
  for (const name of PROXY_VARS) savedEnv.set(name, process.env[name]);
  [server, secure, proxy, authProxy] = await Promise.all([
    startHttpServer(),
    startHttpServer({ tls: true }),
    startProxyServer(),
    startProxyServer({ auth: { username: 'proxy user', password: 'proxy pass' } }),
  ]);
  [socks, authSocks, dante] = await Promise.all([
    startSocksServer({ hosts: { 'files.socks.test': '127.0.0.1' } }),
    startSocksServer({ auth: { username: 'sock', password: 's3cret' } }),
    startDante(),
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
  await Promise.all([server.close(), secure.close(), proxy.close(), authProxy.close(), socks.close(), authSocks.close(), dante.close()]);
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

  it('speaks TLS to an https:// proxy trusted through the ca option, for http:// and https:// origins', async () => {
    const secureProxy = await startProxyServer({ tls: true });
    const http = new HttpPlugin({ proxy: secureProxy.url, ca: [secureProxy.ca ?? '', secure.ca ?? ''], useEnvProxy: false });
    try {
      const plain = await probed(http, makeJob(server.url('/file.bin')));
      expect((await readAll(plain.remote!.initialSource!)).equals(BYTES)).toBe(true);
      const tunnelled = await probed(http, makeJob(secure.url('/file.bin')));
      expect((await readAll(tunnelled.remote!.initialSource!)).equals(BYTES)).toBe(true);
      expect(secureProxy.requests().map((r) => r.method)).toEqual(['GET', 'CONNECT']);
    } finally {
      await http.close();
      await secureProxy.close();
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

  it('fails with MG_ERR_PROXY_AUTH when the proxy wants credentials (forwarding and tunnelling)', async () => {
    const http = new HttpPlugin({ proxy: authProxy.url, ca: secure.ca });
    try {
      const forwarded = await rejection(http.probe(makeJob(server.url('/file.bin'))));
      expect(forwarded).toMatchObject({ code: 'MG_ERR_PROXY_AUTH', statusCode: 407 });
      const tunnelled = await rejection(http.probe(makeJob(secure.url('/file.bin'))));
      expect(tunnelled).toMatchObject({ code: 'MG_ERR_PROXY_AUTH', statusCode: 407 });
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
    expect(() => new HttpPlugin({ proxy: 'socks4://127.0.0.1:1080' })).toThrow(expect.objectContaining({ code: 'MG_ERR_INVALID_OPTION' }));
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

const DIGEST = createHash('sha256').update(BYTES).digest('hex');

/** Probes `url` and reads the whole body plus one range through `http`; checks the bytes by SHA-256. */
async function download(http: HttpPlugin, url: string): Promise<void> {
  const job = await probed(http, makeJob(url));
  expect(createHash('sha256').update(await readAll(job.remote!.initialSource!)).digest('hex')).toBe(DIGEST);
  expect((await readAll(await http.fetchRange(rangeOf(job, 100, 199), job))).equals(BYTES.subarray(100, 200))).toBe(true);
}

describe('SOCKS5 proxies', () => {
  it('carries http:// and https:// through socks5://, each connection in the proxy log', async () => {
    const http = new HttpPlugin({ proxy: socks.url, ca: secure.ca, useEnvProxy: false });
    try {
      const before = socks.connections().length;
      await download(http, server.url('/file.bin'));
      await download(http, secure.url('/file.bin'));
      const seen = socks.connections().slice(before);
      expect(seen.filter((c) => c.port === server.port && c.outcome === 'connected').length).toBeGreaterThan(0);
      expect(seen.filter((c) => c.port === secure.port && c.outcome === 'connected').length).toBeGreaterThan(0);
      // The bytes came through the proxy: at least the file for each origin.
      expect(seen.reduce((sum, c) => sum + c.bytesToClient, 0)).toBeGreaterThan(2 * SPEC.size);
    } finally {
      await http.close();
    }
  });

  it('lets the proxy resolve names with socks5h://', async () => {
    const http = new HttpPlugin({ proxy: socks.url.replace('socks5:', 'socks5h:'), useEnvProxy: false });
    try {
      await download(http, `http://files.socks.test:${server.port}/file.bin`);
      expect(socks.connections().at(-1)).toMatchObject({ addressType: 'domain', host: 'files.socks.test', outcome: 'connected' });
    } finally {
      await http.close();
    }
  });

  it('uses ALL_PROXY=socks5h:// from the environment, and NO_PROXY bypasses it', async () => {
    clearProxyEnv();
    process.env.ALL_PROXY = socks.url.replace('socks5:', 'socks5h:');
    const viaEnv = new HttpPlugin();
    try {
      const before = socks.connections().length;
      await download(viaEnv, server.url('/file.bin'));
      expect(socks.connections().length).toBeGreaterThan(before);
    } finally {
      await viaEnv.close();
    }
    process.env.no_proxy = `localhost,127.0.0.0/8:${server.port}`;
    const bypass = new HttpPlugin();
    try {
      const before = socks.connections().length;
      await download(bypass, server.url('/file.bin'));
      expect(socks.connections().length).toBe(before);
    } finally {
      await bypass.close();
    }
  });

  it('authenticates to the SOCKS5 proxy, and fails with MG_ERR_PROXY_AUTH for wrong credentials', async () => {
    const good = new HttpPlugin({ proxy: authSocks.url.replace('socks5://', 'socks5://sock:s3cret@'), useEnvProxy: false });
    try {
      await download(good, server.url('/file.bin'));
      expect(authSocks.connections().at(-1)).toMatchObject({ username: 'sock', outcome: 'connected' });
    } finally {
      await good.close();
    }
    const bad = new HttpPlugin({ proxy: authSocks.url.replace('socks5://', 'socks5://sock:wrong-pass@'), useEnvProxy: false });
    try {
      const err = await rejection(bad.probe(makeJob(server.url('/file.bin'))));
      expect(err.code).toBe('MG_ERR_PROXY_AUTH');
      expect(err.message).not.toContain('wrong-pass');
    } finally {
      await bad.close();
    }
  });

  it('fails with MG_ERR_CONNECT naming the proxy when nothing listens there', async () => {
    const gone = await startSocksServer();
    const closedPort = gone.port;
    await gone.close();
    const http = new HttpPlugin({ proxy: `socks5://127.0.0.1:${closedPort}`, useEnvProxy: false });
    try {
      const err = await rejection(http.probe(makeJob(server.url('/file.bin'))));
      expect(err.code).toBe('MG_ERR_CONNECT');
      expect(err.message).toContain(`proxy socks5://127.0.0.1:${closedPort}`);
    } finally {
      await http.close();
    }
  });

  it('downloads through Debian\'s dante, which logs the connections', async () => {
    const http = new HttpPlugin({ proxy: dante.url, ca: secure.ca, useEnvProxy: false });
    try {
      await download(http, server.url('/file.bin'));
      await download(http, secure.url('/file.bin'));
      const seen = await dante.connections();
      expect(seen.some((c) => c.port === server.port)).toBe(true);
      expect(seen.some((c) => c.port === secure.port)).toBe(true);
    } finally {
      await http.close();
    }
  });
});
