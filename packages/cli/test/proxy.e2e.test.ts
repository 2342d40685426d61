// --proxy and the proxy variables through the executable, for each protocol: the bytes checked by
// SHA-256, the route by the proxy's own log, failures by exit code and MG_ERR_* code.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { sha256, startDante, startFtpServer, startHttpServer, startProxyServer, startSftpServer, startSocksServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, cliEnv, fileSha256 } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

const FILE = { size: 2 * 1024 * 1024 + 3, seed: 61 };

async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** An HTTP, an FTP and an SFTP server with the same file, and the SFTP host key trusted. */
async function servers() {
  const http = cleanup.server(await startHttpServer());
  http.addFile('/file.bin', FILE);
  const ftp = cleanup.server(await startFtpServer());
  ftp.addFile('/pub/file.bin', FILE);
  const sftp = cleanup.server(await startSftpServer({ users: [{ username: 'alice', password: 'sftp-pw-e2e' }] }));
  sftp.addFile('/data/file.bin', FILE);
  const dir = await cleanup.tempDir();
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, `${sftp.knownHostsLine()}\n`);
  // An empty HOME: no ~/.ssh of the machine's user leaks into the test.
  const env = cliEnv({ HOME: dir, SSH_AUTH_SOCK: '' });
  const urls = {
    http: http.url('/file.bin'),
    ftp: ftp.url('/pub/file.bin'),
    sftp: sftp.url('/data/file.bin', 'alice', 'sftp-pw-e2e'),
  };
  const ports = { http: http.port, ftp: Number(new URL(ftp.origin).port), sftp: sftp.port };
  return { dir, env, knownHosts, urls, ports };
}

describe('multiget through proxies', () => {
  it('--proxy socks5:// carries HTTP, FTP (data connections included) and SFTP', async () => {
    const { dir, env, knownHosts, urls, ports } = await servers();
    const socks = cleanup.server(await startSocksServer());
    for (const [name, url] of Object.entries(urls)) {
      const before = socks.connections().length;
      const r = await cleanup.run(['--proxy', socks.url, '-c', '4', '--min-split-size', '512K', '--known-hosts', knownHosts, '-o', `${name}.bin`, url], { cwd: dir, env });
      expect(r.code, r.stderr).toBe(0);
      expect(await fileSha256(join(dir, `${name}.bin`)), name).toBe(sha256(FILE));
      const seen = socks.connections().slice(before);
      expect(seen.some((c) => c.port === ports[name as keyof typeof ports] && c.outcome === 'connected'), name).toBe(true);
      if (name === 'ftp') expect(seen.some((c) => c.port !== ports.ftp && c.outcome === 'connected'), 'FTP data connections').toBe(true);
    }
  });

  it('honours ALL_PROXY=socks5h:// for ftp:// and sftp://, NO_PROXY, and --no-proxy', async () => {
    const { dir, env, knownHosts, urls } = await servers();
    const socks = cleanup.server(await startSocksServer());
    const viaEnv = { ...env, ALL_PROXY: socks.url.replace('socks5:', 'socks5h:') };
    for (const name of ['ftp', 'sftp'] as const) {
      const before = socks.connections().length;
      const r = await cleanup.run(['--known-hosts', knownHosts, '-o', `env-${name}.bin`, urls[name]], { cwd: dir, env: viaEnv });
      expect(r.code, r.stderr).toBe(0);
      expect(await fileSha256(join(dir, `env-${name}.bin`))).toBe(sha256(FILE));
      expect(socks.connections().length, name).toBeGreaterThan(before);
    }
    const before = socks.connections().length;
    const bypass = await cleanup.run(['-o', 'bypass.bin', urls.ftp], { cwd: dir, env: { ...viaEnv, NO_PROXY: '127.0.0.1' } });
    expect(bypass.code, bypass.stderr).toBe(0);
    const off = await cleanup.run(['--no-proxy', '-o', 'off.bin', urls.ftp], { cwd: dir, env: viaEnv });
    expect(off.code, off.stderr).toBe(0);
    expect(socks.connections().length).toBe(before);
  });

  it('an HTTP proxy carries ftp:// and sftp:// through CONNECT', async () => {
    const { dir, env, knownHosts, urls } = await servers();
    const proxy = cleanup.server(await startProxyServer());
    for (const name of ['ftp', 'sftp'] as const) {
      const before = proxy.requests().length;
      const r = await cleanup.run(['--proxy', proxy.url, '--known-hosts', knownHosts, '-o', `http-${name}.bin`, urls[name]], { cwd: dir, env });
      expect(r.code, r.stderr).toBe(0);
      expect(await fileSha256(join(dir, `http-${name}.bin`))).toBe(sha256(FILE));
      expect(proxy.requests().slice(before).every((req) => req.method === 'CONNECT')).toBe(true);
      expect(proxy.requests().length).toBeGreaterThan(before);
    }
  });

  it('goes through dante for sftp://', async () => {
    const { dir, env, knownHosts, urls, ports } = await servers();
    const dante = cleanup.server(await startDante());
    const r = await cleanup.run(['--proxy', dante.url, '--known-hosts', knownHosts, '-o', 'dante.bin', urls.sftp], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(await fileSha256(join(dir, 'dante.bin'))).toBe(sha256(FILE));
    expect((await dante.connections()).some((c) => c.port === ports.sftp)).toBe(true);
  });

  it('fails clearly: wrong proxy credentials exit 4, a refused proxy exits 3, socks4 exits 2; no secret printed', async () => {
    const { dir, env, urls } = await servers();
    const socks = cleanup.server(await startSocksServer({ auth: { username: 'pu', password: 'right-secret' } }));
    const wrong = await cleanup.run(['--retries', '0', '--proxy', socks.url.replace('socks5://', 'socks5://pu:wrong-secret@'), '-o', 'w.bin', urls.ftp], { cwd: dir, env });
    expect(wrong.code, wrong.stderr).toBe(4);
    expect(wrong.stderr).toContain('MG_ERR_PROXY_AUTH');
    expect(wrong.stdout + wrong.stderr).not.toContain('wrong-secret');

    // --json carries every field of the error, and still no proxy password.
    const good = socks.url.replace('socks5://', 'socks5://pu:right-secret@');
    const json = await cleanup.run(['--json', '--retries', '0', '--proxy', good, '-o', 'j.bin', urls.ftp.replace('file.bin', 'missing.bin')], { cwd: dir, env });
    expect(json.code).toBe(4);
    expect(json.stdout).toContain('MG_ERR_NOT_FOUND');
    expect(json.stdout + json.stderr).not.toContain('right-secret');
    for (const name of await readdir(dir)) {
      if (name === 'known_hosts') continue;
      expect(await readFile(join(dir, name), 'utf8').catch(() => ''), name).not.toContain('secret');
    }

    const port = await closedPort();
    const refused = await cleanup.run(['--retries', '0', '--proxy', `socks5://pu:other-secret@127.0.0.1:${port}`, '-o', 'r.bin', urls.sftp], { cwd: dir, env });
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toContain('MG_ERR_CONNECT');
    expect(refused.stderr).toContain(`socks5://127.0.0.1:${port}`);
    expect(refused.stdout + refused.stderr).not.toContain('other-secret');

    const socks4 = await cleanup.run(['--proxy', 'socks4://pu:four-secret@127.0.0.1:1080', urls.http], { cwd: dir, env });
    expect(socks4.code).toBe(2);
    expect(socks4.stderr).not.toContain('four-secret');

    const badEnv = await cleanup.run(['--retries', '0', '-o', 'e.bin', urls.sftp], { cwd: dir, env: { ...env, ALL_PROXY: 'socks4://pu:env-secret@127.0.0.1:1080' } });
    expect(badEnv.code, badEnv.stderr).toBe(2);
    expect(badEnv.stderr).toContain('ALL_PROXY');
    expect(badEnv.stderr).not.toContain('env-secret');
  });
});
