import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Validators } from '../../types.js';
import type { ContentDocument, ContentRecord, ManagerStore } from '../store/ManagerStore.js';
import { contentKey } from './contentKey.js';
import { CoalescedWrites } from '../../util/CoalescedWrites.js';
import { learnDirectory, metadata } from '../../storage/metadataCalls.js';

/** Records kept: the oldest go first. */
const MAX_RECORDS = 5000;
/** How long a write of content.json waits for more records, at least (see ContentStore). */
const GATHER_MS = 50;
/**
 * A write waits this many times as long as the last write took, up to MAX_GATHER_MS: a store of
 * thousands of records (a list of 10,000 files) spends a small share of its time rewriting them.
 */
const GATHER_PER_WRITE = 10;
const MAX_GATHER_MS = 1000;

/** Where the content store's document lives. */
export interface ContentPersistence {
  /** The document, or undefined. */
  read(): Promise<ContentDocument | undefined>;
  /** Replaces the document. */
  write(doc: ContentDocument): Promise<void>;
}

/**
 * `content.json` in a directory, read and written without the manager's lock: several CLI processes
 * (and a service) may share it. Each write reads the file again and merges, and goes through a
 * temporary file of its own (`content.json.RANDOM.tmp`) renamed into place, so a reader never sees
 * half a document; two writers at once may lose one record, which only costs a download.
 */
export function contentFile(dir: string): ContentPersistence {
  const path = join(dir, 'content.json');
  /** The folder as the file's name has it (normalised), which is what metadata calls look up. */
  const folder = dirname(path);
  // The document as last read, and the file it came from: a batch of a thousand downloads looks
  // the store up a thousand times, and the file rarely changes in between.
  let last: { ino: number; size: number; mtimeMs: number; doc: ContentDocument } | undefined;
  // Counts each write's start and end (odd: one is under way). A read that overlapped a write may
  // have opened the file it replaced: what it parsed is not kept as `last`. (It was: `last` then
  // described the old file, so every lookup parsed the new one again, and each lookup that still
  // opened the old one made `last` stale again; a list of 2,000 files parsed the document
  // thousands of times.)
  let writeTurns = 0;
  return {
    async read() {
      const turnsBefore = writeTurns;
      try {
        // The usual case, the file as last read or written: one call (lstat) instead of three
        // (open, fstat, close). A link in its place never matches: it is opened below, and refused.
        if (last) {
          await learnDirectory(folder);
          const now = await metadata.lstat(path);
          if (last.ino === now.ino && last.size === now.size && last.mtimeMs === now.mtimeMs) return last.doc;
        }
        const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
        try {
          const st = await fh.stat();
          const doc = JSON.parse(await fh.readFile('utf8')) as ContentDocument;
          if (turnsBefore % 2 === 0 && writeTurns === turnsBefore) last = { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, doc };
          return doc;
        } finally {
          await fh.close();
        }
      } catch {
        return undefined;
      }
    },
    async write(doc) {
      writeTurns++;
      try {
        await writeAndRename(doc);
      } finally {
        writeTurns++;
      }
    },
  };

  async function writeAndRename(doc: ContentDocument): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    let written;
    try {
      await fh.writeFile(JSON.stringify(doc));
      await fh.sync();
      written = await fh.stat();
    } finally {
      await fh.close();
    }
    await rename(tmp, path).catch(async (err: unknown) => {
      await unlink(tmp).catch(() => undefined);
      throw err;
    });
    // The next read finds this very file (the rename keeps its inode, size and time) unless
    // another process replaced it since: no need to parse back what was just written.
    last = { ino: written.ino, size: written.size, mtimeMs: written.mtimeMs, doc };
  }
}

/** The content store kept through a {@link ManagerStore} (a program's own store). */
export function contentInStore(store: ManagerStore): ContentPersistence {
  return { read: () => store.read('content'), write: (doc) => store.write('content', doc) };
}

/**
 * True when `now` is provably the version `was` describes: at least one validator besides the size
 * was recorded, and every recorded one equals the server's now (the same rule as resuming).
 */
export function sameVersion(was: Validators, now: Validators): boolean {
  if (was.etag === undefined && was.lastModified === undefined && was.mtime === undefined) return false;
  if (was.etag !== undefined && was.etag !== now.etag) return false;
  if (was.lastModified !== undefined && was.lastModified !== now.lastModified) return false;
  if (was.mtime !== undefined && was.mtime !== now.mtime) return false;
  return was.size === undefined || was.size === now.size;
}

function isRecord(v: unknown): v is ContentRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  const d = r['digest'] as Record<string, unknown> | undefined;
  return (
    typeof r['url'] === 'string' &&
    typeof r['file'] === 'string' &&
    typeof r['size'] === 'number' &&
    typeof r['validators'] === 'object' &&
    r['validators'] !== null &&
    typeof d === 'object' &&
    d !== null &&
    typeof d['algorithm'] === 'string' &&
    typeof d['hex'] === 'string' &&
    (d['blockSize'] === undefined || (typeof d['blockSize'] === 'number' && Number.isSafeInteger(d['blockSize']) && d['blockSize'] > 0))
  );
}

/** A change of the records: `record` becomes the record of `file` (replacing any), or, without one, `file` is forgotten. */
export interface RecordChange {
  readonly file: string;
  readonly record?: ContentRecord;
}

/**
 * The records after the changes of `batch` (in the order made), at most MAX_RECORDS of them, in
 * one pass however many changes the batch holds: a file's last change decides, and new records
 * come first, the newest first, as they would one change at a time. (Applying the changes one at a
 * time copied every record per change: a list of 10,000 files allocated about 400 MB doing it.)
 */
export function applyChanges(records: readonly ContentRecord[], batch: readonly RecordChange[]): ContentRecord[] {
  const decided = new Set<string>();
  const result: ContentRecord[] = [];
  for (let i = batch.length - 1; i >= 0; i--) {
    const { file, record } = batch[i]!;
    if (decided.has(file)) continue;
    decided.add(file);
    if (record !== undefined && result.length < MAX_RECORDS) result.push(record);
  }
  for (const r of records) {
    if (result.length >= MAX_RECORDS) break;
    if (!decided.has(r.file)) result.push(r);
  }
  return result;
}

/**
 * What the manager knows of files it finished: URL (see {@link contentKey}), validators, size and
 * digest, and where the file is. A new download asks it for candidates; the caller then proves a
 * candidate (the file exists and its copy matches the digest) before it uses it.
 */
export class ContentStore {
  #records: ContentRecord[] = [];
  /**
   * `#records` by URL, built on the first lookup after they change: every download of a list looks
   * its URL up, and a scan of 5,000 records per lookup was the busiest function of a list of 10,000
   * files in `perf`.
   */
  #byUrl: Map<string, ContentRecord[]> | undefined;
  #loaded = false;
  /** Changes not written yet, in order. */
  #queued: RecordChange[] = [];
  /** The document `#records` was last read from or written as (unchanged on disk: nothing to re-check). */
  #doc: ContentDocument | undefined;
  /**
   * One write at a time; the changes queued meanwhile go into the next, together. Each write
   * serialises every record (up to MAX_RECORDS), so a write of new records (`add`, which nobody
   * waits for) waits for more: GATHER_MS, or GATHER_PER_WRITE times as long as the last write took
   * (up to MAX_GATHER_MS), whichever is longer. A queue of 1,000 small downloads made 275 writes
   * without the wait, and their JSON took a tenth of the run's CPU; with 5,000 records a write takes
   * tens of milliseconds (1.5 MB of JSON and an fsync), and every 50 ms was most of a list's
   * allocations. A change a download waits for (`addCopy`, `forget`) is written at once, and
   * `close()` ends the wait.
   */
  readonly #writes: CoalescedWrites;
  /** Milliseconds the last write took. */
  #lastWriteMs = 0;

  /**
   * @param persistence - Where the records are kept (none: in memory only).
   * @param gatherMs - How long a write of new records waits for more, at least (see `#writes`).
   */
  constructor(
    private readonly persistence: ContentPersistence | undefined,
    gatherMs = GATHER_MS,
  ) {
    this.#writes = new CoalescedWrites(async () => {
      const batch = this.#queued.splice(0);
      if (this.persistence || !this.#loaded) await this.#load();
      this.#use(applyChanges(this.#records, batch));
      const doc: ContentDocument = { version: 1, entries: this.#records };
      // Until it is written, the records in memory are not what the file holds: a failed write's
      // changes are dropped by the next read.
      this.#doc = undefined;
      const started = performance.now();
      await this.persistence?.write(doc);
      this.#lastWriteMs = performance.now() - started;
      this.#doc = doc;
    }, () => Math.max(gatherMs, Math.min(MAX_GATHER_MS, this.#lastWriteMs * GATHER_PER_WRITE)));
  }

  async #load(): Promise<void> {
    const doc = await this.persistence?.read();
    this.#loaded = true;
    // The file is as this store last read or wrote it (contentFile hands back that document).
    if (doc !== undefined && doc === this.#doc) return;
    if (doc && doc.version === 1 && Array.isArray(doc.entries)) this.#use(doc.entries.filter(isRecord));
    this.#doc = doc;
  }

  /** Makes `records` the store's records; the index by URL is built again when next needed. */
  #use(records: ContentRecord[]): void {
    this.#records = records;
    this.#byUrl = undefined;
  }

  /** Writes the changes made so far without waiting for more, and every later one at once. */
  async close(): Promise<void> {
    await this.#writes.drain();
  }

  /** Records of files that came from `url` (re-read from disk first: another process may have added one). */
  async byUrl(url: URL): Promise<ContentRecord[]> {
    await this.#load();
    const key = contentKey(url);
    if (this.#byUrl === undefined) {
      this.#byUrl = new Map();
      for (const r of this.#records) {
        const same = this.#byUrl.get(r.url);
        if (same) same.push(r);
        else this.#byUrl.set(r.url, [r]);
      }
    }
    // A copy: the caller may keep or change what it gets.
    return [...(this.#byUrl.get(key) ?? [])];
  }

  /**
   * Records of files with this digest. A `crc32-blocks` record (a download that was not verified)
   * never matches a checksum: only files verified against a digest, or hashed with it by an
   * earlier version, are found this way.
   */
  async byDigest(algorithm: string, hex: string): Promise<ContentRecord[]> {
    await this.#load();
    return this.#records.filter((r) => r.digest.algorithm === algorithm && r.digest.hex === hex);
  }

  /** Adds a finished file (replacing an older record of the same file). Serialised; merges with what is on disk. */
  async add(record: Omit<ContentRecord, 'url' | 'recordedAt'> & { url: URL }): Promise<void> {
    const full: ContentRecord = { ...record, url: contentKey(record.url), recordedAt: new Date().toISOString() };
    // Recorded in the background (nobody waits for it): written with the records that follow it.
    await this.#update({ file: full.file, record: full }, false);
  }

  /**
   * Records `file`, a verified copy of `record`'s file: it can serve later downloads too, should the
   * original go. `digest`: the checksum the copy was verified against, recorded instead of the
   * record's own, so that a later download with that checksum finds it without a request.
   */
  async addCopy(record: ContentRecord, file: string, digest?: ContentRecord['digest']): Promise<void> {
    const copy: ContentRecord = { ...record, ...(digest ? { digest } : {}), file, recordedAt: new Date().toISOString() };
    await this.#update({ file, record: copy });
  }

  /** Forgets a record whose file is gone or changed. */
  async forget(file: string): Promise<void> {
    await this.#update({ file });
  }

  /**
   * Queues `change` for the next write (see `#writes`). `soon`: a download waits for this change, so
   * its write does not gather others.
   */
  #update(change: RecordChange, soon = true): Promise<void> {
    this.#queued.push(change);
    return this.#writes.request(soon);
  }
}
