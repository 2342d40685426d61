// The real OpenSSH sshd the interop tests run against. It must be installed: CI installs it, and a
// missing sshd fails this suite with the reason rather than skipping it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateContent, sshFingerprint, startOpenSshServer } from '../src/index.js';
import type { OpenSshTestServer } from '../src/index.js';
import { readRange, sftpConnect, stat } from './sftpHelpers.js';

let sshd: OpenSshTestServer;

beforeAll(async () => {
  sshd = await startOpenSshServer();
});
afterAll(async () => {
  await sshd?.close();
});

describe('OpenSSH sshd for interop tests', () => {
  it('lets the current user in with the generated key and serves written files over SFTP', async () => {
    const spec = { size: 3 * 1024 * 1024 + 17, seed: 11 };
    const path = await sshd.writeFile('sub/big.bin', spec, 1_600_000_000);
    const s = await sftpConnect({ host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.userKey.privateKey });
    try {
      expect(sshFingerprint(s.hostKey)).toBe(sshd.hostKey.fingerprint);
      const st = await stat(s.sftp, path);
      expect(st.ok && [st.value.size, st.value.mtime]).toEqual([spec.size, 1_600_000_000]);
      const tail = await readRange(s.sftp, path, spec.size - 100_000, spec.size);
      expect(tail.equals(generateContent(spec, spec.size - 100_000, spec.size))).toBe(true);
    } finally {
      s.end();
    }
    expect(sshd.url(path)).toBe(`sftp://${encodeURIComponent(sshd.username)}@127.0.0.1:${sshd.port}${path}`);
    expect(sshd.knownHostsLine()).toBe(`[127.0.0.1]:${sshd.port} ${sshd.hostKey.publicKey}`);
  });

  it('refuses a key it does not know', async () => {
    await expect(
      sftpConnect({ host: sshd.host, port: sshd.port, username: sshd.username, password: 'not-a-key' }),
    ).rejects.toThrow(/authentication methods failed/);
  });

  it('close() stops sshd and removes its directory, and can be called twice', async () => {
    const other = await startOpenSshServer({ hostKeyType: 'ecdsa' });
    expect(other.hostKey.type).toBe('ecdsa-sha2-nistp256');
    await other.close();
    await other.close();
    await expect(
      sftpConnect({ host: other.host, port: other.port, username: other.username, privateKey: other.userKey.privateKey }),
    ).rejects.toThrow();
    const { access } = await import('node:fs/promises');
    await expect(access(other.dir)).rejects.toThrow();
  });
});
