// Metadata calls in a directory on a local file system run synchronously (no thread-pool round
// trip); elsewhere they stay on the pool. Both ways answer and fail exactly as fs/promises does.
import { createHook } from 'node:async_hooks';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, statfs, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Multiget } from '../src/index.js';
import { LOCAL_FILE_SYSTEMS, isLocalDirectory, learnDirectory, metadata } from '../src/storage/metadataCalls.js';
import { MemoryPlugin, pseudoRandom } from './helpers/MemoryPlugin.js';

const onLinux = process.platform === 'linux';
let root: string;
/** Learned as local (on Linux). */
let local: string;
/** Never learned: every call takes the thread pool. */
let unknown: string;

/** A folder on a file system of LOCAL_FILE_SYSTEMS: the system's temporary folder, else /dev/shm. */
async function localRoot(): Promise<string> {
  const seen: string[] = [];
  for (const base of [tmpdir(), '/dev/shm']) {
    const type = await statfs(base).then((s) => s.type, () => undefined);
    if (type !== undefined && LOCAL_FILE_SYSTEMS.has(type)) return await mkdtemp(join(base, 'mg-meta-'));
    seen.push(`${base}: ${type === undefined ? 'no statfs' : `0x${type.toString(16)}`}`);
  }
  throw new Error(`no folder on a known local file system for this test (${seen.join(', ')})`);
}

/** Whether `p` settled within a few microtasks, i.e. without waiting for the event loop. */
async function settlesAtOnce(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await Promise.resolve();
  const atOnce = settled;
  await p.catch(() => undefined);
  return atOnce;
}

beforeAll(async () => {
  root = onLinux ? await localRoot() : await mkdtemp(join(tmpdir(), 'mg-meta-'));
  local = join(root, 'local');
  unknown = join(root, 'unknown');
  await mkdir(local);
  await mkdir(unknown);
  await learnDirectory(local);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.runIf(onLinux)('which directories count as local (Linux)', () => {
  it('knows a directory on a local file system after one statfs, and no other', () => {
    expect(isLocalDirectory(local)).toBe(true);
    expect(isLocalDirectory(unknown)).toBe(false);
    expect(isLocalDirectory(root)).toBe(false);
  });

  it('does not count a file system of another type (procfs, sysfs) as local', async () => {
    for (const dir of ['/proc', '/sys']) {
      await learnDirectory(dir);
      expect(isLocalDirectory(dir)).toBe(false);
    }
  });

  it('counts a directory it cannot ask as not local, without throwing', async () => {
    const gone = join(root, 'missing');
    await expect(learnDirectory(gone)).resolves.toBeUndefined();
    expect(isLocalDirectory(gone)).toBe(false);
  });

  it('runs the calls in a local directory synchronously, and in an unknown one on the thread pool', async () => {
    for (const [dir, atOnce] of [
      [local, true],
      [unknown, false],
    ] as const) {
      const f = join(dir, 'f');
      await writeFile(f, 'x');
      expect(await settlesAtOnce(metadata.lstat(f))).toBe(atOnce);
      expect(await settlesAtOnce(metadata.lstatIfAny(join(dir, 'none')))).toBe(atOnce);
      expect(await settlesAtOnce(metadata.link(f, join(dir, 'g')))).toBe(atOnce);
      expect(await settlesAtOnce(metadata.rename(join(dir, 'g'), join(dir, 'h')))).toBe(atOnce);
      expect(await settlesAtOnce(metadata.unlink(join(dir, 'h')))).toBe(atOnce);
      expect(await settlesAtOnce(metadata.readSmallFile(f, 10))).toBe(atOnce);
      expect(await settlesAtOnce(metadata.statDirectory(dir))).toBe(atOnce);
      expect(await settlesAtOnce(metadata.statfsDirectory(dir))).toBe(atOnce);
    }
  });

  it('makes a small download in a local directory with two thread-pool calls (its write and fdatasync), not one per file-system call', async () => {
    const mem = new MemoryPlugin();
    mem.put('/small.bin', pseudoRandom(64 * 1024, 3));
    const mg = new Multiget({ plugins: [mem] });
    const dir = join(local, 'dl');
    await mkdir(dir);
    await learnDirectory(dir);
    const pool: string[] = [];
    const hook = createHook({
      init(_id, type) {
        if (type === 'FSREQPROMISE' || type === 'FSREQCALLBACK') pool.push(type);
      },
    });
    hook.enable();
    try {
      const result = await mg.download('mem://h/small.bin', { dir, connections: 1 }).done;
      expect(result.size).toBe(64 * 1024);
    } finally {
      hook.disable();
    }
    // What stays on the pool: the data file's write and its fdatasync. The lock, the checks of the
    // target and the sidecars, the space check, the data file's create, size and close and the final
    // link (about twenty calls) do not.
    expect(pool.length).toBeGreaterThanOrEqual(2);
    expect(pool.length).toBeLessThanOrEqual(3);
  });
});

describe('the same answers and errors either way', () => {
  const both = (): [string, string][] => [
    ['local', local],
    ['unknown', unknown],
  ];

  it('answers lstat, and undefined for a missing name from lstatIfAny', async () => {
    for (const [, dir] of both()) {
      const f = join(dir, 'a.txt');
      await writeFile(f, 'abc');
      expect((await metadata.lstat(f)).size).toBe(3);
      expect(await metadata.lstatIfAny(join(dir, 'nothing'))).toBeUndefined();
      await expect(metadata.lstat(join(dir, 'nothing'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'lstat' });
    }
  });

  it('fails link onto a taken name with EEXIST and unlink of a missing one with ENOENT', async () => {
    for (const [, dir] of both()) {
      const a = join(dir, 'l1');
      const b = join(dir, 'l2');
      await writeFile(a, '1');
      await writeFile(b, '2');
      await expect(metadata.link(a, b)).rejects.toMatchObject({ code: 'EEXIST', syscall: 'link' });
      await expect(metadata.unlink(join(dir, 'l3'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'unlink' });
      await expect(metadata.rename(join(dir, 'l3'), a)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'rename' });
    }
  });

  it('reads a small file whole, and reports a non-file or an oversized one without reading it', async () => {
    for (const [, dir] of both()) {
      const f = join(dir, 's.json');
      await writeFile(f, '{"a":1}');
      expect(await metadata.readSmallFile(f, 100)).toEqual({ kind: 'text', text: '{"a":1}' });
      expect(await metadata.readSmallFile(f, 3)).toEqual({ kind: 'too-big' });
      await expect(metadata.readSmallFile(join(dir, 'none.json'), 100)).rejects.toMatchObject({ code: 'ENOENT' });
      // ...IfAny: the same answers, and undefined where nothing stands.
      expect(await metadata.readSmallFileIfAny(f, 100)).toEqual({ kind: 'text', text: '{"a":1}' });
      expect(await metadata.readSmallFileIfAny(f, 3)).toEqual({ kind: 'too-big' });
      expect(await metadata.readSmallFileIfAny(join(dir, 'none.json'), 100)).toBeUndefined();
      // Never through a symbolic link, even to a readable file (nor a dangling one: it is not "nothing").
      const link = join(dir, 'link.json');
      await symlink(f, link);
      await expect(metadata.readSmallFile(link, 100)).rejects.toMatchObject({ code: 'ELOOP' });
      await expect(metadata.readSmallFileIfAny(link, 100)).rejects.toMatchObject({ code: 'ELOOP' });
      const dangling = join(dir, 'dangling.json');
      await symlink(join(dir, 'nowhere.json'), dangling);
      await expect(metadata.readSmallFileIfAny(dangling, 100)).rejects.toMatchObject({ code: 'ELOOP' });
      if (process.platform !== 'win32') {
        // A FIFO is reported, never waited on.
        const fifo = join(dir, 'fifo');
        execFileSync('mkfifo', [fifo]);
        expect(await metadata.readSmallFile(fifo, 100)).toEqual({ kind: 'not-a-file' });
        expect(await metadata.readSmallFileIfAny(fifo, 100)).toEqual({ kind: 'not-a-file' });
      }
    }
  });
});
