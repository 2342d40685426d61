// Authentication as OpenSSH users expect it: passwords from the URL, the download's credentials or
// the options; the default keys of ~/.ssh; an explicit key with a passphrase; ssh-agent.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { generateSshKeyPair, startSftpServer, type SftpTestServer, type SshKeyPair } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SftpPlugin, type SftpPluginOptions } from '../src/index.js';
import { makeJob, rejection, tempHome, type TempHome } from './helpers.js';

const run = promisify(execFile);
let server: SftpTestServer;
let home: TempHome;
const plugins: SftpPlugin[] = [];
const PASSWORD = 'pa:ss@word/é';
const PASSPHRASE = 'open sesame 42';
let bobKey: SshKeyPair;
let carolKey: SshKeyPair;
let carolEncrypted: SshKeyPair;

beforeAll(async () => {
  bobKey = generateSshKeyPair('ed25519');
  carolKey = generateSshKeyPair('ecdsa');
  carolEncrypted = generateSshKeyPair('ed25519', { passphrase: PASSPHRASE });
  server = await startSftpServer({
    users: [
      { username: 'alice', password: PASSWORD },
      { username: 'bob', publicKeys: [bobKey.publicKey] },
      { username: 'carol', publicKeys: [carolKey.publicKey, carolEncrypted.publicKey] },
      { username: userInfo().username, password: 'os-user-password' },
    ],
  });
  server.addFile('/f.bin', Buffer.from('authenticated'));
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  home = await tempHome();
  await home.knownHosts(server.knownHostsLine());
  server.resetLog();
});
afterEach(async () => {
  await Promise.all(plugins.splice(0).map((p) => p.close()));
  await home.dispose();
});

function plugin(options: SftpPluginOptions = {}): SftpPlugin {
  const p = new SftpPlugin({ home: home.path, agent: false, ...options });
  plugins.push(p);
  return p;
}

const probe = (p: SftpPlugin, url: string, credentials?: { username: string; password: string }): Promise<unknown> =>
  p.probe(makeJob(url, credentials ? { credentials } : {}));

function successes(): Array<[string | undefined, string | undefined]> {
  return server.log('auth').filter((a) => a.success).map((a) => [a.username, a.method]);
}

describe('passwords', () => {
  it('takes user and password from the URL (percent-decoded)', async () => {
    await expect(probe(plugin(), server.url('/f.bin', 'alice', PASSWORD))).resolves.toMatchObject({ size: 13 });
    expect(successes()).toEqual([['alice', 'password']]);
  });

  it("takes them from the download's credentials", async () => {
    await expect(probe(plugin(), server.url('/f.bin'), { username: 'alice', password: PASSWORD })).resolves.toMatchObject({ size: 13 });
  });

  it('takes them from the options, and the OS user when nothing names one', async () => {
    await expect(probe(plugin({ username: 'alice', password: PASSWORD }), server.url('/f.bin'))).resolves.toBeDefined();
    await expect(probe(plugin({ password: 'os-user-password' }), server.url('/f.bin'))).resolves.toBeDefined();
    expect(successes()).toEqual([
      ['alice', 'password'],
      [userInfo().username, 'password'],
    ]);
  });

  it('fails a wrong password with MG_ERR_AUTH, naming what was tried and never the password', async () => {
    const err = await rejection(probe(plugin(), server.url('/f.bin', 'alice', 'not-the-password')));
    expect(err.code).toBe('MG_ERR_AUTH');
    expect(err.message).toContain('alice@127.0.0.1');
    expect(err.message).toContain('tried password');
    expect(err.message).not.toContain('not-the-password');
    expect(JSON.stringify(err.toJSON())).not.toContain('not-the-password');
    expect(err.retryable).toBe(false);
  });

  it('fails with MG_ERR_AUTH when the server refuses everyone', async () => {
    server.setServerFaults({ failAuthentication: true });
    try {
      expect((await rejection(probe(plugin(), server.url('/f.bin', 'alice', PASSWORD)))).code).toBe('MG_ERR_AUTH');
    } finally {
      server.setServerFaults({});
    }
  });
});

describe('keys', () => {
  it('uses ~/.ssh/id_ed25519 without being told', async () => {
    await home.sshFile('id_ed25519', bobKey.privateKey);
    await expect(probe(plugin(), server.url('/f.bin', 'bob'))).resolves.toBeDefined();
    expect(successes()).toEqual([['bob', 'publickey']]);
  });

  it('skips an encrypted default key without a passphrase and goes on to the next', async () => {
    await home.sshFile('id_ed25519', carolEncrypted.privateKey);
    await home.sshFile('id_ecdsa', carolKey.privateKey);
    await expect(probe(plugin(), server.url('/f.bin', 'carol'))).resolves.toBeDefined();
    const err = await rejection(probe(plugin(), server.url('/f.bin', 'bob')));
    expect(err.code).toBe('MG_ERR_AUTH');
    expect(err.message).toContain(`Skipped: ${join(home.ssh, 'id_ed25519')} (encrypted, no passphrase given)`);
    expect(err.message).toContain(`key ${join(home.ssh, 'id_ecdsa')}`);
  });

  it('uses an explicit key file with its passphrase', async () => {
    const file = join(home.path, 'deploy_key');
    await writeFile(file, carolEncrypted.privateKey, { mode: 0o600 });
    await expect(probe(plugin({ privateKey: file, passphrase: PASSPHRASE }), server.url('/f.bin', 'carol'))).resolves.toBeDefined();
    await expect(
      probe(plugin({ privateKey: '~/deploy_key', passphrase: Buffer.from(PASSPHRASE) }), server.url('/f.bin', 'carol')),
    ).resolves.toBeDefined();
  });

  it('says an explicit encrypted key needs its passphrase, or that it is wrong, never echoing it', async () => {
    const file = join(home.path, 'deploy_key');
    await writeFile(file, carolEncrypted.privateKey, { mode: 0o600 });
    const missing = await rejection(probe(plugin({ privateKey: file }), server.url('/f.bin', 'carol')));
    expect(missing.code).toBe('MG_ERR_AUTH');
    expect(missing.message).toMatch(/is encrypted: give its passphrase/);
    const wrong = await rejection(probe(plugin({ privateKey: file, passphrase: 'guess-123' }), server.url('/f.bin', 'carol')));
    expect(wrong.code).toBe('MG_ERR_AUTH');
    expect(wrong.message).toMatch(/wrong passphrase/);
    expect(wrong.message).not.toContain('guess-123');
  });

  it('takes the key text itself, and refuses a missing file or a public key', async () => {
    await expect(probe(plugin({ privateKey: bobKey.privateKey }), server.url('/f.bin', 'bob'))).resolves.toBeDefined();
    const missing = await rejection(probe(plugin({ privateKey: join(home.path, 'nope') }), server.url('/f.bin', 'bob')));
    expect(missing.code).toBe('MG_ERR_INVALID_OPTION');
    const pub = await rejection(probe(plugin({ privateKey: bobKey.publicKey }), server.url('/f.bin', 'bob')));
    expect(pub.code).toBe('MG_ERR_INVALID_OPTION');
    // Key material never shows up in a message.
    expect(pub.message).not.toContain(bobKey.publicKey.split(' ')[1]!.slice(0, 20));
  });

  it('prefers the key and falls back to the password', async () => {
    server.addUser({ username: 'dave', password: 'dave-pw', publicKeys: [bobKey.publicKey] });
    await home.sshFile('id_ed25519', carolKey.privateKey);
    await expect(probe(plugin(), server.url('/f.bin', 'dave', 'dave-pw'))).resolves.toBeDefined();
    expect(server.log('auth').map((a) => [a.method, a.success])).toEqual([
      ['publickey', false],
      ['password', true],
    ]);
  });
});

describe('ssh-agent', () => {
  let dir: string;
  let agent: ChildProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mg-agent-'));
  });
  afterAll(async () => {
    if (agent?.pid !== undefined && agent.exitCode === null) {
      agent.kill('SIGTERM');
      await Promise.race([once(agent, 'exit'), sleep(5000)]);
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('authenticates with a key held by ssh-agent (SSH_AUTH_SOCK style socket)', async () => {
    const socket = join(dir, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await access(socket).then(() => true, () => false))) {
      if (Date.now() > deadline || agent.exitCode !== null) throw new Error('ssh-agent did not start');
      await sleep(20);
    }
    const keyFile = join(dir, 'agent_key');
    await writeFile(keyFile, bobKey.privateKey, { mode: 0o600 });
    await run('ssh-add', ['-q', keyFile], { env: { ...process.env, SSH_AUTH_SOCK: socket }, timeout: 10_000 });
    // No key in ~/.ssh and no password: only the agent can let bob in.
    await expect(probe(plugin({ agent: socket }), server.url('/f.bin', 'bob'))).resolves.toBeDefined();
    expect(successes()).toEqual([['bob', 'publickey']]);
    // An agent socket that does not exist is simply not used.
    const err = await rejection(probe(plugin({ agent: join(dir, 'missing.sock') }), server.url('/f.bin', 'bob')));
    expect(err.code).toBe('MG_ERR_AUTH');
    expect(err.message).toContain('tried nothing');
  });
});
