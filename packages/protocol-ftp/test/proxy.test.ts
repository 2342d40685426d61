// FTP through proxies: SOCKS5 (test-servers' own and Debian's dante) and HTTP CONNECT. The control
// connection AND every passive data connection must go through the proxy: each test checks the
// bytes by SHA-256 and the proxy's log for a tunnel per data connection.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget } from '@multiget/core';
import {
  sha256,
  startDante,
  startFtpServer,
  startProxyServer,
  startSocksServer,
  startVsftpd,
  type DanteServer,
  type FtpTestServer,
  type ProxyTestServer,
  type SocksTestServer,
  type VsftpdServer,
} from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FtpPlugin, type FtpPluginOptions } from '../src/index.js';
import { rejection } from './helpers.js';

const MiB = 1024 * 1024;
const FILE = { size: 3 * MiB + 17, seed: 81 };
const PROXY_VARS = ['ftp_proxy', 'FTP_PROXY', 'ftps_proxy', 'FTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY'] as const;

let server: FtpTestServer;
let secure: FtpTestServer;
let vsftpd: VsftpdServer;
let vsftpdTls: VsftpdServer;
let socks: SocksTestServer;
let authSocks: SocksTestServer;
let dante: DanteServer;
let httpProxy: ProxyTestServer;
let dir: string;
const engines: Multiget[] = [];
const savedEnv = new Map<string, string | undefined>();

beforeAll(async () => {
  for (const name of PROXY_VARS) savedEnv.set(name, process.env[name]);
  [server, secure, socks, authSocks, httpProxy] = await Promise.all([
    startFtpServer(),
    startFtpServer({ tls: 'explicit' }),
    startSocksServer({ hosts: { 'files.socks.test': '127.0.0.1' } }),
    startSocksServer({ auth: { username: 'ftp-proxy-user', password: 'ftp-proxy-pass' } }),
    startProxyServer(),
  ]);
  server.addFile('/pub/file.bin', FILE);
  secure.addFile('/pub/file.bin', FILE);
  // Daemons one after another: a missing one fails the suite with nothing left running.
  vsftpd = await startVsftpd({ files: { 'pub/file.bin': FILE } });
  vsftpdTls = await startVsftpd({ files: { 'pub/file.bin': FILE }, tls: 'explicit' });
  dante = await startDante();
}, 60_000);

afterAll(async () => {
  await Promise.all([server, secure, vsftpd, vsftpdTls, socks, authSocks, dante, httpProxy].map((s) => s?.close()));
});

beforeEach(async () => {
  for (const name of PROXY_VARS) delete process.env[name];
  dir = await mkdtemp(join(tmpdir(), 'mg-ftp-proxy-'));
});

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
  await rm(dir, { recursive: true, force: true });
  for (const name of PROXY_VARS) {
    const value = savedEnv.get(name);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

function engine(options: FtpPluginOptions): Multiget {
  const mg = new Multiget({ plugins: [new FtpPlugin(options)], minSplitSize: 512 * 1024, retries: 0 });
  engines.push(mg);
  return mg;
}

async function download(mg: Multiget, url: string): Promise<void> {
  const result = await mg.download(url, { dir, connections: 4 }).done;
  expect(createHash('sha256').update(await readFile(result.file)).digest('hex')).toBe(sha256(FILE));
  await rm(result.file);
}

/** The port a test server's control connection listens on. */
function portOf(origin: string): number {
  return Number(new URL(origin).port);
}

async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('FTP through a SOCKS5 proxy', () => {
  it('sends the control and every data connection through socks5://', async () => {
    const before = socks.connections().length;
    server.resetLog();
    await download(engine({ proxy: socks.url, useEnvProxy: false }), server.url('/pub/file.bin'));
    const seen = socks.connections().slice(before);
    const control = seen.filter((c) => c.port === portOf(server.origin));
    const data = seen.filter((c) => c.port !== portOf(server.origin));
    expect(control.length).toBeGreaterThan(0);
    expect(control.every((c) => c.outcome === 'connected')).toBe(true);
    // One tunnel per RETR: no data connection went around the proxy.
    expect(data.length).toBe(server.transfers().length);
    expect(data.every((c) => c.outcome === 'connected' && c.addressType === 'ipv4')).toBe(true);
    expect(data.reduce((sum, c) => sum + c.bytesToClient, 0)).toBeGreaterThanOrEqual(FILE.size);
    expect(server.connectionsOpened()).toBe(control.length);
  });

  it('socks5h:// sends the host name for control and data connections alike', async () => {
    const before = socks.connections().length;
    const url = server.url('/pub/file.bin').replace('127.0.0.1', 'files.socks.test');
    await download(engine({ proxy: socks.url.replace('socks5:', 'socks5h:'), useEnvProxy: false }), url);
    const seen = socks.connections().slice(before);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every((c) => c.addressType === 'domain' && c.host === 'files.socks.test' && c.outcome === 'connected')).toBe(true);
  });

  it('keeps explicit FTPS end to end through the tunnel, data connections resuming the TLS session', async () => {
    const before = socks.connections().length;
    secure.resetLog();
    await download(engine({ proxy: socks.url, tls: 'explicit', ca: secure.ca, useEnvProxy: false }), secure.url('/pub/file.bin'));
    const data = socks.connections().slice(before).filter((c) => c.port !== portOf(secure.origin));
    expect(secure.transfers().length).toBeGreaterThan(0);
    expect(secure.transfers().every((t) => t.tls)).toBe(true);
    expect(data.length).toBe(secure.transfers().length);
  });

  it('keeps implicit FTPS (ftps://) end to end through the tunnel', async () => {
    const implicit = await startFtpServer({ tls: 'implicit' });
    try {
      implicit.addFile('/pub/file.bin', FILE);
      const before = socks.connections().length;
      await download(engine({ proxy: socks.url, ca: implicit.ca, useEnvProxy: false }), implicit.url('/pub/file.bin'));
      const data = socks.connections().slice(before).filter((c) => c.port !== portOf(implicit.origin));
      expect(implicit.transfers().length).toBeGreaterThan(0);
      expect(implicit.transfers().every((t) => t.tls)).toBe(true);
      expect(data.length).toBe(implicit.transfers().length);
    } finally {
      await implicit.close();
    }
  });

  it('authenticates to the proxy; wrong credentials fail with MG_ERR_PROXY_AUTH and stay secret', async () => {
    const good = authSocks.url.replace('socks5://', 'socks5://ftp-proxy-user:ftp-proxy-pass@');
    await download(engine({ proxy: good, useEnvProxy: false }), server.url('/pub/file.bin'));
    expect(authSocks.connections().at(-1)).toMatchObject({ username: 'ftp-proxy-user', outcome: 'connected' });
    const bad = authSocks.url.replace('socks5://', 'socks5://ftp-proxy-user:not-the-pass@');
    const err = await rejection(engine({ proxy: bad, useEnvProxy: false }).download(server.url('/pub/file.bin'), { dir }).done);
    expect(err.code).toBe('MG_ERR_PROXY_AUTH');
    expect(JSON.stringify(err.toJSON())).not.toContain('not-the-pass');
  });

  it('fails with MG_ERR_CONNECT naming the proxy when nothing listens there', async () => {
    const port = await closedPort();
    const err = await rejection(engine({ proxy: `socks5://127.0.0.1:${port}`, useEnvProxy: false }).download(server.url('/pub/file.bin'), { dir }).done);
    expect(err.code).toBe('MG_ERR_CONNECT');
    expect(err.message).toContain(`proxy socks5://127.0.0.1:${port}`);
  });

  it('uses ALL_PROXY from the environment, FTP_PROXY before it, and NO_PROXY to go direct', async () => {
    process.env.ALL_PROXY = `socks5://127.0.0.1:${await closedPort()}`;
    process.env.FTP_PROXY = socks.url;
    let before = socks.connections().length;
    await download(engine({}), server.url('/pub/file.bin'));
    expect(socks.connections().length).toBeGreaterThan(before);

    delete process.env.FTP_PROXY;
    process.env.ALL_PROXY = socks.url;
    before = socks.connections().length;
    await download(engine({}), server.url('/pub/file.bin'));
    expect(socks.connections().length).toBeGreaterThan(before);

    process.env.NO_PROXY = '127.0.0.0/8';
    before = socks.connections().length;
    await download(engine({}), server.url('/pub/file.bin'));
    expect(socks.connections().length).toBe(before);
  });
});

describe('FTP through dante and vsftpd', () => {
  it('downloads from vsftpd (passive mode) through dante, every data connection in dante\'s log', async () => {
    const before = (await dante.connections()).length;
    await download(engine({ proxy: dante.url, useEnvProxy: false }), vsftpd.url('pub/file.bin'));
    const seen = (await dante.connections()).slice(before);
    const data = seen.filter((c) => c.port !== vsftpd.port);
    expect(seen.some((c) => c.port === vsftpd.port)).toBe(true);
    const retrs = (await vsftpd.log()).split('\n').filter((line) => /"RETR /.test(line)).length;
    expect(retrs).toBeGreaterThan(0);
    expect(data.length).toBe(retrs);
  });

  it('downloads from vsftpd with explicit TLS (require_ssl_reuse) through dante', async () => {
    const before = (await dante.connections()).length;
    await download(engine({ proxy: dante.url, tls: 'explicit', ca: vsftpdTls.ca ?? '', useEnvProxy: false }), vsftpdTls.url('pub/file.bin'));
    const data = (await dante.connections()).slice(before).filter((c) => c.port !== vsftpdTls.port);
    expect(data.length).toBeGreaterThan(0);
  });

  it('downloads from vsftpd through the test SOCKS5 server with socks5h://', async () => {
    const before = socks.connections().length;
    await download(engine({ proxy: socks.url.replace('socks5:', 'socks5h:'), useEnvProxy: false }), vsftpd.url('pub/file.bin'));
    expect(socks.connections().slice(before).filter((c) => c.port !== vsftpd.port).length).toBeGreaterThan(0);
  });
});

describe('FTP through an HTTP proxy (CONNECT)', () => {
  it('tunnels the control and every data connection with CONNECT', async () => {
    const before = httpProxy.requests().length;
    server.resetLog();
    await download(engine({ proxy: httpProxy.url, useEnvProxy: false }), server.url('/pub/file.bin'));
    const seen = httpProxy.requests().slice(before);
    expect(seen.every((r) => r.method === 'CONNECT')).toBe(true);
    const data = seen.filter((r) => r.target !== `127.0.0.1:${portOf(server.origin)}`);
    expect(data.length).toBe(server.transfers().length);
  });

  it('downloads from vsftpd through the HTTP proxy', async () => {
    const before = httpProxy.requests().length;
    await download(engine({ proxy: httpProxy.url, useEnvProxy: false }), vsftpd.url('pub/file.bin'));
    expect(httpProxy.requests().slice(before).filter((r) => r.target !== `127.0.0.1:${vsftpd.port}`).length).toBeGreaterThan(0);
  });

  it('speaks TLS to an https:// proxy trusted through the ca option', async () => {
    const secureProxy = await startProxyServer({ tls: true });
    try {
      server.resetLog();
      await download(engine({ proxy: secureProxy.url, ca: secureProxy.ca ?? '', useEnvProxy: false }), server.url('/pub/file.bin'));
      const data = secureProxy.requests().filter((r) => r.target !== `127.0.0.1:${portOf(server.origin)}`);
      expect(data.length).toBe(server.transfers().length);
      const err = await rejection(engine({ proxy: secureProxy.url, useEnvProxy: false }).download(server.url('/pub/file.bin'), { dir }).done);
      expect(err.code).toBe('MG_ERR_TLS');
    } finally {
      await secureProxy.close();
    }
  });

  it('fails with MG_ERR_PROXY, never going direct, when the proxy refuses CONNECT', async () => {
    // A proxy that forbids CONNECT (as many allow it only to port 443).
    const strict = net.createServer((socket) => {
      socket.on('error', () => socket.destroy());
      socket.once('data', () => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'));
    });
    await new Promise<void>((resolve) => strict.listen(0, '127.0.0.1', resolve));
    try {
      const opened = server.connectionsOpened();
      const url = `http://127.0.0.1:${(strict.address() as AddressInfo).port}`;
      const err = await rejection(engine({ proxy: url, useEnvProxy: false }).download(server.url('/pub/file.bin'), { dir }).done);
      expect(err).toMatchObject({ code: 'MG_ERR_PROXY', statusCode: 403 });
      expect(err.message).toContain('refused CONNECT');
      expect(server.connectionsOpened()).toBe(opened);
    } finally {
      await new Promise<void>((resolve) => strict.close(() => resolve()));
    }
  });
});
