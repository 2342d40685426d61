// Host key verification against the in-process server: known_hosts in a temporary home, explicit
// files, pinned fingerprints. A refused key must stop the connection before any credential is sent.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSftpServer, type SftpTestServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SftpPlugin, type SftpPluginOptions } from '../src/index.js';
import { makeJob, rejection, tempHome, type TempHome } from './helpers.js';

const run = promisify(execFile);
let server: SftpTestServer;
let home: TempHome;
const plugins: SftpPlugin[] = [];
const PASSWORD = 'correct-horse-battery';

beforeAll(async () => {
  server = await startSftpServer({ users: [{ username: 'alice', password: PASSWORD }] });
  server.addFile('/f.bin', Buffer.from('host key tests'));
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  home = await tempHome();
  server.resetLog();
});
afterEach(async () => {
  await Promise.all(plugins.splice(0).map((p) => p.close()));
  await home.dispose();
});

function plugin(options: SftpPluginOptions = {}): SftpPlugin {
  const p = new SftpPlugin({ home: home.path, agent: false, knownHosts: join(home.ssh, 'known_hosts'), ...options });
  plugins.push(p);
  return p;
}

const url = (): string => server.url('/f.bin', 'alice', PASSWORD);
const probe = (p: SftpPlugin): Promise<unknown> => p.probe(makeJob(url()));

describe('host keys', () => {
  it('refuses an unknown host with its fingerprint and how to trust it, before sending credentials', async () => {
    const err = await rejection(probe(plugin()));
    expect(err.code).toBe('MG_ERR_HOST_KEY_UNKNOWN');
    expect(err.message).toContain(server.hostKey.fingerprint);
    expect(err.message).toContain(`[127.0.0.1]:${server.port}`);
    expect(err.message).toContain(`ssh-keyscan -p ${server.port} -t ed25519 127.0.0.1 >> ${join(home.ssh, 'known_hosts')}`);
    expect(err.message).toContain(`--ssh-fingerprint ${server.hostKey.fingerprint}`);
    expect(err.message).not.toContain(PASSWORD);
    expect(err.retryable).toBe(false);
    expect(server.log('auth')).toEqual([]);
  });

  it('trusts a [host]:port line in ~/.ssh/known_hosts (the default file)', async () => {
    await home.knownHosts('# mine', server.knownHostsLine());
    const p = new SftpPlugin({ home: home.path, agent: false });
    plugins.push(p);
    await expect(probe(p)).resolves.toMatchObject({ size: 14 });
  });

  it('does not take a plain host line for a non-22 port', async () => {
    await home.knownHosts(`127.0.0.1 ${server.hostKey.publicKey}`);
    expect((await rejection(probe(plugin()))).code).toBe('MG_ERR_HOST_KEY_UNKNOWN');
  });

  it('trusts a hashed line made by ssh-keygen -H', async () => {
    const file = await home.knownHosts(server.knownHostsLine());
    await run('ssh-keygen', ['-H', '-f', file], { timeout: 10_000 });
    await expect(probe(plugin())).resolves.toMatchObject({ size: 14 });
  });

  it('trusts an explicit known_hosts file, and a wildcard line', async () => {
    const file = join(home.path, 'elsewhere');
    await writeFile(file, `[127.0.0.*]:${server.port},!nothing ${server.hostKey.publicKey}\n`);
    await expect(probe(plugin({ knownHosts: file }))).resolves.toMatchObject({ size: 14 });
  });

  it('fails loudly with MG_ERR_HOST_KEY_CHANGED when the key changed, and sends no credentials', async () => {
    await home.knownHosts(server.knownHostsLine());
    const old = server.hostKey.fingerprint;
    const rotated = server.setHostKey();
    try {
      server.resetLog();
      const err = await rejection(probe(plugin()));
      expect(err.code).toBe('MG_ERR_HOST_KEY_CHANGED');
      expect(err.message).toMatch(/HAS CHANGED/);
      expect(err.message).toContain(rotated.fingerprint);
      expect(err.message).toContain(old);
      expect(err.message).toContain(`${join(home.ssh, 'known_hosts')}:1`);
      expect(err.message).toContain(`ssh-keygen -R '[127.0.0.1]:${server.port}'`);
      expect(server.log('auth')).toEqual([]);
    } finally {
      await home.knownHosts(server.knownHostsLine());
    }
  });

  it('says which other key types are known when the server presents a new type', async () => {
    const before = server.knownHostsLine();
    server.setHostKey('ecdsa');
    const err = await rejection(probe(plugin({ knownHosts: await home.knownHosts(before) })));
    expect(err.code).toBe('MG_ERR_HOST_KEY_UNKNOWN');
    expect(err.message).toContain('keys of other types are known for it: ssh-ed25519');
    expect(err.message).toContain('-t ecdsa');
  });

  it('refuses a key marked @revoked', async () => {
    await home.knownHosts(server.knownHostsLine(), `@revoked * ${server.hostKey.publicKey}`);
    const err = await rejection(probe(plugin()));
    expect(err.code).toBe('MG_ERR_HOST_KEY_CHANGED');
    expect(err.message).toMatch(/@revoked/);
  });

  it('accepts a pinned fingerprint without any known_hosts, and refuses another', async () => {
    const pinned = plugin({ fingerprint: server.hostKey.fingerprint, knownHosts: join(home.path, 'none') });
    await expect(probe(pinned)).resolves.toMatchObject({ size: 14 });
    const wrong = plugin({ fingerprint: 'SHA256:3orpbXwcIiiFobH1YQ/zZHw47DJuEJNhiJOe5IrRvcw' });
    const err = await rejection(probe(wrong));
    expect(err.code).toBe('MG_ERR_HOST_KEY_CHANGED');
    expect(err.message).toContain(server.hostKey.fingerprint);
  });

  it('rejects a malformed fingerprint option at once', () => {
    expect(() => new SftpPlugin({ fingerprint: 'MD5:aa:bb' })).toThrow(expect.objectContaining({ code: 'MG_ERR_INVALID_OPTION' }));
  });
});
