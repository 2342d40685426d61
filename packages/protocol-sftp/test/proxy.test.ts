// SFTP through proxies: SOCKS5 (test-servers' own and Debian's dante) and HTTP CONNECT, against
// the test SFTP server and OpenSSH. Bytes are checked by SHA-256, the route by the proxy's log.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget } from '@multiget/core';
import {
  sha256,
  startDante,
  startOpenSshServer,
  startProxyServer,
  startSftpServer,
  startSocksServer,
  type DanteServer,
  type OpenSshTestServer,
  type ProxyTestServer,
  type SftpTestServer,
  type SocksTestServer,
} from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SftpPlugin, type SftpPluginOptions } from '../src/index.js';
import { rejection, tempHome, type TempHome } from './helpers.js';

const MiB = 1024 * 1024;
const FILE = { size: 3 * MiB + 5, seed: 91 };
const PASSWORD = 'sftp-pw-4-proxy';
const PROXY_VARS = ['sftp_proxy', 'SFTP_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY'] as const;

let server: SftpTestServer;
let sshd: OpenSshTestServer;
let socks: SocksTestServer;
let authSocks: SocksTestServer;
let dante: DanteServer;
let httpProxy: ProxyTestServer;
let home: TempHome;
let dir: string;
let opensshPath: string;
const engines: Multiget[] = [];
const savedEnv = new Map<string, string | undefined>();

beforeAll(async () => {
  for (const name of PROXY_VARS) savedEnv.set(name, process.env[name]);
  [server, socks, authSocks, httpProxy] = await Promise.all([
    startSftpServer({ users: [{ username: 'alice', password: PASSWORD }] }),
    startSocksServer({ hosts: { 'files.socks.test': '127.0.0.1' } }),
    startSocksServer({ auth: { username: 'sftp-proxy-user', password: 'sftp-proxy-pass' } }),
    startProxyServer(),
  ]);
  server.addFile('/data/file.bin', FILE);
  sshd = await startOpenSshServer();
  opensshPath = await sshd.writeFile('file.bin', FILE);
  dante = await startDante();
  home = await tempHome();
}, 60_000);

afterAll(async () => {
  await Promise.all([server, sshd, socks, authSocks, dante, httpProxy].map((s) => s?.close()));
  await home?.dispose();
});

beforeEach(async () => {
  for (const name of PROXY_VARS) delete process.env[name];
  dir = await mkdtemp(join(tmpdir(), 'mg-sftp-proxy-'));
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

function engine(options: SftpPluginOptions): Multiget {
  // The host key is pinned: the same check whatever name the URL uses (files.socks.test).
  const plugin = new SftpPlugin({ home: home.path, agent: false, fingerprint: server.hostKey.fingerprint, ...options });
  const mg = new Multiget({ plugins: [plugin], minSplitSize: 512 * 1024, retries: 0 });
  engines.push(mg);
  return mg;
}

async function download(mg: Multiget, url: string): Promise<void> {
  const result = await mg.download(url, { dir, connections: 4 }).done;
  expect(createHash('sha256').update(await readFile(result.file)).digest('hex')).toBe(sha256(FILE));
  await rm(result.file);
}

async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('SFTP through a SOCKS5 proxy', () => {
  it('sends every SSH connection through socks5://', async () => {
    const before = socks.connections().length;
    await download(engine({ proxy: socks.url, useEnvProxy: false }), server.url('/data/file.bin', 'alice', PASSWORD));
    const seen = socks.connections().slice(before);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((c) => c.port === server.port && c.addressType === 'ipv4' && c.outcome === 'connected')).toBe(true);
    expect(seen.reduce((sum, c) => sum + c.bytesToClient, 0)).toBeGreaterThan(FILE.size);
  });

  it('lets the proxy resolve the name with socks5h://', async () => {
    const before = socks.connections().length;
    const url = server.url('/data/file.bin', 'alice', PASSWORD).replace('127.0.0.1', 'files.socks.test');
    await download(engine({ proxy: socks.url.replace('socks5:', 'socks5h:'), useEnvProxy: false }), url);
    const seen = socks.connections().slice(before);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((c) => c.addressType === 'domain' && c.host === 'files.socks.test')).toBe(true);
  });

  it('uses ALL_PROXY from the environment, and NO_PROXY to go direct', async () => {
    process.env.ALL_PROXY = socks.url;
    let before = socks.connections().length;
    await download(engine({}), server.url('/data/file.bin', 'alice', PASSWORD));
    expect(socks.connections().length).toBeGreaterThan(before);
    process.env.no_proxy = `127.0.0.1:${server.port}`;
    before = socks.connections().length;
    await download(engine({}), server.url('/data/file.bin', 'alice', PASSWORD));
    expect(socks.connections().length).toBe(before);
  });

  it('authenticates to the proxy; wrong credentials fail with MG_ERR_PROXY_AUTH and stay secret', async () => {
    await download(
      engine({ proxy: authSocks.url.replace('socks5://', 'socks5://sftp-proxy-user:sftp-proxy-pass@'), useEnvProxy: false }),
      server.url('/data/file.bin', 'alice', PASSWORD),
    );
    expect(authSocks.connections().at(-1)).toMatchObject({ username: 'sftp-proxy-user', outcome: 'connected' });
    const bad = engine({ proxy: authSocks.url.replace('socks5://', 'socks5://sftp-proxy-user:bad-proxy-pass@'), useEnvProxy: false });
    const err = await rejection(bad.download(server.url('/data/file.bin', 'alice', PASSWORD), { dir }).done);
    expect(err.code).toBe('MG_ERR_PROXY_AUTH');
    expect(JSON.stringify(err.toJSON())).not.toContain('bad-proxy-pass');
  });

  it('fails with MG_ERR_CONNECT naming the proxy when nothing listens there', async () => {
    const port = await closedPort();
    const err = await rejection(engine({ proxy: `socks5://127.0.0.1:${port}`, useEnvProxy: false }).download(server.url('/data/file.bin', 'alice', PASSWORD), { dir }).done);
    expect(err.code).toBe('MG_ERR_CONNECT');
    expect(err.message).toContain(`proxy socks5://127.0.0.1:${port}`);
  });
});

describe('SFTP through dante, and to OpenSSH', () => {
  it('downloads from the test server through dante, which logs each SSH connection', async () => {
    const before = (await dante.connections()).length;
    await download(engine({ proxy: dante.url, useEnvProxy: false }), server.url('/data/file.bin', 'alice', PASSWORD));
    const seen = (await dante.connections()).slice(before);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((c) => c.port === server.port)).toBe(true);
  });

  it('downloads from OpenSSH through dante', async () => {
    const before = (await dante.connections()).length;
    const mg = engine({ proxy: dante.url, useEnvProxy: false, fingerprint: undefined, knownHosts: sshd.knownHostsPath, privateKey: sshd.userKeyPath });
    await download(mg, sshd.url(opensshPath));
    expect((await dante.connections()).slice(before).some((c) => c.port === sshd.port)).toBe(true);
  });
});

describe('SFTP through an HTTP proxy (CONNECT)', () => {
  it('tunnels every SSH connection with CONNECT', async () => {
    const before = httpProxy.requests().length;
    await download(engine({ proxy: httpProxy.url, useEnvProxy: false }), server.url('/data/file.bin', 'alice', PASSWORD));
    const seen = httpProxy.requests().slice(before);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((r) => r.method === 'CONNECT' && r.target === `127.0.0.1:${server.port}`)).toBe(true);
  });

  it('fails with MG_ERR_PROXY when the proxy refuses CONNECT', async () => {
    const strict = net.createServer((socket) => {
      socket.on('error', () => socket.destroy());
      socket.once('data', () => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'));
    });
    await new Promise<void>((resolve) => strict.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(strict.address() as AddressInfo).port}`;
      const err = await rejection(engine({ proxy: url, useEnvProxy: false }).download(server.url('/data/file.bin', 'alice', PASSWORD), { dir }).done);
      expect(err).toMatchObject({ code: 'MG_ERR_PROXY', statusCode: 403 });
    } finally {
      await new Promise<void>((resolve) => strict.close(() => resolve()));
    }
  });
});
