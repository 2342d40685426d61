import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateContent, generateSshKeyPair, sha256, sshFingerprint, startSftpServer } from '../src/index.js';
import type { SftpTestServer } from '../src/index.js';
import { openRead, readAt, readRange, sftpConnect, stat, until, type Outcome } from './sftpHelpers.js';

const KiB = 1024;
let server: SftpTestServer;

beforeEach(async () => {
  server = await startSftpServer({ users: [{ username: 'alice', password: 's3cret' }] });
});
afterEach(async () => {
  await server.close();
});

describe('SFTP test server: basics', () => {
  it('serves generated and real files with stat and reads at any offset', async () => {
    server.addFile('/data/gen.bin', { size: 300 * KiB, seed: 7 }, { mtime: 1_700_000_000 });
    server.addFile('/data/text.txt', Buffer.from('hello sftp'));
    const s = await sftpConnect({ host: server.host, port: server.port, username: 'alice', password: 's3cret' });
    try {
      const st = await stat(s.sftp, '/data/gen.bin');
      expect(st.ok && st.value.size).toBe(300 * KiB);
      expect(st.ok && st.value.mtime).toBe(1_700_000_000);
      expect(st.ok && st.value.isFile()).toBe(true);
      const dir = await stat(s.sftp, '/data');
      expect(dir.ok && dir.value.isDirectory()).toBe(true);
      const body = await readRange(s.sftp, '/data/gen.bin', 100_000, 250_000);
      expect(body.equals(generateContent({ size: 300 * KiB, seed: 7 }, 100_000, 250_000))).toBe(true);
      expect((await readRange(s.sftp, '/data/text.txt', 0, 100)).toString()).toBe('hello sftp');
      expect(server.bytesServed('/data/gen.bin')).toBe(150_000);
    } finally {
      s.end();
    }
  });

  it('answers a missing file with status 2 and an unreadable one with status 3', async () => {
    server.addFile('/locked.bin', Buffer.from('x'), { mode: 0o000 });
    const s = await sftpConnect({ host: server.host, port: server.port, username: 'alice', password: 's3cret' });
    try {
      const missing = await stat(s.sftp, '/nope');
      expect(missing.ok ? 0 : missing.code).toBe(2);
      const openMissing = await openRead(s.sftp, '/nope');
      expect(openMissing.ok ? 0 : openMissing.code).toBe(2);
      const locked = await openRead(s.sftp, '/locked.bin');
      expect(locked.ok ? 0 : locked.code).toBe(3);
      expect(server.log('open').map((e) => e.status)).toEqual([2, 3]);
    } finally {
      s.end();
    }
  });

  it('answers EOF at the end of the file', async () => {
    server.addFile('/f', Buffer.from('abc'));
    const s = await sftpConnect({ host: server.host, port: server.port, username: 'alice', password: 's3cret' });
    try {
      const handle = await openRead(s.sftp, '/f');
      if (!handle.ok) throw new Error(handle.message);
      const tail = await readAt(s.sftp, handle.value, 1, 100);
      expect(tail.ok && tail.value.toString()).toBe('bc');
      const past = await readAt(s.sftp, handle.value, 3, 10);
      expect(past.ok && past.value.length).toBe(0);
      expect(server.log('read').at(-1)).toMatchObject({ offset: 3, bytes: 0, status: 1 });
    } finally {
      s.end();
    }
  });

  it('accepts a password, refuses a wrong one, and never logs passwords', async () => {
    await expect(
      sftpConnect({ host: server.host, port: server.port, username: 'alice', password: 'wrong-horse' }),
    ).rejects.toThrow(/authentication methods failed/);
    const s = await sftpConnect({ host: server.host, port: server.port, username: 'alice', password: 's3cret' });
    s.end();
    const auths = server.log('auth');
    expect(auths.map((a) => [a.username, a.method, a.success])).toEqual([
      ['alice', 'password', false],
      ['alice', 'password', true],
    ]);
    expect(JSON.stringify(server.log())).not.toMatch(/wrong-horse|s3cret/);
  });

  it('accepts an authorised public key and refuses another', async () => {
    const good = generateSshKeyPair('ed25519');
    const other = generateSshKeyPair('ecdsa');
    server.addUser({ username: 'bob', publicKeys: [good.publicKey] });
    const s = await sftpConnect({ host: server.host, port: server.port, username: 'bob', privateKey: good.privateKey });
    s.end();
    await expect(
      sftpConnect({ host: server.host, port: server.port, username: 'bob', privateKey: other.privateKey }),
    ).rejects.toThrow(/authentication methods failed/);
    expect(server.log('auth').map((a) => a.success)).toEqual([true, false]);
  });

  it('lists a folder with OPENDIR and READDIR, then EOF; endlessListings never ends one', async () => {
    server.addFile('/data/a.bin', Buffer.from('a'));
    server.addFile('/data/sub/b.bin', Buffer.from('b'));
    const s = await sftpConnect({ host: server.host, port: server.port, username: 'alice', password: 's3cret' });
    const readdir = (handle: Buffer): Promise<Outcome<string[]>> =>
      new Promise((resolve) =>
        s.sftp.readdir(handle, (err, list) => resolve(err ? { ok: false, code: (err as { code?: number }).code, message: err.message } : { ok: true, value: list.map((e) => e.filename) })),
      );
    const opendir = (path: string): Promise<Buffer> => new Promise((resolve, reject) => s.sftp.opendir(path, (err, handle) => (err ? reject(err) : resolve(handle))));
    try {
      const plain = await opendir('/data');
      expect(await readdir(plain)).toEqual({ ok: true, value: ['a.bin', 'sub'] });
      expect(await readdir(plain)).toMatchObject({ ok: false, code: 1 });
      server.setServerFaults({ endlessListings: ['/data'] });
      const endless = await opendir('/data');
      expect(await readdir(endless)).toEqual({ ok: true, value: ['a.bin', 'sub'] });
      const names: string[] = [];
      // Bounded: 20 answers of a listing that would never end.
      for (let i = 0; i < 20; i++) {
        const batch = await readdir(endless);
        expect(batch.ok).toBe(true);
        if (batch.ok) names.push(...batch.value);
      }
      expect(names.length).toBe(20 * 500);
      expect(new Set(names).size).toBe(names.length);
      expect(names[0]).toBe('endless-0.bin');
    } finally {
      s.end();
    }
  });

  it('dropListings destroys the connection at the first READDIR', async () => {
    server.addFile('/data/a.bin', Buffer.from('a'));
    server.setServerFaults({ dropListings: ['/data'] });
    const s = await sftpConnect({ host: server.host, port: server.port, username: 'alice', password: 's3cret' });
    try {
      const handle = await new Promise<Buffer>((resolve, reject) => s.sftp.opendir('/data', (err, h) => (err ? reject(err) : resolve(h))));
      const failure = await new Promise<Error | undefined>((resolve) => s.sftp.readdir(handle, (err) => resolve(err ?? undefined)));
      expect(failure?.message).toMatch(/No response from server/);
      await until(() => server.openConnections() === 0);
    } finally {
      s.end();
    }
  });

  it('rejects everyone while failAuthentication is set', async () => {
    server.setServerFaults({ failAuthentication: true });
    await expect(
      sftpConnect({ host: server.host, port: server.port, username: 'alice', password: 's3cret' }),
    ).rejects.toThrow(/authentication methods failed/);
    server.setServerFaults({});
    (await sftpConnect({ host: server.host, port: server.port, username: 'alice', password: 's3cret' })).end();
  });

  it('presents its host key, and a new one on the same port after setHostKey', async () => {
    const first = await sftpConnect({ host: server.host, port: server.port, username: 'alice', password: 's3cret' });
    first.end();
    expect(sshFingerprint(first.hostKey)).toBe(server.hostKey.fingerprint);
    expect(server.knownHostsLine()).toBe(`[127.0.0.1]:${server.port} ${server.hostKey.publicKey}`);
    const before = server.hostKey.fingerprint;
    const rotated = server.setHostKey('rsa');
    expect(rotated.type).toBe('ssh-rsa');
    expect(rotated.fingerprint).not.toBe(before);
    const second = await sftpConnect({ host: server.host, port: server.port, username: 'alice', password: 's3cret' });
    second.end();
    expect(sshFingerprint(second.hostKey)).toBe(rotated.fingerprint);
  });

  it('replaceFile changes the bytes and moves the mtime forward; open handles keep the old bytes', async () => {
    server.addFile('/r.bin', { size: 64 * KiB, seed: 1 });
    const s = await sftpConnect({ host: server.host, port: server.port, username: 'alice', password: 's3cret' });
    try {
      const before = await stat(s.sftp, '/r.bin');
      const handle = await openRead(s.sftp, '/r.bin');
      if (!handle.ok || !before.ok) throw new Error('setup');
      server.replaceFile('/r.bin', { size: 64 * KiB, seed: 2 });
      const after = await stat(s.sftp, '/r.bin');
      expect(after.ok && after.value.mtime).toBeGreaterThan(before.value.mtime);
      const old = await readAt(s.sftp, handle.value, 0, 1000);
      expect(old.ok && old.value.equals(generateContent({ size: 64 * KiB, seed: 1 }, 0, 1000))).toBe(true);
      const fresh = await readRange(s.sftp, '/r.bin', 0, 64 * KiB);
      expect(sha256(fresh)).toBe(sha256({ size: 64 * KiB, seed: 2 }));
    } finally {
      s.end();
    }
  });

  it('replaceFile in place reaches open handles: new bytes and attributes', async () => {
    server.addFile('/p.bin', { size: 64 * KiB, seed: 1 });
    const s = await sftpConnect({ host: server.host, port: server.port, username: 'alice', password: 's3cret' });
    try {
      const handle = await openRead(s.sftp, '/p.bin');
      if (!handle.ok) throw new Error('setup');
      server.replaceFile('/p.bin', { size: 64 * KiB, seed: 2 }, { inPlace: true, mtime: 1_800_000_000 });
      const fresh = await readAt(s.sftp, handle.value, 0, 1000);
      expect(fresh.ok && fresh.value.equals(generateContent({ size: 64 * KiB, seed: 2 }, 0, 1000))).toBe(true);
      const attrs = await new Promise<number | undefined>((resolve) => s.sftp.fstat(handle.value, (err, st) => resolve(err ? undefined : st.mtime)));
      expect(attrs).toBe(1_800_000_000);
    } finally {
      s.end();
    }
  });

  it('counts connections and channels, and close() ends every connection', async () => {
    const a = await sftpConnect({ host: server.host, port: server.port, username: 'alice', password: 's3cret' });
    const b = await sftpConnect({ host: server.host, port: server.port, username: 'alice', password: 's3cret' });
    await new Promise<void>((resolve, reject) => a.client.sftp((err) => (err ? reject(err) : resolve())));
    expect(server.connectionsOpened()).toBe(2);
    expect(server.maxConcurrentConnections()).toBe(2);
    expect(server.maxChannelsPerConnection()).toBe(2);
    const closed = Promise.all([a, b].map((s) => new Promise<void>((resolve) => s.client.once('close', () => resolve()))));
    await server.close();
    await closed;
    await until(() => server.openConnections() === 0);
    await server.close();
  });
});
