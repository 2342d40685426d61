// The storage is one replaceable part: the `openStorage` hook gives each download its storage, and
// the engine reaches partial data only through it.
import { link, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, MemoryStorage, Multiget, PartialFile, type Plugin } from '../src/index.js';
import { MemoryPlugin, pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

const MiB = 1024 * 1024;
let dir: string;
let cwd: string;
let mem: MemoryPlugin;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-storage-'));
  mem = new MemoryPlugin();
  cwd = process.cwd();
});
afterEach(async () => {
  process.chdir(cwd);
  await rm(dir, { recursive: true, force: true });
});

function engine(plugins: Plugin[]): Multiget {
  return new Multiget({
    plugins: [mem, ...plugins],
    minSplitSize: 256 * 1024,
    checkpointIntervalMs: 20,
    progressIntervalMs: 20,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
  });
}

describe('the openStorage hook', () => {
  it('downloads through an in-memory storage without creating a single file (no lock, no state, no target)', async () => {
    const data = pseudoRandom(3 * MiB, 11);
    mem.put('/m.bin', data, { digest: sha256(pseudoRandom(3 * MiB, 11)) });
    // The working directory and the download directory are both watched: nothing may appear in either.
    process.chdir(dir);
    const store = new MemoryStorage();
    const mg = engine([store]);
    expect(await readdir(dir)).toEqual([]);
    const result = await mg.download('mem://h/m.bin', { dir, connections: 4 }).done;
    expect(result).toMatchObject({ file: 'm.bin', size: data.length, verified: true });
    expect(sha256(Buffer.from(store.files.get('m.bin')!))).toBe(sha256(data));
    expect(await readdir(dir)).toEqual([]);
  });

  it('pauses and resumes from the state kept in memory, fetching no byte twice', async () => {
    const data = pseudoRandom(4 * MiB, 12);
    mem.put('/p.bin', data, { chunkDelayMs: 2 });
    const store = new MemoryStorage();
    const mg = engine([store]);
    const dl = mg.download('mem://h/p.bin', { dir, connections: 2, output: 'p.bin' });
    let checkpointed = 0;
    await new Promise<void>((resolve) =>
      dl.on('checkpoint', ({ bytesDone }) => {
        checkpointed = bytesDone;
        if (bytesDone >= MiB) resolve();
      }),
    );
    await dl.pause();
    const served = mem.bytesServed;
    const resumedFrom = dl.segmentMap().segments.reduce((n, seg) => n + seg.pos - seg.start, 0);
    expect(resumedFrom).toBeGreaterThanOrEqual(checkpointed);
    dl.resume();
    const result = await dl.done;
    expect(result.resumed).toBe(true);
    expect(sha256(Buffer.from(store.files.get('p.bin')!))).toBe(sha256(data));
    // The second run fetched only what the first had not written.
    expect(mem.bytesServed - served).toBeLessThanOrEqual(data.length - resumedFrom + 2 * 65536);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a checksum mismatch goes through the storage: its partial data is removed', async () => {
    mem.put('/c.bin', pseudoRandom(MiB, 13));
    const store = new MemoryStorage();
    const mg = engine([store]);
    const err = await mg.download('mem://h/c.bin', { checksum: `sha256=${'0'.repeat(64)}` }).done.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.CHECKSUM_MISMATCH });
    expect(store.files.size).toBe(0);
    // A new download of the name starts from nothing (no adopted state).
    mem.put('/c.bin', pseudoRandom(MiB, 13));
    const again = await mg.download('mem://h/c.bin').done;
    expect(again.resumed).toBe(false);
  });
});

describe('PartialFile', () => {
  it('removes the partial data and state a download left (what the manager calls), and reads its state', async () => {
    const data = pseudoRandom(4 * MiB, 14);
    mem.put('/r.bin', data, { chunkDelayMs: 2 });
    const mg = engine([]);
    const dl = mg.download('mem://h/r.bin', { dir, connections: 2 });
    await new Promise<void>((resolve) => dl.on('checkpoint', ({ bytesDone }) => bytesDone > 0 && resolve()));
    await dl.pause();
    const target = join(dir, 'r.bin');
    expect((await readdir(dir)).sort()).toEqual(['r.bin.mgpart', 'r.bin.mgstate']);
    const saved = await PartialFile.readSaved(target);
    expect(saved?.size).toBe(data.length);
    await PartialFile.removePartial(target);
    expect(await readdir(dir)).toEqual([]);
    expect(await PartialFile.readSaved(target)).toBeUndefined();
    await dl.cancel();
  });

  it('never takes a user file for its partial data: a file named like the target is left alone', async () => {
    mem.put('/u.bin', pseudoRandom(MiB, 15));
    await writeFile(join(dir, 'u.bin'), 'mine');
    const mg = engine([]);
    const err = await mg.download('mem://h/u.bin', { output: join(dir, 'u.bin') }).done.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.FILE_EXISTS });
    expect(await readFile(join(dir, 'u.bin'), 'utf8')).toBe('mine');
    expect(await readdir(dir)).toEqual(['u.bin']);
  });

  // A run killed inside its commit: after linking the finished file to the target (the partial
  // file's name still on its bytes, the state still there), or after unlinking the partial file
  // (the state still there). The next run finishes that commit: the leftovers go, the target stays,
  // and it is a finished download like any other (an existing target for `fail`, replaced for
  // `overwrite`: before, the shared bytes made `overwrite` fail with MG_ERR_UNSAFE_PATH).
  it('a run killed between linking the finished file and removing its sidecars leaves nothing behind after the next run', async () => {
    const data = pseudoRandom(4 * MiB, 16);
    mem.put('/k.bin', data, { chunkDelayMs: 2 });
    const mg = engine([]);
    const target = join(dir, 'k.bin');
    const first = mg.download('mem://h/k.bin', { output: target, connections: 2 });
    await new Promise<void>((resolve) => first.on('checkpoint', ({ bytesDone }) => bytesDone > 0 && resolve()));
    await first.pause();
    const state = await readFile(`${target}.mgstate`);
    await first.resume();
    await first.done;
    expect(sha256(await readFile(target))).toBe(sha256(data));
    const killedAfterLink = async (): Promise<void> => {
      await link(target, `${target}.mgpart`);
      await writeFile(`${target}.mgstate`, state);
    };

    await killedAfterLink();
    const again = await mg.download('mem://h/k.bin', { output: target }).done.catch((e: unknown) => e);
    expect(again).toMatchObject({ code: ErrorCodes.FILE_EXISTS });
    expect(await readdir(dir)).toEqual(['k.bin']);
    expect(sha256(await readFile(target))).toBe(sha256(data));

    await killedAfterLink();
    const inode = (await stat(target)).ino;
    const replaced = await mg.download('mem://h/k.bin', { output: target, existing: 'overwrite' }).done;
    expect(replaced.resumed).toBe(false);
    expect((await stat(target)).ino).not.toBe(inode);
    expect(await readdir(dir)).toEqual(['k.bin']);
    expect(sha256(await readFile(target))).toBe(sha256(data));

    // Killed after unlinking the partial file: only the state is left over; a server-named run
    // takes the next name and the state goes.
    await writeFile(`${target}.mgstate`, state);
    const renamed = await mg.download('mem://h/k.bin', { dir }).done;
    expect(renamed.file).toBe(join(dir, 'k.1.bin'));
    expect((await readdir(dir)).sort()).toEqual(['k.1.bin', 'k.bin']);

    // A partial file of its own beside an existing target is a download under way: left alone.
    await writeFile(`${target}.mgpart`, 'partial');
    await writeFile(`${target}.mgstate`, state);
    expect(await mg.download('mem://h/k.bin', { output: target }).done.catch((e: unknown) => e)).toMatchObject({ code: ErrorCodes.FILE_EXISTS });
    expect((await readdir(dir)).sort()).toEqual(['k.1.bin', 'k.bin', 'k.bin.mgpart', 'k.bin.mgstate']);
    await mg.close();
  });
});
