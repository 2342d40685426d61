import { fileSystemError, isDownloadError } from '../errors.js';
import type { HistoryDocument, ManagerStore, QueueDocument } from './store/ManagerStore.js';
import type { ManagerEvents } from './types.js';
import { CoalescedWrites } from '../util/CoalescedWrites.js';

/**
 * A write made in the background waits this many times as long as the last write took (up to
 * MAX_GATHER_MS) for more changes: a queue of a thousand downloads took 10-20 ms to write, and
 * writing it again after every download's end spent a fifth of a service's CPU in a batch of
 * 1,020 files (`--cpu-prof`).
 */
const GATHER_PER_WRITE = 10;
const MAX_GATHER_MS = 1000;

/** The documents a write puts in the store, each taken when the write's turn comes. */
export interface StoreDocuments {
  queue(): QueueDocument;
  history(): HistoryDocument;
}

/** A document of the manager's: the queue (with the settings) or the history. */
export type StoreDocument = keyof StoreDocuments;

/**
 * Keeps a manager's store up to date with its queue and history. A change is marked with
 * `changed(doc)` and written by the next `save()` (awaited: written at once) or
 * `saveInBackground()` (written after a gathering wait, see GATHER_PER_WRITE; a `save()` or
 * `close()` ends the wait). Writes never overlap; each writes the newest state when its turn
 * comes, and none is made when an earlier write already took every change; a document nothing
 * changed is not written again (an add, a pause or a new setting leaves a long history as it was).
 * One failed write does not stop the next from trying again. Without a store, nothing is written.
 */
export class StoreWriter {
  /** Documents changed since the last write took them: only those are written. */
  readonly #dirty = new Set<StoreDocument>();
  #lastWriteMs = 0;
  readonly #writes = new CoalescedWrites(
    async () => {
      if (this.#dirty.size === 0 || !this.store) return;
      const queue = this.#dirty.has('queue');
      const history = this.#dirty.has('history');
      this.#dirty.clear();
      const started = performance.now();
      if (queue) await this.store.write('queue', this.documents.queue());
      if (history) await this.store.write('history', this.documents.history());
      this.#lastWriteMs = performance.now() - started;
    },
    () => Math.min(MAX_GATHER_MS, this.#lastWriteMs * GATHER_PER_WRITE),
  );

  constructor(
    private readonly store: ManagerStore | undefined,
    private readonly documents: StoreDocuments,
    private readonly warn: (...args: ManagerEvents['warning']) => void,
  ) {}

  /** Marks a change of `doc` for the next write (state changes are written in batches, not one by one). */
  changed(doc: StoreDocument = 'queue'): void {
    this.#dirty.add(doc);
  }

  /**
   * Writes `docs` (the queue when none is named), and every other document marked changed, now
   * (serialised; concurrent calls share one write).
   */
  async save(...docs: StoreDocument[]): Promise<void> {
    await this.#request(true, docs);
  }

  /**
   * Writes the queue, and the history if it changed, soon, without waiting (with the changes that
   * follow within the gathering wait); a failure becomes a `warning`, never an unhandled rejection.
   */
  saveInBackground(): void {
    this.#request(false, []).catch((err: unknown) => {
      const error = isDownloadError(err) ? err : fileSystemError(err, 'write the queue');
      this.warn({ code: error.code, message: error.message });
    });
  }

  /** Writes everything a last time and closes the store (releasing its lock). */
  async close(): Promise<void> {
    await this.save();
    await this.store?.close();
  }

  async #request(soon: boolean, docs: StoreDocument[]): Promise<void> {
    if (docs.length === 0) this.#dirty.add('queue');
    for (const doc of docs) this.#dirty.add(doc);
    if (!this.store) return;
    await this.#writes.request(soon);
  }
}
