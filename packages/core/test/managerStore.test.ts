import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Manager, type ManagerDocuments, type ManagerStore } from '../src/index.js';
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
      await m.updateUrl(c.id, 'mem://h/c.bin?sig=2#other');
      await m.idle();
    } finally {
      await m.close();
    }
    expect((await store.read('queue'))?.entries.map((e) => [e.url, e.state])).toEqual([['mem://h/c.bin?sig=2', 'completed']]);
  });
});

