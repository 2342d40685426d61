import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Manager, type ManagerDocuments, type ManagerStore } from '../src/index.js';
import { redactUrl } from '../src/log/redact.js';
import { MemoryPlugin, pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

/** A store of a program's own: documents in a Map, deep-copied as a real store would serialise them. */
class MemoryStore implements ManagerStore {
  readonly docs = new Map<string, string>();
  opened = 0;
  closed = 0;
  writes = 0;
  async open(): Promise<void> {
    this.opened++;
  }
  async close(): Promise<void> {
    this.closed++;
  }
  async read<K extends keyof ManagerDocuments>(name: K): Promise<ManagerDocuments[K] | undefined> {
    const text = this.docs.get(name);
    return text === undefined ? undefined : (JSON.parse(text) as ManagerDocuments[K]);
  }
  async write<K extends keyof ManagerDocuments>(name: K, document: ManagerDocuments[K]): Promise<void> {
    this.writes++;
    this.docs.set(name, JSON.stringify(document));
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Manager with a store of its own', () => {
  it('keeps the queue, history, settings and content store in the given store, none of it on disk, and restores from it', async () => {
    const mem = new MemoryPlugin();
    const data = pseudoRandom(300 * 1024, 7);
    mem.put('/a.bin', data);
    mem.put('/b.bin', pseudoRandom(200 * 1024, 8), { chunkDelayMs: 5 });
    const store = new MemoryStore();
    const m = await Manager.open({ plugins: [mem], store, settings: { dir, maxConcurrent: 1, retries: 7 } });
    expect(store.opened).toBe(1);
    const a = await m.add('mem://h/a.bin');
    await m.idle();
    const b = await m.add('mem://h/b.bin');
    await m.pause(b.id);
    await m.close();
    expect(store.closed).toBe(1);
    expect(store.writes).toBeGreaterThan(0);
    const queue = await store.read('queue');
    expect(queue?.settings.retries).toBe(7);
    expect(queue?.entries.map((e) => [e.id, e.state])).toEqual([
      [a.id, 'completed'],
      [b.id, 'paused'],
    ]);
    expect((await store.read('history'))?.entries.map((h) => h.id)).toEqual([a.id]);
    // The finished file is in the content store, with the digest built from its block CRCs.
    const content = await store.read('content');
    expect(content?.entries).toEqual([expect.objectContaining({ url: 'mem://h/a.bin', size: data.length, digest: expect.objectContaining({ algorithm: 'crc32-blocks' }) })]);
    // No document of the manager reached the disk: only the downloads (and b's partial data).
    expect((await readdir(dir)).filter((n) => !n.startsWith('b.bin')).sort()).toEqual(['a.bin']);
    expect(sha256(await readFile(join(dir, 'a.bin')))).toBe(sha256(data));

    const again = await Manager.open({ plugins: [mem], store, restore: 'paused', settings: { dir } });
    try {
      expect(again.settings.retries).toBe(7);
      expect(again.list().map((e) => [e.id, e.state])).toEqual([
        [a.id, 'completed'],
        [b.id, 'paused'],
      ]);
      expect(again.history().map((h) => h.id)).toEqual([a.id]);
    } finally {
      await again.close();
    }
  });

  it('stores each download under its URL without user name, password and fragment, and a new link under the new URL', async () => {
    const mem = new MemoryPlugin();
    mem.put('/c.bin', pseudoRandom(256 * 1024, 9), { chunkDelayMs: 5 });
    const store = new MemoryStore();
    const m = await Manager.open({ plugins: [mem], store, settings: { dir, maxConcurrent: 1 } });
    try {
      const c = await m.add('mem://user:secret@h/c.bin?sig=1#part');
      await m.pause(c.id);
      expect((await store.read('queue'))?.entries.map((e) => e.url)).toEqual(['mem://h/c.bin?sig=1']);
      // Written again after other changes: still the same (worked out once per URL).
      await m.setPriority(c.id, 3);
      expect((await store.read('queue'))?.entries.map((e) => [e.url, e.priority])).toEqual([['mem://h/c.bin?sig=1', 3]]);
      // Shown redacted (worked out once per URL too), and the new link once there is one.
      expect(m.get(c.id).url).toBe(redactUrl('mem://user:secret@h/c.bin?sig=1#part'));
      expect(m.get(c.id).url).not.toContain('secret');
      await m.updateUrl(c.id, 'mem://h/c.bin?sig=2#other');
      expect(m.get(c.id).url).toBe(redactUrl('mem://h/c.bin?sig=2#other'));
      await m.idle();
    } finally {
      await m.close();
    }
    expect((await store.read('queue'))?.entries.map((e) => [e.url, e.state])).toEqual([['mem://h/c.bin?sig=2', 'completed']]);
  });
});

/**
 * A store whose process is killed while a download runs: once a queue naming the download's file
 * is written, later writes of the queue and history are lost (the content store's record, written
 * after, reaches it), as when the process dies between a file's completion and the write of its
 * queue. `reborn()` is the same documents, opened by the next process.
 */
class KilledStore extends MemoryStore {
  #dead = false;
  override async write<K extends keyof ManagerDocuments>(name: K, document: ManagerDocuments[K]): Promise<void> {
    if (this.#dead && name !== 'content') return;
    await super.write(name, document);
    if (name === 'queue' && (document as ManagerDocuments['queue']).entries.some((e) => e.state === 'downloading' && e.file !== undefined)) this.#dead = true;
  }
  reborn(): MemoryStore {
    const next = new MemoryStore();
    for (const [k, v] of this.docs) next.docs.set(k, v);
    return next;
  }
}

/**
 * What the next process makes of a download killed after its end: `a.bin` is downloaded by a
 * manager whose queue writes are lost once its target is stored, `meanwhile` may change the disk,
 * then a manager opens the same documents and runs until idle.
 */
async function nextProcess(seed: number, meanwhile: (mem: MemoryPlugin) => Promise<void> = async () => undefined) {
  const mem = new MemoryPlugin();
  const data = pseudoRandom(300 * 1024, seed);
  mem.put('/a.bin', data, { chunkDelayMs: 2 });
  const killed = new KilledStore();
  const m = await Manager.open({ plugins: [mem], store: killed, settings: { dir, maxConcurrent: 1 } });
  try {
    await m.add('mem://h/a.bin');
    await m.idle();
  } finally {
    await m.close();
  }
  // What the next process finds: the download unfinished in the queue, its file complete.
  expect((await killed.read('queue'))?.entries.map((e) => [e.state, e.file])).toEqual([['downloading', join(dir, 'a.bin')]]);
  expect((await killed.read('content'))?.entries).toHaveLength(1);
  await meanwhile(mem);
  const store = killed.reborn();
  const fetches = mem.fetches.length;
  const again = await Manager.open({ plugins: [mem], store, settings: { dir } });
  const cached: string[] = [];
  again.on('cached', (e) => cached.push(e.id));
  try {
    await again.idle();
    return { data, store, entry: again.list()[0], history: again.history(), cached, fetched: mem.fetches.length - fetches };
  } finally {
    await again.close();
  }
}

describe('A process killed between a completion and the write of its queue', () => {
  it('comes back with the download completed where its file is, proven, without a request or a second copy', async () => {
    const { data, store, entry: e, history, cached, fetched } = await nextProcess(11);
    expect([e?.state, e?.file, e?.bytes, e?.total, e?.error]).toEqual(['completed', join(dir, 'a.bin'), data.length, data.length, undefined]);
    expect(history.map((h) => [h.state, h.file])).toEqual([['completed', join(dir, 'a.bin')]]);
    expect(cached).toEqual([]);
    expect(fetched).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['a.bin']);
    expect(sha256(await readFile(join(dir, 'a.bin')))).toBe(sha256(data));
    expect((await store.read('queue'))?.entries.map((e) => e.state)).toEqual(['completed']);
  });

  it('never takes a file changed since for the download: the record is forgotten and the file left untouched', async () => {
    const other = pseudoRandom(300 * 1024, 13);
    const { store, entry: e } = await nextProcess(12, () => writeFile(join(dir, 'a.bin'), other));
    expect([e?.state, e?.error?.code]).toEqual(['failed', 'MG_ERR_FILE_EXISTS']);
    expect(sha256(await readFile(join(dir, 'a.bin')))).toBe(sha256(other));
    expect((await store.read('content'))?.entries ?? []).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['a.bin']);
  });

  it('does not complete it when the server has another version now: the file is left untouched', async () => {
    // (It may be an older download's file, left at a target this one was to replace before it failed.)
    const { data, entry: e } = await nextProcess(16, async (mem) => mem.put('/a.bin', pseudoRandom(300 * 1024, 17)));
    expect([e?.state, e?.error?.code]).toEqual(['failed', 'MG_ERR_FILE_EXISTS']);
    expect(sha256(await readFile(join(dir, 'a.bin')))).toBe(sha256(data));
  });

  it('is only for a download that opened that target: a new one whose output names a recorded file fails, touching nothing', async () => {
    const mem = new MemoryPlugin();
    const data = pseudoRandom(200 * 1024, 18);
    mem.put('/a.bin', data);
    const m = await Manager.open({ plugins: [mem], store: new MemoryStore(), settings: { dir } });
    try {
      await m.add('mem://h/a.bin');
      await m.idle();
      // Same URL, same version, the file proves its record: still not this new download's work.
      const again = await m.add('mem://h/a.bin', { output: join(dir, 'a.bin') });
      await m.idle();
      expect([m.get(again.id).state, m.get(again.id).error?.code]).toEqual(['failed', 'MG_ERR_FILE_EXISTS']);
    } finally {
      await m.close();
    }
    expect(sha256(await readFile(join(dir, 'a.bin')))).toBe(sha256(data));
  });

  it('leaves a file with partial data of its name beside it to the download, which touches neither', async () => {
    // Partial data of the same name stands beside the file: not what a finished download leaves.
    const partial = pseudoRandom(10, 15);
    const { data, store, entry: e } = await nextProcess(14, () => writeFile(join(dir, 'a.bin.mgpart'), partial));
    expect([e?.state, e?.error?.code]).toEqual(['failed', 'MG_ERR_FILE_EXISTS']);
    expect(sha256(await readFile(join(dir, 'a.bin')))).toBe(sha256(data));
    expect(await readFile(join(dir, 'a.bin.mgpart'))).toEqual(partial);
    // The record still describes the file: only a proof that fails forgets it.
    expect((await store.read('content'))?.entries).toHaveLength(1);
  });
});
