import { existsSync } from 'node:fs';
import { readFile, symlink, unlink, writeFile } from 'node:fs/promises';
import { recordsOfLog } from '../src/manager/content/contentLog.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Manager, type DownloadResult, contentKey } from '../src/index.js';
import { contentFixture } from './helpers/contentManager.js';
import { pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

const KiB = 1024;
const t = contentFixture();
const { manager, fetch } = t;

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
    t.mem.put('/f.bin', data);
    const m = await manager();
    expect((await fetch(m, 'mem://h/f.bin', 'first.bin')).state).toBe('completed');
    await recorded(m);
    const fetches = t.mem.fetches.length;

    const m2 = await manager();
    const second = await fetch(m2, 'mem://h/f.bin', 'second.bin');
    expect(second.state).toBe('completed');
    expect(second.result?.fromCache).toEqual({ path: join(t.dir, 'first.bin') });
    expect(t.mem.fetches.length).toBe(fetches);
    expect(sha256(await readFile(join(t.dir, 'second.bin')))).toBe(sha256(data));
    const entry = m2.list().at(-1)!;
    expect(entry.fromCache).toEqual({ path: join(t.dir, 'first.bin') });
    expect(m2.history()[0]!.fromCache).toEqual({ path: join(t.dir, 'first.bin') });

    // The copy is recorded too: with the original gone, it serves the next download.
    await unlink(join(t.dir, 'first.bin'));
    const third = await fetch(m2, 'mem://h/f.bin', 'third.bin');
    expect(third.result?.fromCache).toEqual({ path: join(t.dir, 'second.bin') });
    expect(t.mem.fetches.length).toBe(fetches);
    expect(sha256(await readFile(join(t.dir, 'third.bin')))).toBe(sha256(data));
  });

  it('downloads again when the remote file changed (its validators differ)', async () => {
    t.mem.put('/f.bin', pseudoRandom(300 * KiB, 1));
    const m = await manager();
    await fetch(m, 'mem://h/f.bin', 'v1.bin');
    await recorded(m);
    const v2 = pseudoRandom(300 * KiB, 2);
    t.mem.put('/f.bin', v2);
    const fetches = t.mem.fetches.length;
    const m2 = await manager();
    const again = await fetch(m2, 'mem://h/f.bin', 'v2.bin');
    expect(again.result).toBeUndefined();
    expect(t.mem.fetches.length).toBeGreaterThan(fetches);
    expect(sha256(await readFile(join(t.dir, 'v2.bin')))).toBe(sha256(v2));
  });

  it('does not use a stored file that was deleted or modified, downloads instead and forgets it', async () => {
    const data = pseudoRandom(300 * KiB, 4);
    t.mem.put('/f.bin', data);
    const m = await manager();
    await fetch(m, 'mem://h/f.bin', 'a.bin');
    await recorded(m);
    // Same size, other bytes: only the digest tells.
    const tampered = Buffer.from(data);
    tampered[1000] = tampered[1000]! ^ 0xff;
    await writeFile(join(t.dir, 'a.bin'), tampered);
    let fetches = t.mem.fetches.length;
    const m2 = await manager();
    const b = await fetch(m2, 'mem://h/f.bin', 'b.bin');
    expect(b.result).toBeUndefined();
    expect(t.mem.fetches.length).toBeGreaterThan(fetches);
    expect(sha256(await readFile(join(t.dir, 'b.bin')))).toBe(sha256(data));
    await recorded(m2);
    const content = recordsOfLog(await readFile(join(t.dir, 'state', 'content.jsonl'), 'utf8'));
    expect(content.map((e) => e.file)).toEqual([join(t.dir, 'b.bin')]);

    await unlink(join(t.dir, 'b.bin'));
    fetches = t.mem.fetches.length;
    const m3 = await manager();
    const c = await fetch(m3, 'mem://h/f.bin', 'c.bin');
    expect(c.result).toBeUndefined();
    expect(t.mem.fetches.length).toBeGreaterThan(fetches);
    expect(sha256(await readFile(join(t.dir, 'c.bin')))).toBe(sha256(data));
  });

  it('serves a download of another URL from the store when its checksum is the digest a stored file was verified against', async () => {
    const data = pseudoRandom(200 * KiB, 5);
    t.mem.put('/f.bin', data);
    const m = await manager();
    await fetch(m, 'mem://h/f.bin', 'f.bin', { checksum: `sha256=${sha256(data)}` });
    await recorded(m);
    const fetches = t.mem.fetches.length;
    const m2 = await manager();
    // A mirror the plugin does not even have: no request is needed.
    const copy = await fetch(m2, 'mem://mirror/other-name.bin', 'copy.bin', { checksum: `sha256=${sha256(data)}` });
    expect(copy.state).toBe('completed');
    expect(copy.result).toMatchObject({ fromCache: { path: join(t.dir, 'f.bin') }, verified: true, digest: { algorithm: 'sha256', hex: sha256(data) } });
    expect(t.mem.fetches.length).toBe(fetches);
  });

  it('does not serve a checksum from a file of another URL that was not verified (its record has block CRCs, not that digest)', async () => {
    const data = pseudoRandom(200 * KiB, 5);
    t.mem.put('/f.bin', data);
    t.mem.put('/g.bin', data);
    const m = await manager();
    await fetch(m, 'mem://h/f.bin', 'f.bin');
    await recorded(m);
    const m2 = await manager();
    const other = await fetch(m2, 'mem://h/g.bin', 'g.bin', { checksum: `sha256=${sha256(data)}` });
    expect(other.state).toBe('completed');
    expect(other.result).toBeUndefined();
  });

  it('downloads with noCache, and then records nothing', async () => {
    t.mem.put('/f.bin', pseudoRandom(200 * KiB, 6));
    const m = await manager();
    await fetch(m, 'mem://h/f.bin', 'a.bin');
    const fetches = t.mem.fetches.length;
    const b = await fetch(m, 'mem://h/f.bin', 'b.bin', { noCache: true });
    expect(b.result).toBeUndefined();
    expect(t.mem.fetches.length).toBeGreaterThan(fetches);
    await recorded(m);
    const content = recordsOfLog(await readFile(join(t.dir, 'state', 'content.jsonl'), 'utf8'));
    expect(content.map((e) => e.file)).toEqual([join(t.dir, 'a.bin')]);
  });

  it('never overwrites an existing file unasked, never writes through a symlink; a server-named copy gets a numbered name', async () => {
    const data = pseudoRandom(200 * KiB, 7);
    t.mem.put('/f.bin', data);
    const m = await manager();
    await fetch(m, 'mem://h/f.bin', 'a.bin');
    await recorded(m);
    await writeFile(join(t.dir, 'taken.bin'), 'mine');
    const victim = join(t.dir, 'victim.txt');
    await symlink(victim, join(t.dir, 'link.bin'));
    const m2 = await manager();
    const taken = await fetch(m2, 'mem://h/f.bin', 'taken.bin');
    expect(taken.result).toBeUndefined();
    expect(taken.error).toBe('MG_ERR_FILE_EXISTS');
    expect(await readFile(join(t.dir, 'taken.bin'), 'utf8')).toBe('mine');
    const linked = await fetch(m2, 'mem://h/f.bin', 'link.bin');
    expect(linked.result).toBeUndefined();
    expect(existsSync(victim)).toBe(false);
    // With the name from the server, into a directory that has it already: f.1.bin, copied.
    await writeFile(join(t.dir, 'f.bin'), 'older');
    let result: DownloadResult | undefined;
    m2.on('cached', (_e, r) => void (result = r));
    await m2.add('mem://h/f.bin', { dir: t.dir });
    await m2.idle();
    expect(result?.file).toBe(join(t.dir, 'f.1.bin'));
    expect(await readFile(join(t.dir, 'f.bin'), 'utf8')).toBe('older');
    expect(sha256(await readFile(join(t.dir, 'f.1.bin')))).toBe(sha256(data));
  });

  it('keeps no secret in content.jsonl: no user info, no signature parameters', async () => {
    t.mem.put('/f.bin', pseudoRandom(100 * KiB, 8));
    const m = await manager();
    const url = 'mem://user:hunter2@h/f.bin?v=1&X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA1&sig=s3cr3t';
    await fetch(m, url, 'a.bin');
    await recorded(m);
    const text = await readFile(join(t.dir, 'state', 'content.jsonl'), 'utf8');
    for (const secret of ['hunter2', 'user', 'deadbeef', 'AKIA1', 's3cr3t']) expect(text).not.toContain(secret);
    expect(contentKey(new URL(url))).toBe('mem://h/f.bin?v=1');
    // A re-signed link of the same object finds the record.
    const m2 = await manager();
    const again = await fetch(m2, 'mem://h/f.bin?v=1&X-Amz-Signature=other', 'b.bin');
    expect(again.result?.fromCache).toEqual({ path: join(t.dir, 'a.bin') });
  });

  it('a pause or a cancel that comes while the store is looked up: a verified copy completes anyway; a cancelled one is removed', async () => {
    const data = pseudoRandom(200 * KiB, 9);
    t.mem.put('/f.bin', data);
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
    const paused = await m2.add('mem://h/f.bin', { output: join(t.dir, 'paused.bin') });
    await probed;
    expect(m2.get(paused.id).state).toBe('probing');
    await m2.pause(paused.id);
    release();
    await until(m2, paused.id, 'completed');
    expect(m2.get(paused.id).fromCache).toEqual({ path: join(t.dir, 'a.bin') });
    expect(sha256(await readFile(join(t.dir, 'paused.bin')))).toBe(sha256(data));

    gate = new Promise<void>((r) => (release = r));
    probed = new Promise<void>((r) => (probing = r));
    const cancelled = await m2.add('mem://h/f.bin', { output: join(t.dir, 'cancelled.bin') });
    await probed;
    await m2.cancel(cancelled.id);
    let copies = 0;
    m2.on('cached', () => copies++);
    release();
    await m2.close();
    expect(m2.get(cancelled.id).state).toBe('canceled');
    expect(copies).toBe(0);
    expect(existsSync(join(t.dir, 'cancelled.bin'))).toBe(false);
  });
});
