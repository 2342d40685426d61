import { hashFile } from '../../util/checksum.js';
import { isDownloadError, fileSystemError } from '../../errors.js';
import type { Multiget } from '../../engine/Multiget.js';
import type { DownloadResult, Validators } from '../../types.js';
import type { Entry } from '../Queue.js';
import type { ManagerStore } from '../store/ManagerStore.js';
import { ContentStore, contentFile, contentInStore } from './ContentStore.js';
import { fromCache } from './fromCache.js';
import { removeFile } from '../../storage/removeFile.js';
import { type RecordDigest, digestOfBlocks } from './recordDigest.js';

const PLUGIN_NAME = 'ManagerContentStore';

/**
 * The manager's side of "no download twice": it looks a download up in the {@link ContentStore}
 * before it transfers, and records every finished file (with the validators the engine saw and a
 * digest: the verified one, else the block CRCs the engine kept while the bytes arrived) after. Problems with the store never fail a download: they are reported through `warn`.
 */
export class ContentShortcut {
  readonly #store: ContentStore;
  /** Validators of finished downloads, by download id, from the engine's `done` hook. */
  readonly #validators = new Map<string, Validators>();
  /** Digests built from the block CRCs of downloads whose bytes are all written, by download id. */
  readonly #blockDigests = new Map<string, { size: number; digest: RecordDigest }>();
  /** Lookups (copies) and writes under way: `close()` waits for them. */
  readonly #pending = new Set<Promise<unknown>>();
  readonly #stopping = new AbortController();

  /**
   * @param dir - directory of `content.jsonl`; undefined: through `store`, or in memory without one
   */
  constructor(
    private readonly engine: Multiget,
    dir: string | undefined,
    store: ManagerStore | undefined,
    private readonly warn: (info: { code: string; message: string }) => void,
  ) {
    this.#store = new ContentStore(dir !== undefined ? contentFile(dir) : store ? contentInStore(store) : undefined);
    // Last of the probe taps: what the download is fetching (a restart probes again and replaces it).
    engine.hooks.probe.tapPromise({ name: PLUGIN_NAME, stage: 1000 }, async (info, job) => {
      this.#validators.set(job.id, { ...info.validators, ...(info.size !== undefined ? { size: info.size } : {}) });
      return info;
    });
    // Every byte is written and durable: the block CRCs the engine kept while they arrived describe
    // the file, so recording it needs no second read. (A verify that fails afterwards ends in `forget`.)
    engine.hooks.flush.tapPromise(PLUGIN_NAME, async (job) => {
      this.#blockDigests.delete(job.id);
      const blocks = job.blocks;
      if (!blocks) return;
      // Blocks written by several connections are read back in the background: wait for their CRCs.
      await blocks.settle();
      const size = job.remote?.size ?? job.bytesDone;
      const digest = digestOfBlocks(blocks, size);
      if (digest) this.#blockDigests.set(job.id, { size, digest });
    });
  }

  /**
   * A copy of a stored file for `e`, or undefined when it must be downloaded (see {@link fromCache}).
   * The copy is recorded too, so that it can serve later downloads should the original go.
   */
  lookup(e: Entry, dir: string): Promise<DownloadResult | undefined> {
    const request = { url: e.url, options: e.options, dir, headers: { ...e.options.headers, ...e.secrets.headers }, credentials: e.secrets.credentials, ownFile: e.targetChosen ? e.file : undefined };
    return this.#track(
      (async () => {
        const found = await fromCache(this.engine, this.#store, request, this.#stopping.signal);
        // A copy proven against the caller's checksum is recorded with it: later lookups by that
        // checksum, from any URL, find it without a request.
        const verified = found?.result.verified && found.result.digest ? { algorithm: found.result.digest.algorithm, hex: found.result.digest.hex } : undefined;
        if (found && !found.inPlace) await this.#store.addCopy(found.record, found.result.file, verified).catch((err: unknown) => this.#report(err, 'write the content store'));
        return found?.result;
      })().catch((err: unknown) => {
        this.#report(err, 'use the content store');
        return undefined;
      }),
    );
  }

  /**
   * The content-store step of a start of `e` (the one numbered `run`, see `Entry.run`), while `e`
   * shows `probing`: looks it up and answers what comes next. A result: a copy is in place (the
   * result's `fromCache` names the stored file), or the file an earlier start of `e` finished
   * proved complete at its target (no `fromCache`), and `e` holds its file and size; complete it.
   * `'download'`: no copy serves; download it. Undefined: a pause, cancel, removal (`listed`
   * false) or close overtook the lookup, and that decision stands.
   */
  async start(e: Entry, run: number, dir: string, now: { listed(): boolean; closed(): boolean }): Promise<DownloadResult | 'download' | undefined> {
    const result = await this.lookup(e, dir);
    if (!result) return e.run === run && e.state === 'probing' && !now.closed() ? 'download' : undefined;
    // A verified copy counts even after a pause or close (a later start would find it in the way);
    // a cancel does not want it; a removed entry leaves it, as remove() leaves finished files.
    if (e.state === 'canceled') {
      // Only a copy this lookup made: a file found complete at its own target stays.
      if (result.fromCache) await removeFile(result.file).catch(() => undefined);
      return undefined;
    }
    if (!now.listed()) return undefined;
    e.file = result.file;
    e.bytes = result.size;
    e.total = result.size;
    e.fromCache = result.fromCache;
    return result;
  }

  /** The download `id` ended without a file: forget what the engine told of it. */
  forget(id: string): void {
    this.#validators.delete(id);
    this.#blockDigests.delete(id);
  }

  /**
   * Adds a finished file: its verified checksum; else the `crc32-blocks` digest built from the
   * block CRCs of its download (no read of the file); else (the blocks did not cover it: a stream
   * of unknown length) a sha256 computed now. In the background (the download is complete either
   * way); `close()` waits for it.
   */
  record(id: string, url: URL, result: DownloadResult): void {
    const validators = this.#validators.get(id) ?? {};
    const blocks = this.#blockDigests.get(id);
    this.#validators.delete(id);
    this.#blockDigests.delete(id);
    void this.#track(
      (async () => {
        const digest: RecordDigest =
          result.verified && result.digest
            ? { algorithm: result.digest.algorithm, hex: result.digest.hex }
            : blocks && blocks.size === result.size
              ? blocks.digest
              : { algorithm: 'sha256', hex: await hashFile(result.file, 'sha256') };
        await this.#store.add({ url, validators, size: result.size, digest, file: result.file });
      })().catch((err: unknown) => this.#report(err, 'write the content store')),
    );
  }

  /**
   * Stops lookups that have not started a copy (a probe under way is aborted) and waits for copies
   * and records under way, so that no file appears after the manager closed.
   */
  async close(): Promise<void> {
    this.#stopping.abort();
    // Records arriving from now on are written without waiting for more.
    const written = this.#store.close();
    await Promise.all(this.#pending);
    await written;
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
    return p;
  }

  #report(err: unknown, what: string): void {
    const error = isDownloadError(err) ? err : fileSystemError(err, what);
    this.warn({ code: error.code, message: error.message });
  }
}
