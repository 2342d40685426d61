// Whole folders from the test FTP server: MLSD where it is offered, LIST where it is not, the
// download's login for the listing, and hostile listing lines (links, devices, names that leave
// their folder) that never become downloads.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Manager } from '@multiget/core';
import { sha256, startFtpServer, type FtpTestServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FtpPlugin } from '../src/index.js';

const LOGIN = { username: 'alice', password: 'wonder-land-7' };
const A = { size: 200_000, seed: 61 };
const B = { size: 3_001, seed: 62 };

let server: FtpTestServer;
let dir: string;
const managers: Manager[] = [];

beforeAll(async () => {
  server = await startFtpServer({ users: { alice: LOGIN.password }, anonymous: false });
  server.addFile('/pub/set/a.bin', A);
  server.addFile('/pub/set/deep/sub/b 2.bin', B);
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  server.setFaults({});
  dir = await mkdtemp(join(tmpdir(), 'mg-ftp-folders-'));
});
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
  await rm(dir, { recursive: true, force: true });
});

async function manager(): Promise<Manager> {
  const m = await Manager.open({ plugins: [new FtpPlugin({ useEnvProxy: false })], settings: { dir } });
  managers.push(m);
  return m;
}

async function hashOf(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

describe('whole folders from the test FTP server', () => {
  it.each([
    ['MLSD', {}],
    ['LIST', { noMlsd: true }],
  ] as const)('lists with %s, with the login given, and downloads the tree', async (command, faults) => {
    server.setFaults(faults);
    const before = server.commands().length;
    const m = await manager();
    const added = await m.addFolder(server.url('/pub/set/'), { credentials: LOGIN });
    expect(added.files.map((f) => f.remotePath)).toEqual(['a.bin', 'deep/sub/b 2.bin']);
    await m.idle();
    expect(await hashOf(join(dir, 'set', 'a.bin'))).toBe(sha256(A));
    expect(await hashOf(join(dir, 'set', 'deep', 'sub', 'b 2.bin'))).toBe(sha256(B));
    const listed = server.commands().slice(before).filter((c) => c.command === 'MLSD' || c.command === 'LIST');
    expect(listed.filter((c) => c.replies.includes(226)).map((c) => c.command)).toEqual([command, command, command]);
  });

  it('never downloads what a hostile listing offers: links, devices, names that leave the folder', async () => {
    server.setFaults({
      extraListLines: {
        '/pub/set': [
          'type=OS.unix=slink:/etc;size=4; escape',
          // basic-ftp's MLSD parser already drops names with a slash: never listed at all.
          'type=file;size=3;modify=20240101000000; ../../../../tmp/owned',
          'type=file;size=3;modify=20240101000000; sub\\evil',
          'type=cdir;size=0; .',
          'type=pdir;size=0; ..',
        ],
      },
    });
    const m = await manager();
    const added = await m.addFolder(server.url('/pub/set/'), { credentials: LOGIN, depth: 0 });
    expect(added.files.map((f) => f.remotePath)).toEqual(['a.bin']);
    expect(added.skipped.map((s) => s.remotePath).sort()).toEqual(['escape', 'sub\\evil']);
    await m.idle();
    expect(await readdir(join(dir, 'set'))).toEqual(['a.bin']);
  });

  it('skips devices, FIFOs, links and names that leave the folder in a LIST listing', async () => {
    server.setFaults({
      noMlsd: true,
      extraListLines: {
        '/pub/set': [
          'crw-rw-rw-    1 ftp      ftp             0 Jan 01 00:00 null',
          'prw-r--r--    1 ftp      ftp             0 Jan 01 00:00 fifo',
          'lrwxrwxrwx    1 ftp      ftp            11 Jan 01 00:00 passwd -> /etc/passwd',
          '-rw-r--r--    1 ftp      ftp             3 Jan 01 00:00 ../../owned',
        ],
      },
    });
    const m = await manager();
    const added = await m.addFolder(server.url('/pub/set/'), { credentials: LOGIN, depth: 0 });
    expect(added.files.map((f) => f.remotePath)).toEqual(['a.bin']);
    expect(added.skipped.map((s) => s.remotePath).sort()).toEqual(['../../owned', 'fifo', 'null', 'passwd']);
  });

  it('a listing that never ends stops at basic-ftp\'s 40 MiB with MG_ERR_PROTOCOL, asked once; a subfolder\'s is skipped', async () => {
    server.setFaults({ endlessListings: ['/pub/set'] });
    const before = server.commands().length;
    const m = await manager();
    const failure = await m.addFolder(server.url('/pub/set/'), { credentials: LOGIN }).catch((err: unknown) => err);
    expect(failure).toMatchObject({ code: 'MG_ERR_PROTOCOL', message: expect.stringMatching(/listing is longer than 40 MiB; download a smaller folder/) });
    // Not retried: another 40 MiB would end the same way.
    expect(server.commands().slice(before).filter((c) => c.command === 'MLSD')).toHaveLength(1);

    server.setFaults({ endlessListings: ['/pub/set/deep'] });
    const added = await m.addFolder(server.url('/pub/set/'), { credentials: LOGIN });
    expect(added.files.map((f) => f.remotePath)).toEqual(['a.bin']);
    expect(added.skipped).toEqual([{ remotePath: 'deep/', reason: expect.stringMatching(/^cannot be listed: .*listing is longer than 40 MiB.*\[MG_ERR_PROTOCOL\]$/) }]);
  });

  it('fails with the folder listing error when the folder does not exist', async () => {
    const m = await manager();
    await expect(m.addFolder(server.url('/pub/none/'), { credentials: LOGIN })).rejects.toMatchObject({ code: 'MG_ERR_NOT_FOUND' });
  });
});
