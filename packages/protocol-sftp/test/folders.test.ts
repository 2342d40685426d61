// Whole folders from the test SFTP server: the listing logs in as the download does (password from
// the URL, the host key from known_hosts), and every file arrives through the queue.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_TREE_ENTRIES, Manager } from '@multiget/core';
import { sha256, startSftpServer, type SftpTestServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SftpPlugin } from '../src/index.js';
import { tempHome, type TempHome } from './helpers.js';

const PASSWORD = 'folder-pw-1';
const A = { size: 150_000, seed: 71 };
const B = { size: 2_222, seed: 72 };

let server: SftpTestServer;
let home: TempHome;
let dir: string;
const managers: Manager[] = [];

beforeAll(async () => {
  server = await startSftpServer({ users: [{ username: 'bob', password: PASSWORD }] });
  server.addFile('/srv/set/a.bin', A);
  server.addFile('/srv/set/in ner/ünï/b.bin', B);
  home = await tempHome();
  await home.knownHosts(server.knownHostsLine());
});
afterAll(async () => {
  await server.close();
  await home.dispose();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-sftp-folders-'));
});
afterEach(async () => {
  server.setServerFaults({});
  await Promise.all(managers.splice(0).map((m) => m.close()));
  await rm(dir, { recursive: true, force: true });
});

async function manager(): Promise<Manager> {
  const sftp = new SftpPlugin({ home: home.path, agent: false, useEnvProxy: false });
  const m = await Manager.open({ plugins: [sftp], settings: { dir } });
  managers.push(m);
  return m;
}

async function hashOf(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

describe('whole folders from the test SFTP server', () => {
  it('lists with the URL login and downloads the tree through the queue', async () => {
    const m = await manager();
    const added = await m.addFolder(server.url('/srv/set/', 'bob', PASSWORD));
    expect(added.files.map((f) => f.remotePath)).toEqual(['a.bin', 'in ner/ünï/b.bin']);
    expect(added.files.every((f) => !JSON.stringify(f.remotePath).includes(PASSWORD))).toBe(true);
    await m.idle();
    expect(await hashOf(join(dir, 'set', 'a.bin'))).toBe(sha256(A));
    expect(await hashOf(join(dir, 'set', 'in ner', 'ünï', 'b.bin'))).toBe(sha256(B));
    expect(server.log('auth').filter((e) => e.success).map((e) => e.username)).toContain('bob');
  });

  it('a listing that never ends stops past MAX_TREE_ENTRIES with MG_ERR_PROTOCOL; a subfolder\'s is skipped', async () => {
    const m = await manager();
    server.setServerFaults({ endlessListings: ['/srv/set'] });
    await expect(m.addFolder(server.url('/srv/set/', 'bob', PASSWORD))).rejects.toMatchObject({
      code: 'MG_ERR_PROTOCOL',
      message: expect.stringMatching(new RegExp(`lists more than ${MAX_TREE_ENTRIES} entries in /srv/set/; download a smaller folder`)),
    });
    server.setServerFaults({ endlessListings: ['/srv/set/in ner'] });
    const added = await m.addFolder(server.url('/srv/set/', 'bob', PASSWORD));
    expect(added.files.map((f) => f.remotePath)).toEqual(['a.bin']);
    expect(added.skipped).toEqual([{ remotePath: 'in ner/', reason: expect.stringMatching(/^cannot be listed: .*lists more than \d+ entries.*\[MG_ERR_PROTOCOL\]$/) }]);
  });

  it('a connection lost during the listing is MG_ERR_CONNECTION_RESET at once, not a timeout', async () => {
    const m = await manager();
    server.setServerFaults({ dropListings: ['/srv/set'] });
    await expect(m.addFolder(server.url('/srv/set/', 'bob', PASSWORD))).rejects.toMatchObject({
      code: 'MG_ERR_CONNECTION_RESET',
      message: expect.stringMatching(/the connection was lost/),
    });
  });

  it('a wrong password fails the listing with MG_ERR_AUTH, a missing folder with MG_ERR_NOT_FOUND', async () => {
    const m = await manager();
    await expect(m.addFolder(server.url('/srv/set/', 'bob', 'wrong-pw'))).rejects.toMatchObject({ code: 'MG_ERR_AUTH' });
    await expect(m.addFolder(server.url('/srv/none/', 'bob', PASSWORD))).rejects.toMatchObject({ code: 'MG_ERR_NOT_FOUND' });
  });
});
