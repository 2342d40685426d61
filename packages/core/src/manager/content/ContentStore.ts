import type { Validators } from '../../types.js';
import type { ContentDocument, ContentRecord, ManagerStore } from '../store/ManagerStore.js';
import { contentKey } from './contentKey.js';
import { CoalescedWrites } from '../../util/CoalescedWrites.js';
import { type RecordChange, type RecordSource, applyChanges, indexByUrl, isRecord } from './records.js';

export { applyChanges, type RecordChange, type RecordSource } from './records.js';
export { contentFile } from './contentLog.js';

/** How long a write of the records waits for more, at least (see ContentStore). */
const GATHER_MS = 50;
/**
 * A write waits this many times as long as the last write took, up to MAX_GATHER_MS: a store of
 * thousands of records (a list of 10,000 files) spends a small share of its time rewriting them.
 */
const GATHER_PER_WRITE = 10;
const MAX_GATHER_MS = 1000;

/** Where a program's content store document lives (its own `ManagerStore`, or a test's). */
export interface ContentPersistence {
  /** The document, or undefined. */
  read(): Promise<ContentDocument | undefined>;
  /** Replaces the document. */
  write(doc: ContentDocument): Promise<void>;
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

/**
 * The records kept as one document through a {@link ContentPersistence}: read whole (again when
 * another writer may have changed it) and written whole, the changes applied to what was read.
 */
class DocumentSource implements RecordSource {
  #records: ContentRecord[] = [];
  /**
   * `#records` by URL, built on the first lookup after they change: every download of a list looks
   * its URL up, and a scan of 5,000 records per lookup was the busiest function of a list of 10,000
   * files in `perf`.
   */
  #byUrl: Map<string, ContentRecord[]> | undefined;
  #loaded = false;
  /** The document `#records` was last read from or written as (unchanged on disk: nothing to re-check). */
  #doc: ContentDocument | undefined;

  constructor(private readonly persistence: ContentPersistence | undefined) {}

  async #load(): Promise<void> {
    if (this.persistence === undefined && this.#loaded) return;
    const doc = await this.persistence?.read();
    this.#loaded = true;
    // The document is as this source last read or wrote it (a persistence may hand that back).
    if (doc !== undefined && doc === this.#doc) return;
    if (doc && doc.version === 1 && Array.isArray(doc.entries)) this.#use(doc.entries.filter(isRecord));
    this.#doc = doc;
  }

  /** Makes `records` the records; the index by URL is built again when next needed. */
  #use(records: ContentRecord[]): void {
    this.#records = records;
    this.#byUrl = undefined;
  }

  async byUrl(key: string): Promise<ContentRecord[]> {
    await this.#load();
    this.#byUrl ??= indexByUrl(this.#records);
    return [...(this.#byUrl.get(key) ?? [])];
  }

  async byDigest(algorithm: string, hex: string): Promise<ContentRecord[]> {
    await this.#load();
    return this.#records.filter((r) => r.digest.algorithm === algorithm && r.digest.hex === hex);
  }

  async apply(batch: readonly RecordChange[]): Promise<void> {
    await this.#load();
    this.#use(applyChanges(this.#records, batch));
    const doc: ContentDocument = { version: 1, entries: this.#records };
    // Until it is written, the records in memory are not what the document holds: a failed
    // write's changes are dropped by the next read.
    this.#doc = undefined;
    await this.persistence?.write(doc);
    this.#doc = doc;
  }
}

/**
 * What the manager knows of files it finished: URL (see {@link contentKey}), validators, size and
 * digest, and where the file is. A new download asks it for candidates; the caller then proves a
 * candidate (the file exists and its copy matches the digest) before it uses it.
 */
export class ContentStore {
  readonly #source: RecordSource;
  /** Changes not written yet, in order. */
  #queued: RecordChange[] = [];
  /**
   * One write at a time; the changes queued meanwhile go into the next, together. A write of new
   * records (`add`, which nobody waits for) waits for more: GATHER_MS, or GATHER_PER_WRITE times as
   * long as the last write took (up to MAX_GATHER_MS), whichever is longer. A queue of 1,000 small
   * downloads made 275 writes without the wait (each a document of every record, then); an append to
   * `content.jsonl` is cheap, but each write still costs an fsync. A change a download waits for
   * (`addCopy`, `forget`) is written at once, and `close()` ends the wait.
   */
  readonly #writes: CoalescedWrites;
  /** Milliseconds the last write took. */
  #lastWriteMs = 0;

  /**
   * @param source - Where the records are kept: `contentFile(dir)` (the `content.jsonl` log), a
   *   program's document (`ContentPersistence`, read and written whole), or none (in memory only).
   * @param gatherMs - How long a write of new records waits for more, at least (see `#writes`).
   */
  constructor(source: RecordSource | ContentPersistence | undefined, gatherMs = GATHER_MS) {
    this.#source = source !== undefined && 'apply' in source ? source : new DocumentSource(source);
    this.#writes = new CoalescedWrites(async () => {
      const batch = this.#queued.splice(0);
      const started = performance.now();
      await this.#source.apply(batch);
      this.#lastWriteMs = performance.now() - started;
    }, () => Math.max(gatherMs, Math.min(MAX_GATHER_MS, this.#lastWriteMs * GATHER_PER_WRITE)));
  }

  /** Writes the changes made so far without waiting for more, and every later one at once. */
  async close(): Promise<void> {
    await this.#writes.drain();
  }

  /** Records of files that came from `url` (re-read from disk first: another process may have added one). */
  async byUrl(url: URL): Promise<ContentRecord[]> {
    return await this.#source.byUrl(contentKey(url));
  }

  /**
   * Records of files with this digest. A `crc32-blocks` record (a download that was not verified)
   * never matches a checksum: only files verified against a digest, or hashed with it by an
   * earlier version, are found this way.
   */
  async byDigest(algorithm: string, hex: string): Promise<ContentRecord[]> {
    return await this.#source.byDigest(algorithm, hex);
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
