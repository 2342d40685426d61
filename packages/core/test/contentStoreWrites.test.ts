// The content store writes once for all the records that arrive while a write is under way or while
// it waits for more: a queue of many small downloads finishing together costs a few writes, not one
// per file. Its file, content.jsonl, is a log of changes: a write appends, a lookup of a URL it does
// not hold parses nothing.
import { access, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContentStore, contentFile, type RecordSource } from '../src/manager/content/ContentStore.js';
import { COMPACT_AT, recordsOfLog } from '../src/manager/content/contentLog.js';
import { MAX_RECORDS } from '../src/manager/content/records.js';
import type { ContentDocument, ContentRecord } from '../src/manager/store/ManagerStore.js';

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

/** content.jsonl in `dir`, counting the writes that reach it. */
function counted(): { persistence: RecordSource; writes: () => number } {
  const file = contentFile(dir);
  let writes = 0;
  return {
    persistence: {
      byUrl: (key) => file.byUrl(key),
      byDigest: (algorithm, hex) => file.byDigest(algorithm, hex),
      apply: async (batch) => {
        writes++;
        await file.apply(batch);
      },
    },
    writes: () => writes,
  };
}

/** The records in force in content.jsonl, newest first. */
async function stored(): Promise<ContentRecord[]> {
  return recordsOfLog(await readFile(join(dir, 'content.jsonl'), 'utf8'));
}

describe('ContentStore writes', () => {
  it('200 records added at once: every one is in content.jsonl, written a few times, not 200', async () => {
    const { persistence, writes } = counted();
    const store = new ContentStore(persistence);
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.add(record(i))));
    expect((await stored()).map((r) => r.file).sort()).toEqual(Array.from({ length: 200 }, (_, i) => join(dir, `f${i}.bin`)).sort());
    // All made in one tick: one write carries them all.
    expect(writes()).toBe(1);
    // Added while that write is under way: the next one carries them.
    const during = store.add(record(200));
    const after = [store.add(record(201)), store.add(record(202))];
    await Promise.all([during, ...after]);
    expect(writes()).toBe(2);
    // A later record of a file replaces the earlier one; the newest come first.
    await store.add({ ...record(7), size: 999 });
    const again = await stored();
    expect(again).toHaveLength(203);
    expect(again[0]).toMatchObject({ file: join(dir, 'f7.bin'), size: 999 });
  });

  it('changes made while a write is under way are applied in order: an add then a forget of the same file leaves none', async () => {
    const { persistence } = counted();
    const store = new ContentStore(persistence);
    const first = store.add(record(1));
    const second = store.add(record(2));
    const gone = store.forget(join(dir, 'f2.bin'));
    await Promise.all([first, second, gone]);
    expect((await stored()).map((r) => r.file)).toEqual([join(dir, 'f1.bin')]);
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
    expect((await stored()).map((r) => r.file)).toEqual([4, 3, 2, 1, 0].map((i) => join(dir, `f${i}.bin`)));
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
    expect((await stored()).map((r) => r.file)).toEqual([join(dir, 'copy.bin'), join(dir, 'f1.bin')]);
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
    expect((await stored()).map((r) => r.file)).toEqual([3, 2, 1].map((i) => join(dir, `f${i}.bin`)));
  });

  it('a write that fails fails the changes it carried, and the next ones are written', async () => {
    let fail = true;
    const file = contentFile(dir);
    const store = new ContentStore({
      byUrl: (key) => file.byUrl(key),
      byDigest: (algorithm, hex) => file.byDigest(algorithm, hex),
      apply: async (batch) => {
        if (fail) {
          fail = false;
          throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        }
        await file.apply(batch);
      },
    });
    await expect(store.add(record(1))).rejects.toThrow(/ENOSPC/);
    await store.add(record(2));
    expect((await stored()).map((r) => r.file)).toContain(join(dir, 'f2.bin'));
  });
});


/** A full record of `record(i)`, as the store keeps it. */
const kept = (i: number): ContentRecord => ({ ...record(i), url: `https://example.test/f${i}.bin`, recordedAt: '2026-12-06T00:00:00.000Z' });

/** Counts JSON.parse calls while `run` runs. */
async function parsesDuring(run: () => Promise<void>): Promise<number> {
  const parse = JSON.parse;
  let parses = 0;
  JSON.parse = ((text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) => {
    parses++;
    return parse(text, reviver);
  }) as typeof JSON.parse;
  try {
    await run();
  } finally {
    JSON.parse = parse;
  }
  return parses;
}

describe('contentFile: content.jsonl, a log of changes', () => {
  it('a lookup of a URL or digest the log does not hold parses nothing; a second lookup parses it once; appends need no re-read', async () => {
    const file = contentFile(dir);
    await file.apply(Array.from({ length: 3000 }, (_, i) => ({ file: kept(i).file, record: kept(i) })));
    // Another process: it has read nothing yet.
    const other = contentFile(dir);
    expect(await parsesDuring(async () => expect(await other.byUrl('https://example.test/new.bin')).toEqual([]))).toBe(0);
    // A list looks up many URLs: the second lookup parses the log (each line once) and indexes it.
    let found: ContentRecord[] = [];
    const parses = await parsesDuring(async () => {
      expect(await other.byUrl('https://example.test/other.bin')).toEqual([]);
      found = await other.byUrl('https://example.test/f7.bin');
    });
    expect(parses).toBe(3000);
    expect(found.map((r) => r.file)).toEqual([join(dir, 'f7.bin')]);
    // Its own appends keep what it parsed up to date, without reading the file again.
    await other.apply([{ file: kept(5000).file, record: kept(5000) }, { file: kept(7).file }]);
    expect(
      await parsesDuring(async () => {
        expect((await other.byUrl('https://example.test/f5000.bin')).map((r) => r.file)).toEqual([join(dir, 'f5000.bin')]);
        expect(await other.byUrl('https://example.test/f7.bin')).toEqual([]);
        expect((await other.byDigest('sha256', kept(9).digest.hex)).map((r) => r.file)).toEqual([join(dir, 'f9.bin')]);
      }),
    ).toBe(0);
    // The first process sees the other's lines (its file changed), digest lookups included.
    expect((await file.byDigest('sha256', kept(5000).digest.hex)).map((r) => r.file)).toEqual([join(dir, 'f5000.bin')]);
    expect(await file.byUrl('https://example.test/f7.bin')).toEqual([]);
  });

  it('the first lookup of a URL the log holds parses only the lines that concern it, and decides as the whole log does', async () => {
    const file = contentFile(dir);
    const url = (i: number): string => `https://example.test/f${i}.bin`;
    await file.apply(Array.from({ length: 2000 }, (_, i) => ({ file: kept(i).file, record: kept(i) })));
    // f7's file forgotten later; f8's file recorded again later from another URL; f9 recorded twice
    // (two files from one URL), one of them forgotten.
    await file.apply([
      { file: kept(7).file },
      { file: kept(8).file, record: { ...kept(5000), file: kept(8).file } },
      { file: join(dir, 'second.bin'), record: { ...kept(9), file: join(dir, 'second.bin') } },
    ]);
    await file.apply([{ file: kept(9).file }]);
    const answers = async (i: number): Promise<string[]> => (await contentFile(dir).byUrl(url(i))).map((r) => r.file);
    let found: string[] = [];
    const parses = await parsesDuring(async () => {
      found = await answers(9);
    });
    expect(found).toEqual([join(dir, 'second.bin')]);
    expect(parses).toBeLessThan(10);
    expect(await answers(7)).toEqual([]);
    expect(await answers(8)).toEqual([]);
    expect(await answers(5000)).toEqual([kept(8).file]);
    expect(await answers(1234)).toEqual([kept(1234).file]);
    // The same answers from the whole log, parsed and indexed (a second lookup of the same text).
    const listed = contentFile(dir);
    expect(await listed.byUrl('https://example.test/none.bin')).toEqual([]);
    for (const [i, files] of [[9, [join(dir, 'second.bin')]], [7, []], [8, []], [5000, [kept(8).file]], [1234, [kept(1234).file]]] as const) {
      expect((await listed.byUrl(url(i))).map((r) => r.file)).toEqual(files);
    }
  });

  it('appends a line per change, and past COMPACT_AT lines rewrites the log with the records in force (the newest MAX_RECORDS)', async () => {
    const file = contentFile(dir);
    const lines = async (): Promise<number> => (await readFile(join(dir, 'content.jsonl'), 'utf8')).split('\n').filter(Boolean).length;
    let n = 0;
    while (n < COMPACT_AT) {
      const batch = Array.from({ length: 1000 }, (_, i) => ({ file: kept(n + i).file, record: kept(n + i) }));
      await file.apply(batch);
      n += batch.length;
      expect(await lines()).toBe(n);
    }
    await file.apply([{ file: kept(n).file, record: kept(n) }]);
    expect(await lines()).toBe(MAX_RECORDS);
    const records = await stored();
    expect(records).toHaveLength(MAX_RECORDS);
    expect(records[0]!.file).toBe(join(dir, `f${n}.bin`));
    expect(records.at(-1)!.file).toBe(join(dir, `f${n - MAX_RECORDS + 1}.bin`));
    expect((await contentFile(dir).byUrl(`https://example.test/f${n}.bin`)).map((r) => r.size)).toEqual([100 + n]);
  });

  it('skips a line that is not a whole change (a torn write), and a record that names another file', async () => {
    await writeFile(
      join(dir, 'content.jsonl'),
      [JSON.stringify({ file: kept(1).file, record: kept(1) }), '{"file":"/x","rec', JSON.stringify({ file: '/elsewhere', record: kept(2) }), JSON.stringify({ file: kept(3).file, record: kept(3) }), ''].join('\n'),
    );
    const file = contentFile(dir);
    expect((await file.byUrl('https://example.test/f1.bin')).map((r) => r.file)).toEqual([join(dir, 'f1.bin')]);
    expect(await file.byUrl('https://example.test/f2.bin')).toEqual([]);
    expect((await file.byUrl('https://example.test/f3.bin')).map((r) => r.file)).toEqual([join(dir, 'f3.bin')]);
  });

  it('ends a last line cut short by a killed process before it appends: the new record is not lost with it', async () => {
    const whole = JSON.stringify({ file: kept(1).file, record: kept(1) });
    await writeFile(join(dir, 'content.jsonl'), `${whole}\n${JSON.stringify({ file: kept(2).file, record: kept(2) }).slice(0, 40)}`);
    const store = new ContentStore(contentFile(dir), 0);
    await store.add(record(3));
    expect((await stored()).map((r) => r.file)).toEqual([3, 1].map((i) => join(dir, `f${i}.bin`)));
    // What this process knows of the file is the file: a lookup right after finds the record.
    expect((await store.byUrl(new URL('https://example.test/f3.bin'))).map((r) => r.file)).toEqual([join(dir, 'f3.bin')]);
    await store.add(record(4));
    expect((await stored()).map((r) => r.file)).toEqual([4, 3, 1].map((i) => join(dir, `f${i}.bin`)));
  });

  it("takes over an earlier version's content.json: its records answer, it becomes the log, and it is removed", async () => {
    const doc: ContentDocument = { version: 1, entries: [kept(2), kept(1)] };
    await writeFile(join(dir, 'content.json'), JSON.stringify(doc));
    const store = new ContentStore(contentFile(dir), 0);
    expect((await store.byUrl(new URL('https://example.test/f1.bin'))).map((r) => r.file)).toEqual([join(dir, 'f1.bin')]);
    await expect(access(join(dir, 'content.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    await store.add(record(3));
    expect((await stored()).map((r) => r.file)).toEqual([3, 2, 1].map((i) => join(dir, `f${i}.bin`)));
  });

  it('a symlink put in place of content.jsonl is never read through nor written through', async () => {
    const file = contentFile(dir);
    await file.apply([{ file: kept(1).file, record: kept(1) }]);
    expect((await file.byUrl('https://example.test/f1.bin')).length).toBe(1);
    const elsewhere = join(dir, 'elsewhere.jsonl');
    await writeFile(elsewhere, `${JSON.stringify({ file: kept(2).file, record: kept(2) })}\n`);
    await rm(join(dir, 'content.jsonl'));
    await symlink(elsewhere, join(dir, 'content.jsonl'));
    expect(await file.byUrl('https://example.test/f2.bin')).toEqual([]);
    expect(await file.byUrl('https://example.test/f1.bin')).toEqual([]);
    await expect(file.apply([{ file: kept(3).file, record: kept(3) }])).rejects.toMatchObject({ code: 'ELOOP' });
    expect(await readFile(elsewhere, 'utf8')).toBe(`${JSON.stringify({ file: kept(2).file, record: kept(2) })}\n`);
  });
});
