// Whole folders from a real OpenSSH sshd through the manager's queue: nested folders, spaces,
// unicode names, symbolic links pointing out of the tree, a FIFO, a file replaced while it
// downloads, a second run that skips complete files and resumes a partial one, and the same host
// key rule as downloads.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Download, Manager } from '@multiget/core';
import { generateContent, sha256, startOpenSshServer, type OpenSshTestServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SftpPlugin, type SftpPluginOptions } from '../src/index.js';
import { tempHome, type TempHome } from './helpers.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const A = { size: 100_000, seed: 91 };
const B = { size: 200_001, seed: 92 };
const C = { size: 3_000, seed: 93 };
const BIG = { size: 4 * MiB, seed: 94 };
const CHANGING = { size: 3 * MiB, seed: 95 };

let sshd: OpenSshTestServer;
let home: TempHome;
let outside: string;
let tree: string;
let dir: string;
const managers: Manager[] = [];

beforeAll(async () => {
  sshd = await startOpenSshServer();
  home = await tempHome();
  await sshd.writeFile('tree/a.bin', A);
  await sshd.writeFile('tree/sub dir/b.bin', B);
  await sshd.writeFile('tree/sub dir/deeper/ünï cødé.bin', C);
  await sshd.writeFile('tree/Ωmega/big.bin', BIG);
  await sshd.writeFile('tree/changing.bin', CHANGING);
  tree = join(sshd.filesDir, 'tree');
  outside = await mkdtemp(join(tmpdir(), 'mg-outside-'));
  await writeFile(join(outside, 'secret.txt'), 'not for the client\n');
  await symlink(join(outside, 'secret.txt'), join(tree, 'secret.txt'));
  await symlink(outside, join(tree, 'escape'));
  await symlink('../a.bin', join(tree, 'sub dir', 'inside-link.bin'));
  await run('mkfifo', [join(tree, 'pipe')]);
}, 60_000);
afterAll(async () => {
  await sshd?.close();
  await home?.dispose();
  await rm(outside, { recursive: true, force: true });
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-sftp-folder-'));
});
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
  await rm(dir, { recursive: true, force: true });
});

async function manager(options: SftpPluginOptions = {}): Promise<Manager> {
  const sftp = new SftpPlugin({ home: home.path, agent: false, knownHosts: sshd.knownHostsPath, privateKey: sshd.userKeyPath, useEnvProxy: false, ...options });
  const m = await Manager.open({ plugins: [sftp], settings: { dir, maxConcurrent: 2, connections: 2 } });
  managers.push(m);
  return m;
}

function downloads(m: Manager): Map<string, Download> {
  const seen = new Map<string, Download>();
  m.on('started', (entry, download) => seen.set(entry.file ?? '', download));
  return seen;
}

async function hashOf(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

describe('whole folders from OpenSSH', () => {
  it('mirrors the tree through the queue, skips links and the FIFO, and keeps a replaced file consistent', async () => {
    const m = await manager();
    const path = join(tree, 'changing.bin');
    const next = generateContent({ size: CHANGING.size, seed: 99 });
    m.on('started', (entry, download) => {
      if (!entry.file?.endsWith('changing.bin')) return;
      let replaced = false;
      download.on('progress', (p) => {
        if (replaced || p.bytesDone < 256 * 1024) return;
        replaced = true;
        // Rewritten in place, as `cp` does: the open handles see the new bytes at once.
        void (async () => {
          await writeFile(path, next);
          const later = new Date(Date.now() + 60_000);
          await utimes(path, later, later);
        })();
      });
    });
    // Paced, so that the replacement lands while the file downloads.
    const added = await m.addFolder(sshd.url(`${tree}/`), { rateLimit: 2 * MiB });
    expect(added.folder).toBe(join(dir, 'tree'));
    expect(added.files.map((f) => f.remotePath).sort()).toEqual(
      ['a.bin', 'changing.bin', 'sub dir/b.bin', 'sub dir/deeper/ünï cødé.bin', 'Ωmega/big.bin'].sort(),
    );
    expect(Object.fromEntries(added.skipped.map((s) => [s.remotePath, s.reason]))).toEqual({
      escape: expect.stringMatching(/symbolic link/),
      'secret.txt': expect.stringMatching(/symbolic link/),
      'sub dir/inside-link.bin': expect.stringMatching(/symbolic link/),
      pipe: expect.stringMatching(/not a regular file/),
    });
    await m.idle();
    const states = m.list().map((e) => [e.file, e.state, e.error?.message]);
    expect(states.filter(([, state]) => state !== 'completed'), JSON.stringify(states)).toEqual([]);
    const root = join(dir, 'tree');
    expect(await hashOf(join(root, 'a.bin'))).toBe(sha256(A));
    expect(await hashOf(join(root, 'sub dir', 'b.bin'))).toBe(sha256(B));
    expect(await hashOf(join(root, 'sub dir', 'deeper', 'ünï cødé.bin'))).toBe(sha256(C));
    expect(await hashOf(join(root, 'Ωmega', 'big.bin'))).toBe(sha256(BIG));
    // Whole, and the new version only: the change was seen (size and mtime at each range's end), never mixed in.
    expect(await hashOf(join(root, 'changing.bin'))).toBe(sha256(next));
    expect((await readdir(root)).sort()).toEqual(['a.bin', 'changing.bin', 'sub dir', 'Ωmega'].sort());
    await writeFile(path, generateContent(CHANGING));
  });

  it('a second run skips complete files and resumes the partial one', async () => {
    const first = await manager();
    const stopped = new Promise<void>((resolve) => {
      first.on('started', (entry, download) => {
        if (!entry.file?.endsWith('big.bin')) return;
        download.on('progress', (p) => {
          if (p.bytesDone >= MiB) resolve();
        });
      });
    });
    const options = { include: ['*.bin'], exclude: ['changing.bin'], rateLimit: 2 * MiB };
    await first.addFolder(sshd.url(`${tree}/`), options);
    await stopped;
    while (first.list().some((e) => !e.file?.endsWith('big.bin') && e.state !== 'completed')) await new Promise((r) => setTimeout(r, 20));
    await first.close();
    expect(existsSync(join(dir, 'tree', 'Ωmega', 'big.bin'))).toBe(false);

    const second = await manager();
    const again = downloads(second);
    const added = await second.addFolder(sshd.url(tree), options);
    expect(added.complete.map((f) => f.remotePath).sort()).toEqual(['a.bin', 'sub dir/b.bin', 'sub dir/deeper/ünï cødé.bin']);
    expect(added.files.map((f) => f.remotePath)).toEqual(['Ωmega/big.bin']);
    await second.idle();
    const result = await again.get(join(dir, 'tree', 'Ωmega', 'big.bin'))!.done;
    expect(result.resumed).toBe(true);
    expect(await hashOf(result.file)).toBe(sha256(BIG));
  });

  it('lists under the same host key rule as downloads: an unknown key is refused', async () => {
    const strangers = await home.knownHosts('[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl');
    const m = await manager({ knownHosts: strangers });
    await expect(m.addFolder(sshd.url(`${tree}/`))).rejects.toMatchObject({ code: 'MG_ERR_HOST_KEY_UNKNOWN' });
    expect(await readdir(dir)).toEqual([]);
  });
});
