import { hashFile } from '../../checksum.js';
import { isDownloadError, fileSystemError } from '../../errors.js';
import type { Multiget } from '../../Multiget.js';
import type { DownloadResult, Validators } from '../../types.js';
import type { Entry } from '../Queue.js';
import type { ManagerStore } from '../store/ManagerStore.js';
import { ContentStore, contentFile, contentInStore } from './ContentStore.js';
import { fromCache } from './fromCache.js';

const PLUGIN_NAME = 'ManagerContentStore';

/**
 * The manager's side of "no download twice": it looks a download up in the {@link ContentStore}
 * before it transfers, and records every finished file (with the validators the engine saw and a
 * digest) after. Problems with the store never fail a download: they are reported through `warn`.
 */
export class ContentShortcut {
  readonly #store: ContentStore;
  /** Validators of finished downloads, by download id, from the engine's `done` hook. */
  readonly #validators = new Map<string, Validators>();
  /** Writes under way: `close()` waits for them. */
  readonly #recording = new Set<Promise<void>>();
  readonly #stopping = new AbortController();

  /**
   * @param dir - directory of `content.json`; undefined: through `store`, or in memory without one
   */
  constructor(
    private readonly engine: Multiget,
    dir: string | undefined,
    store: ManagerStore | undefined,
    private readonly warn: (info: { code: string; message: string }) => void,
  ) {
    this.#store = new ContentStore(dir !== undefined ? contentFile(dir) : store ? contentInStore(store) : undefined);
    engine.hooks.done.tap(PLUGIN_NAME, (job) => {
      if (job.remote) this.#validators.set(job.id, { ...job.remote.validators, ...(job.remote.size !== undefined ? { size: job.remote.size } : {}) });
    });
  }

  /** A copy of a stored file for `e`, or undefined when it must be downloaded (see {@link fromCache}). */
  async lookup(e: Entry, dir: string): Promise<DownloadResult | undefined> {
    try {
      return await fromCache(
        this.engine,
        this.#store,
        { url: e.url, options: e.options, dir, headers: { ...e.options.headers, ...e.secrets.headers }, credentials: e.secrets.credentials },
        this.#stopping.signal,
      );
    } catch (err) {
      this.#report(err, 'use the content store');
      return undefined;
    }
  }

  /** The download `id` ended without a file: forget what the engine told of it. */
  forget(id: string): void {
    this.#validators.delete(id);
  }

  /**
   * Adds a finished file: its verified checksum, or a sha256 computed now. In the background (the
   * download is complete either way); `close()` waits for it.
   */
  record(id: string, url: URL, result: DownloadResult): void {
    const validators = this.#validators.get(id) ?? {};
    this.#validators.delete(id);
    const task = (async () => {
      const digest =
        result.verified && result.digest
          ? { algorithm: result.digest.algorithm, hex: result.digest.hex }
          : { algorithm: 'sha256', hex: await hashFile(result.file, 'sha256') };
      await this.#store.add({ url, validators, size: result.size, digest, file: result.file });
    })().catch((err: unknown) => this.#report(err, 'write the content store'));
    this.#recording.add(task);
    void task.finally(() => this.#recording.delete(task));
  }

  /** Stops lookups under way and waits for records being written. */
  async close(): Promise<void> {
    this.#stopping.abort();
    await Promise.all(this.#recording);
  }

  #report(err: unknown, what: string): void {
    const error = isDownloadError(err) ? err : fileSystemError(err, what);
    this.warn({ code: error.code, message: error.message });
  }
}
