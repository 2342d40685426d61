/**
 * `multiget/addFolder` over the shared service's socket, against the test FTP server (real sockets,
 * MLSD listings with hostile extra lines): the tree queued one download per file, complete files
 * not queued again, links and unsafe names skipped, and every refusal before anything is queued.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type FtpTestServer, sha256, startFtpServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AddFolderResult, DownloadInfo, HistoryResult, ListResult } from '../src/protocol.js';
import { cleanupTempDirs, sha256File, tempDir } from './helpers.js';
import { SocketClient, killSharedServices, starter, until } from './socketClient.js';

const LOGIN = { username: 'alice', password: 'folder-pw-93' };
const A = { size: 200_000, seed: 71 };
const B = { size: 3_001, seed: 72 };
const C = { size: 50_000, seed: 73 };

let ftp: FtpTestServer;
const clients: SocketClient[] = [];
beforeAll(async () => {
  ftp = await startFtpServer({ users: { alice: LOGIN.password }, anonymous: false });
  ftp.addFile('/pub/set/a.bin', A);
  ftp.addFile('/pub/set/deep/sub/b 2.bin', B);
  ftp.addFile('/pub/set/notes.txt', C);
  // A tree whose files would land in a folder named `state` below the chosen folder.
  ftp.addFile('/pub/planted/state/evil.bin', B);
});
afterAll(async () => {
  await ftp.close();
});
beforeEach(() => {
  ftp.setFaults({});
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await killSharedServices();
  await cleanupTempDirs();
});

async function client(stateDir: string, dir: string): Promise<SocketClient> {
  const c = await SocketClient.open(stateDir, starter(stateDir, dir));
  clients.push(c);
  await c.initialize();
  return c;
}

/** Waits until every download is completed, failing at once on one that failed. */
async function allCompleted(c: SocketClient, ids: readonly string[]): Promise<void> {
  await until(async () => {
    const { downloads } = await c.request<ListResult>('multiget/list');
    const mine = downloads.filter((d) => ids.includes(d.id));
    const failed = mine.find((d) => d.state === 'failed');
    if (failed) throw new Error(`${failed.file} failed: ${failed.error?.code} ${failed.error?.message}`);
    return mine.length === ids.length && mine.every((d) => d.state === 'completed');
  }, 'the folder to download');
}

describe('multiget/addFolder', () => {
  it('queues one download per file of an FTP folder, skips links and unsafe names, and asking again queues only what is missing', async () => {
    ftp.setFaults({
      extraListLines: {
        '/pub/set': ['type=OS.unix=slink:/etc;size=4; escape', 'type=file;size=3;modify=20240101000000; sub\\evil'],
      },
    });
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    const c = await client(stateDir, dir);
    const url = ftp.url('/pub/set');

    const added = await c.request<AddFolderResult>('multiget/addFolder', { url, credentials: LOGIN, exclude: ['*.txt'], connections: 2 });
    expect(added.folder).toBe(join(dir, 'set'));
    expect(added.downloads.map((d) => d.file)).toEqual([join(dir, 'set', 'a.bin'), join(dir, 'set', 'deep', 'sub', 'b 2.bin')]);
    expect(added.downloads.map((d) => d.url)).toEqual([ftp.url('/pub/set/a.bin'), ftp.url('/pub/set/deep/sub/b%202.bin')]);
    expect(added.complete).toEqual([]);
    expect(added.skipped.map((s) => s.remotePath).sort()).toEqual(['escape', 'sub\\evil']);
    expect(added.skipped.find((s) => s.remotePath === 'escape')?.reason).toMatch(/link/);
    // The credentials were given for the listing and each file; none comes back.
    expect(JSON.stringify(added)).not.toContain(LOGIN.password);
    // Each queued file is announced like any added download.
    const ids = added.downloads.map((d) => d.id);
    await until(() => ids.every((id) => c.latest().has(id)), 'multiget/changed for every file');

    await allCompleted(c, ids);
    expect(await sha256File(join(dir, 'set', 'a.bin'))).toBe(sha256(A));
    expect(await sha256File(join(dir, 'set', 'deep', 'sub', 'b 2.bin'))).toBe(sha256(B));
    expect(existsSync(join(dir, 'set', 'notes.txt'))).toBe(false);
    expect(existsSync(join(dir, 'set', 'escape'))).toBe(false);
    const { entries } = await c.request<HistoryResult>('multiget/history');
    expect(entries.filter((e) => ids.includes(e.id)).map((e) => e.state)).toEqual(['completed', 'completed']);

    // Again, with the .txt file taken this time: only it is queued; the others are complete.
    const again = await c.request<AddFolderResult>('multiget/addFolder', { url: `${url}/`, credentials: LOGIN });
    expect(again.downloads.map((d) => d.file)).toEqual([join(dir, 'set', 'notes.txt')]);
    expect(again.complete).toEqual([
      { remotePath: 'a.bin', file: join(dir, 'set', 'a.bin'), size: A.size },
      { remotePath: 'deep/sub/b 2.bin', file: join(dir, 'set', 'deep', 'sub', 'b 2.bin'), size: B.size },
    ]);
    await allCompleted(c, again.downloads.map((d) => d.id));
    expect(await sha256File(join(dir, 'set', 'notes.txt'))).toBe(sha256(C));
  });

  it('takes output (the local folder exactly), depth and include', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    const c = await client(stateDir, dir);
    const added = await c.request<AddFolderResult>('multiget/addFolder', {
      url: ftp.url('/pub/set/'),
      credentials: LOGIN,
      output: 'mirror',
      depth: 0,
      include: ['*.bin'],
    });
    expect(added.folder).toBe(join(dir, 'mirror'));
    expect(added.downloads.map((d) => d.file)).toEqual([join(dir, 'mirror', 'a.bin')]);
    await allCompleted(c, added.downloads.map((d) => d.id));
    expect(await sha256File(join(dir, 'mirror', 'a.bin'))).toBe(sha256(A));
    expect(existsSync(join(dir, 'mirror', 'deep'))).toBe(false);
  });

  it('refuses bad params, schemes that cannot list, and a login the server refuses, before anything is queued', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    const c = await client(stateDir, dir);
    const url = ftp.url('/pub/set/');
    const refusals: Array<[unknown, number, string]> = [
      [{ url: 'http://127.0.0.1:9/pub/', credentials: LOGIN }, -32602, 'MG_ERR_UNSUPPORTED_PROTOCOL'],
      [{ url: 'file:///etc/' }, -32602, 'MG_ERR_UNSUPPORTED_PROTOCOL'],
      [{ url, credentials: LOGIN, checksum: `sha256=${'0'.repeat(64)}` }, -32602, 'MG_ERR_INVALID_OPTION'],
      [{ url, credentials: LOGIN, depth: 65 }, -32602, 'MG_ERR_INVALID_OPTION'],
      [{ url, credentials: LOGIN, include: '*.bin' }, -32602, 'MG_ERR_INVALID_OPTION'],
      [{ url, credentials: LOGIN, exclude: [''] }, -32602, 'MG_ERR_INVALID_OPTION'],
      [{ url, credentials: LOGIN, connections: 0 }, -32602, 'MG_ERR_INVALID_OPTION'],
      [{ url, credentials: LOGIN, headers: { a: 'b' } }, -32602, 'MG_ERR_INVALID_OPTION'],
      [{ url, credentials: LOGIN, output: 'a', dir: 'b' }, -32602, 'MG_ERR_INVALID_OPTION'],
      [{ url, credentials: LOGIN, output: '../out' }, -32602, 'MG_ERR_UNSAFE_PATH'],
      [{ url, credentials: LOGIN, dir: stateDir }, -32602, 'MG_ERR_UNSAFE_PATH'],
      [{ url, credentials: { username: 'alice', password: 'wrong' } }, -32803, 'MG_ERR_AUTH'],
    ];
    for (const [params, code, dataCode] of refusals) {
      const err = await c.requestError('multiget/addFolder', params);
      expect([err.code, err.data?.code], JSON.stringify(params)).toEqual([code, dataCode]);
    }
    expect((await c.request<ListResult>('multiget/list')).downloads).toEqual([]);
    expect(existsSync(join(dir, 'set'))).toBe(false);
  });

  it('queues nothing when a file of the tree would land in the state directory', async () => {
    const dir = await tempDir('dl');
    // A state directory inside the download directory, named like a folder of the remote tree.
    const stateDir = join(dir, 'state');
    await mkdir(stateDir);
    const c = await client(stateDir, dir);
    const err = await c.requestError('multiget/addFolder', { url: ftp.url('/pub/planted/'), credentials: LOGIN, output: '.' });
    expect([err.code, err.data?.code]).toEqual([-32602, 'MG_ERR_UNSAFE_PATH']);
    expect(err.message).toContain('state/evil.bin');
    const { downloads } = await c.request<ListResult>('multiget/list');
    expect(downloads.map((d: DownloadInfo) => d.file)).toEqual([]);
    expect(existsSync(join(stateDir, 'evil.bin'))).toBe(false);
  });
});
