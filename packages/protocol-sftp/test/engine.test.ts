// Whole downloads through the engine over real sockets, under each fault the SFTP test server
// knows. Every successful download is compared with the source by sha256.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget, type DownloadOptions, type DownloadResult, type MultigetOptions } from '@multiget/core';
import { generateSshKeyPair, sha256, startSftpServer, type SftpFaults, type SftpTestServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SftpPlugin, type SftpPluginOptions } from '../src/index.js';
import { tempHome, type TempHome } from './helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PASSWORD = 's3cr3t-pw';
const PASSPHRASE = 'key-passphrase-xyz';

let server: SftpTestServer;
let home: TempHome;
let dir: string;
let mg: Multiget;
let sftp: SftpPlugin;
let counter = 0;

beforeAll(async () => {
  server = await startSftpServer({ users: [{ username: 'alice', password: PASSWORD }] });
  home = await tempHome();
  await home.knownHosts(server.knownHostsLine());
});
afterAll(async () => {
  await server.close();
  await home.dispose();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-sftp-engine-'));
  ({ mg, sftp } = engine());
});
afterEach(async () => {
  await mg.close();
  await rm(dir, { recursive: true, force: true });
});

function engine(options: SftpPluginOptions = {}, engineOptions: MultigetOptions = {}): { mg: Multiget; sftp: SftpPlugin } {
  const plugin = new SftpPlugin({ home: home.path, agent: false, ...options });
  const engine = new Multiget({
    plugins: [plugin],
    minSplitSize: 128 * KiB,
    checkpointIntervalMs: 100,
    progressIntervalMs: 50,
    retry: { baseDelayMs: 10, maxDelayMs: 100 },
    ...engineOptions,
  });
  return { mg: engine, sftp: plugin };
}

/** Adds a fresh file with the given faults and returns its path, content spec and URL (with the password). */
function serve(size: number, faults: SftpFaults = {}) {
  const path = `/data/f${++counter}.bin`;
  const content = { size, seed: counter };
  server.addFile(path, content, { faults });
  return { path, content, url: server.url(path, 'alice', PASSWORD) };
}

async function hashOf(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

async function download(url: string, options: DownloadOptions = {}, engineToUse = mg): Promise<{ result: DownloadResult; hash: string }> {
  const result = await engineToUse.download(url, { dir, connections: 8, ...options }).done;
  return { result, hash: await hashOf(result.file) };
}

/** Starts a download, aborts its signal once `bytes` are on disk, and waits until it has stopped. */
async function abortAfter(url: string, bytes: number, options: DownloadOptions = {}): Promise<void> {
  const ctl = new AbortController();
  const dl = mg.download(url, { dir, connections: 4, ...options, signal: ctl.signal });
  dl.on('progress', (p) => {
    if (p.bytesDone >= bytes) ctl.abort();
  });
  await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_ABORTED' });
}

describe('downloads over SFTP through the engine', () => {
  it('reuses pooled connections for the next download', async () => {
    const a = serve(MiB);
    const b = serve(MiB);
    await download(a.url);
    const opened = server.connectionsOpened();
    expect((await download(b.url)).hash).toBe(sha256(b.content));
    expect(server.connectionsOpened()).toBe(opened);
  });

  it('assembles short (partial) read answers in order', async () => {
    const f = serve(MiB + 3, { maxReadReply: 7_000 });
    expect((await download(f.url)).hash).toBe(sha256(f.content));
  });

  it('starts over when the file is rewritten in place while its ranges stream', async () => {
    const f = serve(2 * MiB, { throttleBytesPerSec: 2 * MiB });
    const dl = mg.download(f.url, { dir, connections: 4 });
    let rewritten = false;
    dl.on('progress', (p) => {
      if (!rewritten && p.bytesDone >= 256 * KiB) {
        rewritten = true;
        server.replaceFile(f.path, { size: 2 * MiB, seed: 7000 }, { inPlace: true });
        server.setFaults(f.path, {});
      }
    });
    const result = await dl.done;
    expect(rewritten).toBe(true);
    expect(result.restarts).toBeGreaterThan(0);
    expect(await hashOf(result.file)).toBe(sha256({ size: 2 * MiB, seed: 7000 }));
  });

  it('resumes after an abort: result.resumed and exact bytes, without fetching everything again', async () => {
    const f = serve(4 * MiB, { throttleBytesPerSec: 4 * MiB });
    await abortAfter(f.url, MiB);
    const files = await readdir(dir);
    expect(files.sort()).toEqual([`f${counter}.bin.mgpart`, `f${counter}.bin.mgstate`]);
    server.setFaults(f.path, {});
    // The aborted run's connections may still be answering reads it had queued: count only new ones.
    const firstNew = server.connectionsOpened() + 1;
    // A shallow pipeline keeps the read-ahead that segment splits waste small, so the count is telling.
    const shallow = engine({ readAheadBytes: 1 });
    try {
      const dl = shallow.mg.download(f.url, { dir, connections: 8 });
      let resumedBytes = 0;
      dl.on('start', (s) => (resumedBytes = s.resumedBytes));
      const result = await dl.done;
      expect(result.resumed).toBe(true);
      expect(resumedBytes).toBeGreaterThanOrEqual(MiB);
      expect(await hashOf(result.file)).toBe(sha256(f.content));
      const served = server
        .log('read')
        .filter((r) => r.path === f.path && r.connectionId >= firstNew)
        .reduce((n, r) => n + (r.bytes ?? 0), 0);
      // Each split of a resumed segment may cost its owner the one read it had in flight.
      expect(served).toBeLessThan(f.content.size - resumedBytes + 512 * KiB);
    } finally {
      await shallow.mg.close();
    }
  });

  it('never writes credentials into the state file or messages', async () => {
    const keyPair = generateSshKeyPair('ed25519', { passphrase: PASSPHRASE });
    server.addUser({ username: 'keyed', publicKeys: [keyPair.publicKey] });
    const keyFile = await home.sshFile('keyed_key', keyPair.privateKey);
    const keyed = engine({ privateKey: keyFile, passphrase: PASSPHRASE });
    try {
      const f = serve(2 * MiB, { throttleBytesPerSec: 2 * MiB });
      const ctl = new AbortController();
      const dl = keyed.mg.download(f.url, { dir, connections: 2, signal: ctl.signal });
      const messages: string[] = [];
      dl.on('progress', (p) => {
        if (p.bytesDone >= 256 * KiB) ctl.abort();
      });
      dl.on('retry', (r) => messages.push(r.error.message));
      await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_ABORTED' });
      const state = await readFile(join(dir, `f${counter}.bin.mgstate`), 'utf8');
      expect(state).not.toContain(PASSWORD);
      expect(state).not.toContain(encodeURIComponent(PASSWORD));
      expect(state).not.toContain(PASSPHRASE);
      expect(state).toContain(server.url(f.path));
      // A key-based URL without a password, then a failure: nothing secret in what is reported.
      const keyedUrl = server.url(f.path, 'keyed');
      const failing = keyed.mg.download(server.url('/missing.bin', 'keyed'), { dir });
      const err = await failing.done.catch((e: Error) => e);
      expect(err).toMatchObject({ code: 'MG_ERR_NOT_FOUND', sftpCode: 2 });
      const text = `${String(err)} ${JSON.stringify(err)} ${messages.join(' ')}`;
      expect(text).not.toContain(PASSPHRASE);
      expect(text).not.toContain(PASSWORD);
      expect(keyedUrl).not.toContain(PASSPHRASE);
      expect(JSON.stringify(server.log())).not.toContain(PASSWORD);
    } finally {
      await keyed.mg.close();
    }
  });

  it('fails at once with MG_ERR_HOST_KEY_UNKNOWN for an unknown host, printing its fingerprint', async () => {
    const stranger = await tempHome();
    const lost = engine({ home: stranger.path });
    try {
      const f = serve(1000);
      const dl = lost.mg.download(f.url, { dir });
      let retries = 0;
      dl.on('retry', () => retries++);
      const err = await dl.done.catch((e: Error) => e);
      expect(err).toMatchObject({ code: 'MG_ERR_HOST_KEY_UNKNOWN' });
      expect((err as Error).message).toContain(server.hostKey.fingerprint);
      expect(retries).toBe(0);
    } finally {
      await lost.mg.close();
      await stranger.dispose();
    }
  });

  it('fails at once with MG_ERR_AUTH on a wrong password, and MG_ERR_NOT_FOUND for a missing file', async () => {
    const f = serve(1000);
    await expect(mg.download(server.url(f.path, 'alice', 'wrong'), { dir }).done).rejects.toMatchObject({ code: 'MG_ERR_AUTH' });
    await expect(mg.download(server.url('/nope.bin', 'alice', PASSWORD), { dir }).done).rejects.toMatchObject({
      code: 'MG_ERR_NOT_FOUND',
      sftpCode: 2,
    });
  });

  it('fails with MG_ERR_FORBIDDEN when reading is denied', async () => {
    const f = serve(1000, { status: 3 });
    await expect(mg.download(f.url, { dir }).done).rejects.toMatchObject({ code: 'MG_ERR_FORBIDDEN', sftpCode: 3 });
  });

  it('works with a pinned fingerprint and one connection with one channel', async () => {
    const pinned = engine({ fingerprint: server.hostKey.fingerprint, knownHosts: '/nonexistent', connectionsPerHost: 1, channelsPerConnection: 1 });
    try {
      const f = serve(2 * MiB);
      const { hash } = await download(f.url, {}, pinned.mg);
      expect(hash).toBe(sha256(f.content));
    } finally {
      await pinned.mg.close();
    }
  });

  it('closes its connections with the engine', async () => {
    const f = serve(MiB);
    await download(f.url);
    expect(server.openConnections()).toBeGreaterThan(0);
    await mg.close();
    await expect.poll(() => server.openConnections()).toBe(0);
    expect(sftp).toBeDefined();
  });
});
