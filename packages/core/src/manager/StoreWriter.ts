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

/** The documents a write puts in the store, taken when the write's turn comes. */
export type StoreDocuments = () => { queue: QueueDocument; history: HistoryDocument };

/**
 * Keeps a manager's store up to date with its queue and history. A change is marked with
 * `changed()` and written by the next `save()` (awaited: written at once) or
 * `saveInBackground()` (written after a gathering wait, see GATHER_PER_WRITE; a `save()` or
 * `close()` ends the wait). Writes never overlap; each writes the newest state when its turn
 * comes, and none is made when an earlier write already took every change. One failed write does
 * not stop the next from trying again. Without a store, nothing is written.
 */
export class StoreWriter {
  #dirty = false;
  #lastWriteMs = 0;
  readonly #writes = new CoalescedWrites(
    async () => {
      if (!this.#dirty || !this.store) return;
      this.#dirty = false;
      const started = performance.now();
      const docs = this.documents();
      await this.store.write('queue', docs.queue);
      await this.store.write('history', docs.history);
      this.#lastWriteMs = performance.now() - started;
    },
    () => Math.min(MAX_GATHER_MS, this.#lastWriteMs * GATHER_PER_WRITE),
  );

  constructor(
    private readonly store: ManagerStore | undefined,
    private readonly documents: StoreDocuments,
    private readonly warn: (...args: ManagerEvents['warning']) => void,
  ) {}

  /** Marks a change for the next write (state changes are written in batches, not one by one). */
  changed(): void {
    this.#dirty = true;
  }

  /** Writes the queue and history now (serialised; concurrent calls share one write). */
  async save(): Promise<void> {
    await this.#request(true);
  }

  /**
   * Writes the queue and history soon, without waiting (with the changes that follow within the
   * gathering wait); a failure becomes a `warning`, never an unhandled rejection.
   */
  saveInBackground(): void {
    this.#request(false).catch((err: unknown) => {
      const error = isDownloadError(err) ? err : fileSystemError(err, 'write the queue');
      this.warn({ code: error.code, message: error.message });
    });
  }

  /** Writes everything a last time and closes the store (releasing its lock). */
  async close(): Promise<void> {
    await this.save();
    await this.store?.close();
  }

  async #request(soon: boolean): Promise<void> {
    this.#dirty = true;
    if (!this.store) return;
    await this.#writes.request(soon);
  }
}
