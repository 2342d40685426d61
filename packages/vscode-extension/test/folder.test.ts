// "Download Folder…" below the UI: the folder URL check and the summary the user reads, and the
// request itself sent by addFolder to the bundled service (dist/server.mjs, as the extension starts
// it) against the test FTP server, with the host's stored login, feeding the download list.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMessageConnection, type MessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FtpTestServer, sha256, startFtpServer } from '@multiget/test-servers';
import type { DownloadCredentials, DownloadInfo, DownloadInfoResult } from '@multiget/server/protocol';
import { type AddFolderDeps, addFolder } from '../src/addFolder';
import { DownloadStore } from '../src/model/DownloadStore';
import { folderSummary, validateFolderUrl } from '../src/model/folder';
import { describeRequestError } from '../src/service/requests';

const BUNDLE = fileURLToPath(new URL('../dist/server.mjs', import.meta.url));
const LOGIN = { username: 'bob', password: 'ext-folder-pw-5' };
const A = { size: 120_000, seed: 81 };
const B = { size: 2_345, seed: 82 };

describe('validateFolderUrl', () => {
  it('takes ftp, ftps and sftp folders', () => {
    for (const url of ['ftp://example.com/pub/', 'ftps://example.com/pub', ' sftp://user@example.com/home/user/set/ ']) {
      expect(validateFolderUrl(url), url).toBeUndefined();
    }
  });
  it('refuses web folders, other schemes, schemes the service does not serve, and non-URLs, as Download URL words it', () => {
    expect(validateFolderUrl('https://example.com/pub/')).toMatch(/ftp, ftps and sftp, not "https:"/);
    expect(validateFolderUrl('file:///etc/')).toMatch(/cannot download "file:"/);
    expect(validateFolderUrl('sftp://example.com/x/', ['http', 'https', 'ftp'])).toMatch(/does not serve "sftp:"/);
    expect(validateFolderUrl('example.com/pub')).toMatch(/not a URL/);
    expect(validateFolderUrl('  ')).toMatch(/Enter the URL of a folder/);
  });
});

describe('folderSummary', () => {
  const d = { id: 'x' } as DownloadInfo;
  const file = { remotePath: 'a', file: '/d/set/a', size: 1 };
  const skip = { remotePath: 'l', reason: 'a symbolic link' };
  it('tells how many files were queued and where, and what else happened', () => {
    expect(folderSummary({ folder: '/d/set', downloads: [d, d, d], complete: [], skipped: [] })).toEqual({ message: 'queued 3 files into /d/set.', warn: false });
    expect(folderSummary({ folder: '/d/set', downloads: [d], complete: [file, file], skipped: [skip] })).toEqual({
      message: 'queued 1 file into /d/set (2 already downloaded; 1 skipped: see the Multiget log).',
      warn: true,
    });
  });
  it('says so when there is nothing to download', () => {
    expect(folderSummary({ folder: '/d/set', downloads: [], complete: [file, file], skipped: [] }).message).toBe(
      'nothing to download: all 2 files are already in /d/set.',
    );
    expect(folderSummary({ folder: '/d/set', downloads: [], complete: [file], skipped: [] }).message).toBe('nothing to download: the file is already in /d/set.');
    expect(folderSummary({ folder: '/d/set', downloads: [], complete: [], skipped: [skip] })).toEqual({
      message: 'the folder has no file to download (/d/set) (1 skipped: see the Multiget log).',
      warn: true,
    });
  });
});

describe('addFolder through the bundled service', () => {
  let ftp: FtpTestServer;
  let home: string;
  let child: ChildProcess;
  let rpc: MessageConnection;

  beforeAll(async () => {
    ftp = await startFtpServer({ users: { bob: LOGIN.password }, anonymous: false });
    ftp.addFile('/pub/set/a.bin', A);
    ftp.addFile('/pub/set/sub/b.bin', B);
  });
  afterAll(async () => {
    await ftp.close();
  });
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'mg-ext-folder-'));
    child = spawn(process.execPath, [BUNDLE, '--stdio', '--state-dir', join(home, 'state'), '--dir', join(home, 'out')], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, HOME: home, USERPROFILE: home },
    });
    rpc = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    rpc.listen();
    await rpc.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} });
    await rpc.sendNotification('initialized', {});
  });
  afterEach(async () => {
    rpc.dispose();
    child.kill('SIGKILL');
    await rm(home, { recursive: true, force: true });
  });

  function deps(store: DownloadStore, stored: DownloadCredentials | undefined, asked: string[]): AddFolderDeps {
    return {
      connection: { request: (type, params) => rpc.sendRequest(type, params) },
      // VS Code's secret storage is out of reach here: the credentials the store would hand out.
      credentials: {
        forUrl: async (url) => {
          asked.push(url);
          return stored;
        },
      },
      store,
      defaultFolder: () => join(home, 'Downloads'),
      checksumMode: () => 'off',
    };
  }

  async function completed(id: string): Promise<DownloadInfo> {
    for (let i = 0; i < 300; i++) {
      const { download } = await rpc.sendRequest<DownloadInfoResult>('multiget/get', { id });
      if (download.state === 'completed' || download.state === 'failed') return download;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`download ${id} did not finish`);
  }

  it('queues every file of the folder with the host login, into the configured folder, and feeds the list', async () => {
    const store = new DownloadStore();
    const asked: string[] = [];
    const url = ftp.url('/pub/set/');
    const result = await addFolder(deps(store, LOGIN, asked), { url });
    expect(asked).toEqual([url]);
    const folder = join(home, 'Downloads', 'set');
    expect(result.folder).toBe(folder);
    expect(result.downloads.map((d) => d.file)).toEqual([join(folder, 'a.bin'), join(folder, 'sub', 'b.bin')]);
    expect(store.all().map((d) => d.id).sort()).toEqual(result.downloads.map((d) => d.id).sort());
    expect(folderSummary(result).message).toBe(`queued 2 files into ${folder}.`);
    for (const d of result.downloads) expect((await completed(d.id)).state).toBe('completed');
    expect(sha256(await readFile(join(folder, 'a.bin')))).toBe(sha256(A));
    expect(sha256(await readFile(join(folder, 'sub', 'b.bin')))).toBe(sha256(B));

    // Again, into a chosen folder: a new copy there; and once more: nothing left to download.
    const chosen = join(home, 'elsewhere');
    const there = await addFolder(deps(store, LOGIN, asked), { url, dir: chosen });
    expect(there.folder).toBe(join(chosen, 'set'));
    expect(there.downloads).toHaveLength(2);
    for (const d of there.downloads) expect((await completed(d.id)).state).toBe('completed');
    const again = await addFolder(deps(store, LOGIN, asked), { url, dir: chosen });
    expect(folderSummary(again).message).toBe(`nothing to download: all 2 files are already in ${join(chosen, 'set')}.`);
  });

  it('rejects with the service error when the folder cannot be listed, and adds nothing', async () => {
    const store = new DownloadStore();
    const err = await addFolder(deps(store, { username: 'bob', password: 'wrong' }, []), { url: ftp.url('/pub/set/') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(describeRequestError(err)).toContain('MG_ERR_AUTH');
    expect(store.all()).toEqual([]);
  });
});
