// Whole folders from a real vsftpd through the manager's queue: nested folders, spaces, unicode
// names, symbolic links pointing out of the tree, a FIFO, a file replaced while it downloads, and a second
// run that skips complete files and resumes a partial one.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Download, Manager } from '@multiget/core';
import { generateContent, sha256, startVsftpd, type VsftpdServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FtpPlugin } from '../src/index.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const A = { size: 100_000, seed: 81 };
const B = { size: 200_001, seed: 82 };
const C = { size: 3_000, seed: 83 };
const BIG = { size: 4 * MiB, seed: 84 };
const CHANGING = { size: 3 * MiB, seed: 85 };

let server: VsftpdServer;
let outside: string;
let dir: string;
const managers: Manager[] = [];

beforeAll(async () => {
  server = await startVsftpd({
    files: {
      'tree/a.bin': A,
      'tree/sub dir/b.bin': B,
      'tree/sub dir/deeper/ünï cødé.bin': C,
      'tree/Ωmega/big.bin': BIG,
      'tree/changing.bin': CHANGING,
      'other/x.bin': C,
    },
    // Paced, so that a download can be caught half-way.
    config: { anon_max_rate: String(4 * MiB) },
  });
  outside = await mkdtemp(join(tmpdir(), 'mg-outside-'));
  await writeFile(join(outside, 'secret.txt'), 'not for the client\n');
  await symlink(join(outside, 'secret.txt'), join(server.root, 'tree', 'secret.txt'));
  await symlink(outside, join(server.root, 'tree', 'escape'));
  await symlink('../other', join(server.root, 'tree', 'sub dir', 'sibling'));
  await run('mkfifo', [join(server.root, 'tree', 'pipe')]);
}, 60_000);
afterAll(async () => {
  await server?.close();
  await rm(outside, { recursive: true, force: true });
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-ftp-folder-'));
});
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
  await rm(dir, { recursive: true, force: true });
});

async function manager(): Promise<Manager> {
  const m = await Manager.open({ plugins: [new FtpPlugin({ useEnvProxy: false })], settings: { dir, maxConcurrent: 2, connections: 2 } });
  managers.push(m);
  return m;
}

/** Every download the manager starts, by file name. */
function downloads(m: Manager): Map<string, Download> {
  const seen = new Map<string, Download>();
  m.on('started', (entry, download) => seen.set(entry.file ?? '', download));
  return seen;
}

async function hashOf(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

describe('whole folders from vsftpd', () => {
  it('mirrors the tree through the queue, skips links, and keeps a replaced file consistent', async () => {
    const m = await manager();
    const path = join(server.root, 'tree', 'changing.bin');
    const next = generateContent({ size: CHANGING.size, seed: 99 });
    m.on('started', (entry, download) => {
      if (!entry.file?.endsWith('changing.bin')) return;
      let replaced = false;
      download.on('progress', (p) => {
        if (replaced || p.bytesDone < 256 * 1024) return;
        replaced = true;
        // Replaced as a mirror replaces a file: a new inode, a later modification time.
        void (async () => {
          await writeFile(`${path}.new`, next);
          const later = new Date(Date.now() + 60_000);
          await utimes(`${path}.new`, later, later);
          await rename(`${path}.new`, path);
        })();
      });
    });
    const added = await m.addFolder(server.url('tree/'));
    expect(added.folder).toBe(join(dir, 'tree'));
    expect(added.files.map((f) => f.remotePath).sort()).toEqual(
      ['a.bin', 'changing.bin', 'sub dir/b.bin', 'sub dir/deeper/ünï cødé.bin', 'Ωmega/big.bin'].sort(),
    );
    expect(Object.fromEntries(added.skipped.map((s) => [s.remotePath, s.reason]))).toEqual({
      escape: expect.stringMatching(/symbolic link/),
      'secret.txt': expect.stringMatching(/symbolic link/),
      'sub dir/sibling': expect.stringMatching(/symbolic link/),
      pipe: expect.stringMatching(/not a regular file/),
    });
    expect(added.entries).toHaveLength(5);
    await m.idle();
    const states = m.list().map((e) => [e.file, e.state, e.error?.message]);
    expect(states.filter(([, state]) => state !== 'completed'), JSON.stringify(states)).toEqual([]);
    const root = join(dir, 'tree');
    expect(await hashOf(join(root, 'a.bin'))).toBe(sha256(A));
    expect(await hashOf(join(root, 'sub dir', 'b.bin'))).toBe(sha256(B));
    expect(await hashOf(join(root, 'sub dir', 'deeper', 'ünï cødé.bin'))).toBe(sha256(C));
    expect(await hashOf(join(root, 'Ωmega', 'big.bin'))).toBe(sha256(BIG));
    // One version, whole: the old one (every range was under way before the new file took the
    // name, on descriptors of the old one) or the new one (a range started after it saw the new
    // modification time, and the download started over); never a mix of the two.
    expect([sha256(CHANGING), sha256(next)]).toContain(await hashOf(join(root, 'changing.bin')));
    expect((await readdir(root)).sort()).toEqual(['a.bin', 'changing.bin', 'sub dir', 'Ωmega'].sort());
    expect(existsSync(join(root, 'sub dir', 'sibling'))).toBe(false);
    await writeFile(path, generateContent(CHANGING));
  });

  it('a second run skips complete files and resumes the partial one', async () => {
    const first = await manager();
    const seen = downloads(first);
    const stopped = new Promise<void>((resolve) => {
      first.on('started', (entry, download) => {
        if (!entry.file?.endsWith('big.bin')) return;
        download.on('progress', (p) => {
          if (p.bytesDone >= MiB) resolve();
        });
      });
    });
    // Paced (2 MiB/s), so that big.bin is caught half-way.
    await first.addFolder(server.url('tree/'), { include: ['*.bin'], exclude: ['changing.bin'], rateLimit: 2 * MiB });
    await stopped;
    // The small files are done by then, or soon: wait for them, then stop with big.bin half-way.
    while (first.list().some((e) => !e.file?.endsWith('big.bin') && e.state !== 'completed')) await new Promise((r) => setTimeout(r, 20));
    await first.close();
    expect(seen.size).toBe(4);
    expect(existsSync(join(dir, 'tree', 'Ωmega', 'big.bin'))).toBe(false);

    const second = await manager();
    const again = downloads(second);
    const added = await second.addFolder(server.url('tree'), { include: ['*.bin'], exclude: ['changing.bin'] });
    expect(added.complete.map((f) => f.remotePath).sort()).toEqual(['a.bin', 'sub dir/b.bin', 'sub dir/deeper/ünï cødé.bin']);
    expect(added.files.map((f) => f.remotePath)).toEqual(['Ωmega/big.bin']);
    await second.idle();
    const result = await again.get(join(dir, 'tree', 'Ωmega', 'big.bin'))!.done;
    expect(result.resumed).toBe(true);
    expect(await hashOf(result.file)).toBe(sha256(BIG));
  });

  it('refuses to write through a symbolic link planted in the local tree', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'mg-elsewhere-'));
    try {
      await mkdir(join(dir, 'tree'));
      await symlink(elsewhere, join(dir, 'tree', 'sub dir'));
      const m = await manager();
      await expect(m.addFolder(server.url('tree/'), { depth: 1 })).rejects.toMatchObject({ code: 'MG_ERR_UNSAFE_PATH' });
      expect(await readdir(elsewhere)).toEqual([]);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('--depth and the root of the login folder', async () => {
    const m = await manager();
    const plan = await m.addFolder(server.url(''), { depth: 1, exclude: ['tree'] });
    expect(plan.folder).toBe(join(dir, '127.0.0.1'));
    expect(plan.files.map((f) => f.remotePath)).toEqual(['other/x.bin']);
    await m.idle();
    expect(await hashOf(join(dir, '127.0.0.1', 'other', 'x.bin'))).toBe(sha256(C));
  });
});
