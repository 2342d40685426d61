// What a real SFTP download logs at each level, and that no password or passphrase reaches the log.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOG_LEVELS, type LogLevel, Multiget } from '@multiget/core';
import { RecordingLogger } from '@multiget/core/testing';
import { generateSshKeyPair, startSftpServer, type SftpTestServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SftpPlugin, type SftpPluginOptions } from '../src/index.js';
import { tempHome, type TempHome } from './helpers.js';

const PASSWORD = 'sftp-pa55word-secret';
const PASSPHRASE = 'sftp-key-passphrase-secret';

let server: SftpTestServer;
let home: TempHome;
let dir: string;
let keyFile: string;
let counter = 0;

beforeAll(async () => {
  server = await startSftpServer({ users: [{ username: 'alice', password: PASSWORD }] });
  home = await tempHome();
  await home.knownHosts(server.knownHostsLine());
  const keyPair = generateSshKeyPair('ed25519', { passphrase: PASSPHRASE });
  server.addUser({ username: 'keyed', publicKeys: [keyPair.publicKey] });
  keyFile = await home.sshFile('keyed_key', keyPair.privateKey);
});
afterAll(async () => {
  await server.close();
  await home.dispose();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-sftp-log-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Downloads a file whose first connection is cut (one retry), by password or by encrypted key. */
async function download(level: LogLevel, login: 'password' | 'key', plugin: SftpPluginOptions = {}, rec = new RecordingLogger()): Promise<RecordingLogger> {
  const path = `/data/f${++counter}.bin`;
  server.addFile(path, { size: 600 * 1024, seed: counter }, { faults: { dropAfterBytes: 100_000, dropTimes: 1 } });
  const options: SftpPluginOptions = login === 'key' ? { privateKey: keyFile, passphrase: PASSPHRASE } : {};
  const mg = new Multiget({
    plugins: [new SftpPlugin({ home: home.path, agent: false, ...options, ...plugin })],
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    logger: rec,
    logLevel: level,
  });
  try {
    const url = login === 'key' ? server.url(path, 'keyed') : server.url(path, 'alice', PASSWORD);
    await mg.download(url, { dir, connections: 2 }).done;
  } finally {
    await mg.close();
  }
  return rec;
}

function expectNoSecret(rec: RecordingLogger): void {
  const all = `${rec.text()}\n${JSON.stringify(rec.lines)}`;
  expect(all).not.toContain(PASSWORD);
  expect(all).not.toContain(encodeURIComponent(PASSWORD));
  expect(all).not.toContain(PASSPHRASE);
}

const ADDED: Record<LogLevel, string[]> = {
  error: [],
  warn: ['retry'],
  info: ['start', 'done'],
  debug: ['ssh connection', 'host key accepted', 'state'],
  trace: ['channel leased'],
};

describe('SFTP logging', () => {
  for (const level of LOG_LEVELS) {
    it(`logs at ${level} what that level promises, and never a password or passphrase`, async () => {
      const rec = await download(level, level === 'info' || level === 'trace' ? 'key' : 'password');
      const upTo = LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
      const seen = new Set(rec.messages());
      for (const l of LOG_LEVELS) for (const msg of ADDED[l]) expect(seen.has(msg), `${msg} at ${level}`).toBe(upTo.includes(l));
      for (const line of rec.lines) expect(upTo).toContain(line.level);
      expectNoSecret(rec);
    });
  }

  it('tells how the host key was trusted and which ways to log in were offered', async () => {
    const rec = await download('debug', 'key');
    expect(rec.find('host key accepted')?.fields).toMatchObject({ fingerprint: server.hostKey.fingerprint, hostKeyTrust: expect.stringContaining('known_hosts') });
    expect(rec.find('ssh connection')?.fields).toMatchObject({ logins: [`key ${keyFile}`] });
    expect((await download('debug', 'password')).find('ssh connection')?.fields).toMatchObject({ logins: ['password'] });
    expectNoSecret(rec);
  });

  it('logs a refused host key at warn, with the fingerprint the server presented', async () => {
    const pinned = `SHA256:${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`;
    const rec = new RecordingLogger();
    await expect(download('warn', 'password', { fingerprint: pinned }, rec)).rejects.toMatchObject({ code: expect.stringMatching(/^MG_ERR_HOST_KEY/) });
    expect(rec.find('host key refused')).toMatchObject({ level: 'warn', fields: { fingerprint: server.hostKey.fingerprint, hostKeyTrust: 'pinned fingerprint' } });
    expectNoSecret(rec);
  });
});
