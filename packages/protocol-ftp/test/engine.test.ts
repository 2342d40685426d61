// Whole downloads through the engine, over real sockets, under each fault the FTP test server knows.
// Every successful download is compared with the source by sha256.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget, type DownloadOptions, type DownloadResult } from '@multiget/core';
import { sha256, startFtpServer, type FileContent, type FtpFileFaults, type FtpTestServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FtpPlugin } from '../src/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;

let server: FtpTestServer;
let dir: string;
let mg: Multiget;
let plugin: FtpPlugin;
let counter = 0;

beforeAll(async () => {
  server = await startFtpServer({ users: { alice: 'wonder-land-7' } });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  server.setFaults({});
  dir = await mkdtemp(join(tmpdir(), 'mg-ftp-engine-'));
  plugin = new FtpPlugin();
  mg = new Multiget({
    plugins: [plugin],
    minSplitSize: 128 * KiB,
    checkpointIntervalMs: 100,
    progressIntervalMs: 50,
    retry: { baseDelayMs: 10, maxDelayMs: 100 },
  });
});
afterEach(async () => {
  await mg.close();
  await rm(dir, { recursive: true, force: true });
});

/** Adds a fresh file with the given faults and returns its path and content spec. */
function serve(size: number, faults: FtpFileFaults = {}) {
  const path = `/f${++counter}.bin`;
  const content: FileContent = { size, seed: counter };
  server.addFile(path, content, { faults });
  return { path, content, url: server.url(path) };
}

async function hashOf(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

async function download(url: string, options: DownloadOptions = {}): Promise<{ result: DownloadResult; hash: string }> {
  const result = await mg.download(url, { dir, connections: 8, ...options }).done;
  return { result, hash: await hashOf(result.file) };
}

describe('downloads over FTP through the engine', () => {
  it('uses several connections, reuses them, and gets the exact bytes', async () => {
    // Paced, so that the transfers overlap on the server rather than each filling the socket buffers at once.
    const f = serve(4 * MiB + 3, { throttleBytesPerSec: 16 * MiB });
    const before = server.connectionsOpened();
    const { hash, result } = await download(f.url, { connections: 4 });
    expect(hash).toBe(sha256(f.content));
    expect(result.size).toBe(4 * MiB + 3);
    expect(result.url).toBe(f.url);
    expect(server.maxConcurrentTransfers(f.path)).toBeGreaterThan(1);
    // At most one login per connection wanted, whatever the number of segments.
    expect(server.connectionsOpened() - before).toBeLessThanOrEqual(4);
    expect(await readdir(dir)).toEqual([`f${counter}.bin`]);
  });

  it('falls back to one stream when REST is refused despite FEAT (504)', async () => {
    server.setFaults({ refuseRest: 'nonzero' });
    const f = serve(2 * MiB);
    const dl = mg.download(f.url, { dir, connections: 4 });
    const reasons: string[] = [];
    dl.on('restart', (r) => reasons.push(r.reason));
    const result = await dl.done;
    expect(await hashOf(result.file)).toBe(sha256(f.content));
    expect(reasons.some((r) => /one stream/.test(r))).toBe(true);
  });

  // A server that answers REST with 350 and sends from byte 0 anyway would put the file's beginning
  // into every range but the first, and a range that stops before the end never notices (its bytes
  // count right). Before the first range mid-file, a RETR of the last byte must bring one byte.
  it('finds out that a server ignores REST before trusting a range to it, and downloads in one stream', async () => {
    server.setFaults({ ignoreRest: true });
    server.resetLog();
    const f = serve(3 * MiB + 5, { throttleBytesPerSec: 16 * MiB });
    const dl = mg.download(f.url, { dir, connections: 4 });
    const reasons: string[] = [];
    dl.on('restart', (r) => reasons.push(r.reason));
    const result = await dl.done;
    expect(await hashOf(result.file)).toBe(sha256(f.content));
    expect(reasons.join()).toMatch(/answers REST but a retrieval of its last byte brought more/);
    // No range mid-file was ever asked for: the check, then streams from byte 0.
    expect(server.commands('REST').map((r) => r.argument)).toEqual([String(3 * MiB + 4)]);
    // The plugin remembers the server: the next download's ranges go straight to one stream.
    const g = serve(2 * MiB, { throttleBytesPerSec: 16 * MiB });
    expect((await download(g.url, { connections: 4 })).hash).toBe(sha256(g.content));
    expect(server.commands('REST')).toHaveLength(1);
  });

  it('checks once per server that it honours REST, then trusts its ranges', async () => {
    server.resetLog();
    const files = [serve(2 * MiB, { throttleBytesPerSec: 16 * MiB }), serve(2 * MiB, { throttleBytesPerSec: 16 * MiB })];
    for (const f of files) expect((await download(f.url, { connections: 4 })).hash).toBe(sha256(f.content));
    const rests = server.commands('REST').map((r) => Number(r.argument));
    // The first range mid-file waits for one RETR of the first file's last byte; every other REST is a range.
    expect(rests[0]).toBe(2 * MiB - 1);
    expect(rests.filter((offset) => offset === 2 * MiB - 1)).toHaveLength(1);
    expect(rests.length).toBeGreaterThan(2);
  });

  it('downloads in one stream from the start when the server has no REST', async () => {
    server.setFaults({ refuseRest: 'all' });
    const f = serve(2 * MiB);
    const { hash } = await download(f.url, { connections: 4 });
    expect(hash).toBe(sha256(f.content));
    expect(server.transfers(f.path).every((t) => t.offset === 0)).toBe(true);
    expect(server.maxConcurrentTransfers(f.path)).toBe(1);
  });

  it('downloads a file of unknown length (no SIZE) in one stream', async () => {
    server.setFaults({ noSize: true });
    const f = serve(MiB + 123);
    const { hash, result } = await download(f.url);
    expect(hash).toBe(sha256(f.content));
    expect(result.size).toBe(MiB + 123);
  });

  it('never calls a cut stream of unknown length complete', async () => {
    server.setFaults({ noSize: true });
    const f = serve(MiB, { dropAfterBytes: 300 * KiB });
    await expect(mg.download(f.url, { dir, retries: 2 }).done).rejects.toMatchObject({ code: 'MG_ERR_CONNECTION_RESET', ftpCode: 426 });
    expect((await readdir(dir)).filter((n) => !n.endsWith('.mgpart') && !n.endsWith('.mgstate'))).toEqual([]);
  });

  it('recovers a cut stream of unknown length, from the start', async () => {
    server.setFaults({ noSize: true });
    const f = serve(MiB, { dropAfterBytes: 300 * KiB, dropTimes: 2 });
    expect((await download(f.url)).hash).toBe(sha256(f.content));
  });

  it('retries transient 4xx replies with backoff, then succeeds', async () => {
    for (const code of [421, 425, 450, 451]) {
      const f = serve(512 * KiB, { failTimes: { count: 2, code } });
      const dl = mg.download(f.url, { dir });
      const seen: number[] = [];
      dl.on('retry', (r) => seen.push(r.error.ftpCode ?? 0));
      const result = await dl.done;
      expect(await hashOf(result.file)).toBe(sha256(f.content));
      expect(seen).toEqual([code, code]);
    }
  });

  it('works with a server that answers 421 above N connections', async () => {
    server.setFaults({ maxConnections: 2 });
    const f = serve(4 * MiB, { throttleBytesPerSec: 8 * MiB });
    const before = server.connectionsOpened();
    const { hash } = await download(f.url, { connections: 8 });
    expect(hash).toBe(sha256(f.content));
    expect(server.maxConcurrentTransfers(f.path)).toBeLessThanOrEqual(2);
    // Connections beyond the second were greeted with 421 and given up (retired), not retried forever.
    expect(server.connectionsOpened() - before).toBeGreaterThan(2);
  });

  it('fails at once with MG_ERR_PROTOCOL when PASV names another host', async () => {
    server.setFaults({ refuseEpsv: true, pasvAddress: '10.9.8.7' });
    const f = serve(64 * KiB);
    await expect(mg.download(f.url, { dir }).done).rejects.toMatchObject({ code: 'MG_ERR_PROTOCOL' });
    expect(server.transfers(f.path)).toHaveLength(0);
  });

  it('fails with MG_ERR_AUTH at once on 530, and logs in with the right credentials', async () => {
    const f = serve(256 * KiB);
    const bad = server.url(f.path, { username: 'alice', password: 'wrong-one-5' });
    await expect(mg.download(bad, { dir }).done).rejects.toMatchObject({ code: 'MG_ERR_AUTH', ftpCode: 530 });
    const ok = await download(f.url, { credentials: { username: 'alice', password: 'wonder-land-7' } });
    expect(ok.hash).toBe(sha256(f.content));
  });

  it('verifies a checksum given by the caller', async () => {
    const f = serve(MiB);
    const { result } = await download(f.url, { checksum: `sha256=${sha256(f.content)}` });
    expect(result.verified).toBe(true);
    await expect(mg.download(serve(MiB).url, { dir, checksum: `sha256=${'0'.repeat(64)}` }).done).rejects.toMatchObject({
      code: 'MG_ERR_CHECKSUM_MISMATCH',
    });
  });

  it('honours a rate limit', async () => {
    const f = serve(256 * KiB);
    const dl = mg.download(f.url, { dir, rateLimit: 2 * MiB });
    expect(await hashOf((await dl.done).file)).toBe(sha256(f.content));
  });

  it('names the file after the last path segment, percent-decoded and sanitised', async () => {
    const name = `..hidden ${++counter} €.bin`;
    server.addFile(`/sub dir/${name}`, { size: 1000, seed: counter });
    const { result } = await download(server.url(`/sub%20dir/${encodeURIComponent(name)}`));
    expect(result.file).toBe(join(dir, `hidden ${counter} €.bin`));
  });

  it('closes every control connection on close()', async () => {
    const f = serve(MiB);
    await download(f.url, { connections: 2 });
    expect(plugin.connections.open).toBeGreaterThan(0);
    await mg.close();
    expect(plugin.connections).toEqual({ open: 0, idle: 0 });
  });
});
