// createFresh: the one way Multiget creates a file. A free name costs one exclusive open; whatever
// stands at the name is inspected without following it, and only a regular file is replaced.
import { link, lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFresh, writeExclusive } from '../src/storage/safeCreate.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-safecreate-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(path: string, text: string): Promise<void> {
  const fh = await createFresh(path, 'a test file');
  try {
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
}

describe('createFresh', () => {
  it('creates a file at a free name', async () => {
    await write(join(dir, 'a'), 'new');
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe('new');
  });

  it('replaces a regular file by a new inode: a hard-linked file keeps its bytes', async () => {
    const victim = join(dir, 'victim');
    await writeFile(victim, 'precious');
    await link(victim, join(dir, 'a'));
    await write(join(dir, 'a'), 'new');
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe('new');
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect((await lstat(victim)).nlink).toBe(1);
  });

  it('refuses a symbolic link (live or dangling) and a directory, touching nothing', async () => {
    const { names, untouched } = await plantUnsafeNames('');
    for (const name of names) await expect(write(join(dir, name), 'new')).rejects.toMatchObject({ code: 'MG_ERR_UNSAFE_PATH' });
    await untouched();
  });
});

describe('writeExclusive', () => {
  it('creates and writes a file at a free name only: a taken name is left as it was, a link or a directory refused', async () => {
    const path = join(dir, 'f.mglock');
    expect(await writeExclusive(path, 'a lock', '{"pid":1}', 0o600)).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('{"pid":1}');
    expect((await lstat(path)).mode & 0o777).toBe(0o600);
    expect(await writeExclusive(path, 'a lock', '{"pid":2}')).toBe(false);
    expect(await readFile(path, 'utf8')).toBe('{"pid":1}');
    const { names, untouched } = await plantUnsafeNames('.mglock');
    for (const name of names) await expect(writeExclusive(join(dir, name), 'a lock', 'x')).rejects.toMatchObject({ code: 'MG_ERR_UNSAFE_PATH' });
    await untouched();
  });
});

/**
 * Plants names nothing may create a file through: a live link to a file of value, a dangling link
 * and a directory (each name ending in `suffix`). `untouched` checks that all of them, the linked
 * file and the dangling link's target are as they were.
 */
async function plantUnsafeNames(suffix: string): Promise<{ names: string[]; untouched: () => Promise<void> }> {
  const victim = join(dir, 'victim');
  await writeFile(victim, 'precious');
  const [live, dangling, folder] = ['live', 'dangling', 'folder'].map((n) => `${n}${suffix}`) as [string, string, string];
  await symlink(victim, join(dir, live));
  await symlink(join(dir, 'nowhere'), join(dir, dangling));
  await mkdir(join(dir, folder));
  return {
    names: [live, dangling, folder],
    untouched: async () => {
      expect(await readFile(victim, 'utf8')).toBe('precious');
      expect((await lstat(join(dir, live))).isSymbolicLink()).toBe(true);
      expect((await lstat(join(dir, dangling))).isSymbolicLink()).toBe(true);
      expect((await lstat(join(dir, folder))).isDirectory()).toBe(true);
      await expect(lstat(join(dir, 'nowhere'))).rejects.toMatchObject({ code: 'ENOENT' });
    },
  };
}
