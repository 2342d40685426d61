// The content store writes its document once for all the records that arrive while a write is under
// way or while it waits for more: a queue of many small downloads finishing together costs a few
// writes, not one per file (each a read, a parse, a write and an fsync of a document that grows with
// every record).
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContentStore, contentFile, type ContentPersistence } from '../src/manager/content/ContentStore.js';
import type { ContentDocument } from '../src/manager/store/ManagerStore.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-content-writes-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const record = (i: number) => ({
  url: new URL(`https://example.test/f${i}.bin`),
  validators: { etag: `"e${i}"`, size: 100 + i },
  size: 100 + i,
  digest: { algorithm: 'sha256', hex: i.toString(16).padStart(64, '0') },
  file: join(dir, `f${i}.bin`),
});

/** content.json in `dir`, counting the writes that reach it. */
function counted(): { persistence: ContentPersistence; writes: () => number } {
  const file = contentFile(dir);
  let writes = 0;
  return {
    persistence: {
      read: () => file.read(),
      write: async (doc: ContentDocument) => {
        writes++;
        await file.write(doc);
      },
    },
    writes: () => writes,
  };
}

describe('ContentStore writes', () => {
  it('200 records added at once: every one is in content.json, written a few times, not 200', async () => {
    const { persistence, writes } = counted();
    const store = new ContentStore(persistence);
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.add(record(i))));
    const doc = JSON.parse(await readFile(join(dir, 'content.json'), 'utf8')) as ContentDocument;
    expect(doc.entries.map((r) => r.file).sort()).toEqual(Array.from({ length: 200 }, (_, i) => join(dir, `f${i}.bin`)).sort());
    // All made in one tick: one write carries them all.
    expect(writes()).toBe(1);
    // Added while that write is under way: the next one carries them.
    const during = store.add(record(200));
    const after = [store.add(record(201)), store.add(record(202))];
    await Promise.all([during, ...after]);
    expect(writes()).toBe(2);
    // A later record of a file replaces the earlier one; the newest come first.
    await store.add({ ...record(7), size: 999 });
    const again = JSON.parse(await readFile(join(dir, 'content.json'), 'utf8')) as ContentDocument;
    expect(again.entries).toHaveLength(203);
    expect(again.entries[0]).toMatchObject({ file: join(dir, 'f7.bin'), size: 999 });
  });

  it('changes made while a write is under way are applied in order: an add then a forget of the same file leaves none', async () => {
    const { persistence } = counted();
    const store = new ContentStore(persistence);
    const first = store.add(record(1));
    const second = store.add(record(2));
    const gone = store.forget(join(dir, 'f2.bin'));
    await Promise.all([first, second, gone]);
    const doc = JSON.parse(await readFile(join(dir, 'content.json'), 'utf8')) as ContentDocument;
    expect(doc.entries.map((r) => r.file)).toEqual([join(dir, 'f1.bin')]);
  });

  it('waits for more records before it writes, and close() writes what it gathered', async () => {
    const { persistence, writes } = counted();
    // An hour: nothing in this test may be written by the timer.
    const store = new ContentStore(persistence, 3_600_000);
    const added: Array<Promise<void>> = [];
    for (let i = 0; i < 5; i++) {
      added.push(store.add(record(i)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(writes()).toBe(0);
    await store.close();
    await Promise.all(added);
    expect(writes()).toBe(1);
    const doc = JSON.parse(await readFile(join(dir, 'content.json'), 'utf8')) as ContentDocument;
    expect(doc.entries.map((r) => r.file)).toEqual([4, 3, 2, 1, 0].map((i) => join(dir, `f${i}.bin`)));
    // After close, a record is written at once.
    await store.add(record(5));
    expect(writes()).toBe(2);
  });

  it('a change a download waits for is written at once, with the records gathered so far', async () => {
    const { persistence, writes } = counted();
    const store = new ContentStore(persistence, 3_600_000);
    const gathered = store.add(record(1));
    await store.forget(join(dir, 'f9.bin'));
    await gathered;
    expect(writes()).toBe(1);
    await store.addCopy({ ...record(2), url: 'https://example.test/f2.bin', recordedAt: new Date(0).toISOString() }, join(dir, 'copy.bin'));
    expect(writes()).toBe(2);
    const doc = JSON.parse(await readFile(join(dir, 'content.json'), 'utf8')) as ContentDocument;
    expect(doc.entries.map((r) => r.file)).toEqual([join(dir, 'copy.bin'), join(dir, 'f1.bin')]);
  });

  it('sees what another store (another process) wrote to the same file', async () => {
    const one = new ContentStore(contentFile(dir), 0);
    const two = new ContentStore(contentFile(dir), 0);
    await one.add(record(1));
    expect((await two.byUrl(new URL('https://example.test/f1.bin'))).map((r) => r.file)).toEqual([join(dir, 'f1.bin')]);
    // Looked up before the other store adds it: nothing (and `one` has its lookups indexed now).
    expect(await one.byUrl(new URL('https://example.test/f2.bin'))).toEqual([]);
    await two.add(record(2));
    // `one` last wrote the file itself: it must notice that the file changed since.
    expect((await one.byUrl(new URL('https://example.test/f2.bin'))).map((r) => r.file)).toEqual([join(dir, 'f2.bin')]);
    await one.add(record(3));
    const doc = JSON.parse(await readFile(join(dir, 'content.json'), 'utf8')) as ContentDocument;
    expect(doc.entries.map((r) => r.file)).toEqual([3, 2, 1].map((i) => join(dir, `f${i}.bin`)));
  });

  it('a write that fails fails the changes it carried, and the next ones are written', async () => {
    let fail = true;
    const file = contentFile(dir);
    const store = new ContentStore({
      read: () => file.read(),
      write: async (doc) => {
        if (fail) {
          fail = false;
          throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        }
        await file.write(doc);
      },
    });
    await expect(store.add(record(1))).rejects.toThrow(/ENOSPC/);
    await store.add(record(2));
    const doc = JSON.parse(await readFile(join(dir, 'content.json'), 'utf8')) as ContentDocument;
    expect(doc.entries.map((r) => r.file)).toContain(join(dir, 'f2.bin'));
  });
});

// A lookup that overlapped a write could open the file the write then replaced, and kept what it
// parsed as the file's known content: every later lookup then parsed the whole document again (the
// new file never matched), and each one that still opened the old file made it stale again. A list
// of 2,000 files parsed content.json thousands of times, and a list of 10,000 spent a third of its
// allocations on it.
describe('contentFile: lookups that overlap a write', () => {
  it('after the write, a lookup gives the document written, without parsing it', async () => {
    const file = contentFile(dir);
    const other = contentFile(dir); // another process's writes: this one must parse them
    const docOf = (n: number): ContentDocument => ({
      version: 1,
      entries: Array.from({ length: n }, (_, i) => ({ ...record(i), url: `https://example.test/f${i}.bin`, recordedAt: '2026-12-05T00:00:00.000Z' })),
    });
    const parse = JSON.parse;
    let parses = 0;
    JSON.parse = ((text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) => {
      parses++;
      return parse(text, reviver);
    }) as typeof JSON.parse;
    try {
      for (let round = 0; round < 5; round++) {
        // A large document on disk that this store has not read: each overlapping lookup parses it,
        // which takes longer than the small write beside it.
        await other.write(docOf(20_000 + round));
        const written = docOf(round + 1);
        const lookups = Array.from({ length: 4 }, () => file.read());
        const write = file.write(written);
        lookups.push(file.read(), file.read());
        await Promise.all([...lookups, write]);
        parses = 0;
        for (let i = 0; i < 3; i++) expect(await file.read()).toBe(written);
        expect(parses).toBe(0);
      }
    } finally {
      JSON.parse = parse;
    }
  });
});

describe('contentFile: the quick check of an unchanged file', () => {
  it('a symlink put in place of content.json is refused, never read through, even right after a write', async () => {
    const file = contentFile(dir);
    const written: ContentDocument = { version: 1, entries: [] };
    await file.write(written);
    expect(await file.read()).toBe(written);
    const elsewhere = join(dir, 'elsewhere.json');
    await writeFile(elsewhere, JSON.stringify({ version: 1, entries: [{ ...record(1), url: 'https://example.test/f1.bin', recordedAt: 'x' }] }));
    await rm(join(dir, 'content.json'));
    await symlink(elsewhere, join(dir, 'content.json'));
    expect(await file.read()).toBeUndefined();
  });
});
