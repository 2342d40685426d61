import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Manager, type ManagerOptions, type DownloadResult, contentKey } from '../src/index.js';
import { MemoryPlugin, pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

const KiB = 1024;
let dir: string;
let mem: MemoryPlugin;
const open: Manager[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-content-'));
  mem = new MemoryPlugin();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
  await rm(dir, { recursive: true, force: true });
});

async function manager(options: ManagerOptions = {}): Promise<Manager> {
  const m = await Manager.open({
    plugins: [mem],
    stateDir: join(dir, 'state'),
    minSplitSize: 64 * KiB,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    ...options,
    settings: { dir: join(dir, 'out'), ...options.settings },
  });
  open.push(m);
  return m;
}

/** Adds a download and waits for its end: the result (`cached` tells whether it came from the store). */
async function fetch(m: Manager, url: string, output: string, extra: Record<string, unknown> = {}): Promise<{ state: string; result?: DownloadResult; error?: string }> {
  let result: DownloadResult | undefined;
  const onCached = (_e: unknown, r: DownloadResult): void => void (result = r);
  m.on('cached', onCached);
  const e = await m.add(url, { output: join(dir, output), ...extra });
  await m.idle();
  m.off('cached', onCached);
  const now = m.get(e.id);
  return { state: now.state, ...(result ? { result } : {}), ...(now.error ? { error: now.error.code } : {}) };
}

/** Resolves when download `id` reaches `state`. */
function until(m: Manager, id: string, state: string): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (m.get(id).state !== state) return;
      m.off('changed', check);
      resolve();
    };
    m.on('changed', check);
    check();
  });
}

/** Waits for the content store to hold `file` (it is written in the background after completion). */
async function recorded(m: Manager): Promise<void> {
  // close() waits for records under way; reopening reads them back.
  await m.close();
}

describe('content store: no download twice', () => {
  it('serves a second download of an unchanged URL from the store: a verified copy, no range fetched, and says so', async () => {
    const data = pseudoRandom(700 * KiB, 3);
    mem.put('/f.bin', data);
    const m = await manager();
    expect((await fetch(m, 'mem://h/f.bin', 'first.bin')).state).toBe('completed');
    await recorded(m);
    const fetches = mem.fetches.length;

    const m2 = await manager();
    const second = await fetch(m2, 'mem://h/f.bin', 'second.bin');
    expect(second.state).toBe('completed');
    expect(second.result?.fromCache).toEqual({ path: join(dir, 'first.bin') });
    expect(mem.fetches.length).toBe(fetches);
    expect(sha256(await readFile(join(dir, 'second.bin')))).toBe(sha256(data));
    const entry = m2.list().at(-1)!;
    expect(entry.fromCache).toEqual({ path: join(dir, 'first.bin') });
    expect(m2.history()[0]!.fromCache).toEqual({ path: join(dir, 'first.bin') });

    // The copy is recorded too: with the original gone, it serves the next download.
    await unlink(join(dir, 'first.bin'));
    const third = await fetch(m2, 'mem://h/f.bin', 'third.bin');
    expect(third.result?.fromCache).toEqual({ path: join(dir, 'second.bin') });
    expect(mem.fetches.length).toBe(fetches);
    expect(sha256(await readFile(join(dir, 'third.bin')))).toBe(sha256(data));
  });

  it('downloads again when the remote file changed (its validators differ)', async () => {
    mem.put('/f.bin', pseudoRandom(300 * KiB, 1));
    const m = await manager();
    await fetch(m, 'mem://h/f.bin', 'v1.bin');
    await recorded(m);
    const v2 = pseudoRandom(300 * KiB, 2);
    mem.put('/f.bin', v2);
    const fetches = mem.fetches.length;
    const m2 = await manager();
    const again = await fetch(m2, 'mem://h/f.bin', 'v2.bin');
    expect(again.result).toBeUndefined();
    expect(mem.fetches.length).toBeGreaterThan(fetches);
    expect(sha256(await readFile(join(dir, 'v2.bin')))).toBe(sha256(v2));
  });

  it('does not use a stored file that was deleted or modified, downloads instead and forgets it', async () => {
    const data = pseudoRandom(300 * KiB, 4);
    mem.put('/f.bin', data);
    const m = await manager();
    await fetch(m, 'mem://h/f.bin', 'a.bin');
    await recorded(m);
    // Same size, other bytes: only the digest tells.
    const tampered = Buffer.from(data);
    tampered[1000] = tampered[1000]! ^ 0xff;
    await writeFile(join(dir, 'a.bin'), tampered);
    let fetches = mem.fetches.length;
    const m2 = await manager();
    const b = await fetch(m2, 'mem://h/f.bin', 'b.bin');
    expect(b.result).toBeUndefined();
    expect(mem.fetches.length).toBeGreaterThan(fetches);
    expect(sha256(await readFile(join(dir, 'b.bin')))).toBe(sha256(data));
    await recorded(m2);
    const content = JSON.parse(await readFile(join(dir, 'state', 'content.json'), 'utf8')) as { entries: Array<{ file: string }> };
    expect(content.entries.map((e) => e.file)).toEqual([join(dir, 'b.bin')]);

    await unlink(join(dir, 'b.bin'));
    fetches = mem.fetches.length;
    const m3 = await manager();
    const c = await fetch(m3, 'mem://h/f.bin', 'c.bin');
    expect(c.result).toBeUndefined();
    expect(mem.fetches.length).toBeGreaterThan(fetches);
    expect(sha256(await readFile(join(dir, 'c.bin')))).toBe(sha256(data));
  });

  it('serves a download of another URL from the store when its --checksum is a digest it knows', async () => {
    const data = pseudoRandom(200 * KiB, 5);
    mem.put('/f.bin', data);
    const m = await manager();
    await fetch(m, 'mem://h/f.bin', 'f.bin');
    await recorded(m);
    const fetches = mem.fetches.length;
    const m2 = await manager();
    // A mirror the plugin does not even have: no request is needed.
    const copy = await fetch(m2, 'mem://mirror/other-name.bin', 'copy.bin', { checksum: `sha256=${sha256(data)}` });
    expect(copy.state).toBe('completed');
    expect(copy.result).toMatchObject({ fromCache: { path: join(dir, 'f.bin') }, verified: true, digest: { algorithm: 'sha256', hex: sha256(data) } });
    expect(mem.fetches.length).toBe(fetches);
  });

  it('downloads with noCache, and then records nothing', async () => {
    mem.put('/f.bin', pseudoRandom(200 * KiB, 6));
    const m = await manager();
    await fetch(m, 'mem://h/f.bin', 'a.bin');
    const fetches = mem.fetches.length;
    const b = await fetch(m, 'mem://h/f.bin', 'b.bin', { noCache: true });
    expect(b.result).toBeUndefined();
    expect(mem.fetches.length).toBeGreaterThan(fetches);
    await recorded(m);
    const content = JSON.parse(await readFile(join(dir, 'state', 'content.json'), 'utf8')) as { entries: Array<{ file: string }> };
    expect(content.entries.map((e) => e.file)).toEqual([join(dir, 'a.bin')]);
  });

  it('never overwrites an existing file unasked, never writes through a symlink; a server-named copy gets a numbered name', async () => {
    const data = pseudoRandom(200 * KiB, 7);
    mem.put('/f.bin', data);
    const m = await manager();
    await fetch(m, 'mem://h/f.bin', 'a.bin');
    await recorded(m);
    await writeFile(join(dir, 'taken.bin'), 'mine');
    const victim = join(dir, 'victim.txt');
    await symlink(victim, join(dir, 'link.bin'));
    const m2 = await manager();
    const taken = await fetch(m2, 'mem://h/f.bin', 'taken.bin');
    expect(taken.result).toBeUndefined();
    expect(taken.error).toBe('MG_ERR_FILE_EXISTS');
    expect(await readFile(join(dir, 'taken.bin'), 'utf8')).toBe('mine');
    const linked = await fetch(m2, 'mem://h/f.bin', 'link.bin');
    expect(linked.result).toBeUndefined();
    expect(existsSync(victim)).toBe(false);
    // With the name from the server, into a directory that has it already: f.1.bin, copied.
    await writeFile(join(dir, 'f.bin'), 'older');
    let result: DownloadResult | undefined;
    m2.on('cached', (_e, r) => void (result = r));
    await m2.add('mem://h/f.bin', { dir });
    await m2.idle();
    expect(result?.file).toBe(join(dir, 'f.1.bin'));
    expect(await readFile(join(dir, 'f.bin'), 'utf8')).toBe('older');
    expect(sha256(await readFile(join(dir, 'f.1.bin')))).toBe(sha256(data));
  });

  it('keeps no secret in content.json: no user info, no signature parameters', async () => {
    mem.put('/f.bin', pseudoRandom(100 * KiB, 8));
    const m = await manager();
    const url = 'mem://user:hunter2@h/f.bin?v=1&X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA1&sig=s3cr3t';
    await fetch(m, url, 'a.bin');
    await recorded(m);
    const text = await readFile(join(dir, 'state', 'content.json'), 'utf8');
    for (const secret of ['hunter2', 'user', 'deadbeef', 'AKIA1', 's3cr3t']) expect(text).not.toContain(secret);
    expect(contentKey(new URL(url))).toBe('mem://h/f.bin?v=1');
    // A re-signed link of the same object finds the record.
    const m2 = await manager();
    const again = await fetch(m2, 'mem://h/f.bin?v=1&X-Amz-Signature=other', 'b.bin');
    expect(again.result?.fromCache).toEqual({ path: join(dir, 'a.bin') });
  });

  it('a pause or a cancel that comes while the store is looked up: a verified copy completes anyway; a cancelled one is removed', async () => {
    const data = pseudoRandom(200 * KiB, 9);
    mem.put('/f.bin', data);
    const m = await manager();
    await fetch(m, 'mem://h/f.bin', 'a.bin');
    await recorded(m);
    const m2 = await manager();
    // Holds every probe (the lookup's included) until released.
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    let probing!: () => void;
    let probed = new Promise<void>((r) => (probing = r));
    m2.engine.hooks.probe.tapPromise({ name: 'Gate', stage: 100 }, async (info) => {
      probing();
      await gate;
      return info;
    });
    const paused = await m2.add('mem://h/f.bin', { output: join(dir, 'paused.bin') });
    await probed;
    expect(m2.get(paused.id).state).toBe('probing');
    await m2.pause(paused.id);
    release();
    await until(m2, paused.id, 'completed');
    expect(m2.get(paused.id).fromCache).toEqual({ path: join(dir, 'a.bin') });
    expect(sha256(await readFile(join(dir, 'paused.bin')))).toBe(sha256(data));

    gate = new Promise<void>((r) => (release = r));
    probed = new Promise<void>((r) => (probing = r));
    const cancelled = await m2.add('mem://h/f.bin', { output: join(dir, 'cancelled.bin') });
    await probed;
    await m2.cancel(cancelled.id);
    let copies = 0;
    m2.on('cached', () => copies++);
    release();
    await m2.close();
    expect(m2.get(cancelled.id).state).toBe('canceled');
    expect(copies).toBe(0);
    expect(existsSync(join(dir, 'cancelled.bin'))).toBe(false);
  });
});
