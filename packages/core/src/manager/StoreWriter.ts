import { fileSystemError, isDownloadError } from '../errors.js';
import type { HistoryDocument, ManagerStore, QueueDocument } from './store/ManagerStore.js';
import type { ManagerEvents } from './types.js';
import { CoalescedWrites } from '../util/CoalescedWrites.js';

/** The documents a write puts in the store, taken when the write's turn comes. */
export type StoreDocuments = () => { queue: QueueDocument; history: HistoryDocument };

/**
 * Keeps a manager's store up to date with its queue and history. A change is marked with
 * `changed()` and written by the next `save()` (awaited) or `saveInBackground()`. Writes never
 * overlap; each writes the newest state when its turn comes, and none is made when an earlier
 * write already took every change. One failed write does not stop the next from trying again.
 * Without a store, nothing is written.
 */
export class StoreWriter {
  #dirty = false;
  readonly #writes = new CoalescedWrites(async () => {
    if (!this.#dirty || !this.store) return;
    this.#dirty = false;
    const docs = this.documents();
    await this.store.write('queue', docs.queue);
    await this.store.write('history', docs.history);
  });

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
    this.#dirty = true;
    if (!this.store) return;
    await this.#writes.request();
  }

  /** `save()` without waiting; a failure becomes a `warning`, never an unhandled rejection. */
  saveInBackground(): void {
    this.save().catch((err: unknown) => {
      const error = isDownloadError(err) ? err : fileSystemError(err, 'write the queue');
      this.warn({ code: error.code, message: error.message });
    });
  }

  /** Writes everything a last time and closes the store (releasing its lock). */
  async close(): Promise<void> {
    await this.save();
    await this.store?.close();
  }
}
