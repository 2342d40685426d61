/**
 * The downloads one "Download Folder…" queued, followed until the last of them ends, so that a
 * folder of a thousand files says "Downloaded folder" once instead of a thousand times. Kept per
 * window in memory: after a reload the files of a folder still running speak one by one again.
 */

/** How a folder's downloads ended, told when the last one did. */
export interface FolderOutcome {
  /** The local folder the files went into. */
  folder: string;
  /** Files that completed. */
  completed: number;
  /** Files that failed (each said so itself). */
  failed: number;
  /** Files removed or cancelled before they finished. */
  canceled: number;
}

interface Batch extends FolderOutcome {
  pending: number;
}

/** The folders being downloaded, by the ids of their downloads. */
export class FolderBatches {
  readonly #byId = new Map<string, Batch>();

  /** Follows the downloads `ids` that one folder request queued into `folder`. */
  add(folder: string, ids: readonly string[]): void {
    const fresh = ids.filter((id) => !this.#byId.has(id));
    if (fresh.length === 0) return;
    const batch: Batch = { folder, completed: 0, failed: 0, canceled: 0, pending: fresh.length };
    for (const id of fresh) this.#byId.set(id, batch);
  }

  /** True when `id` is one of a folder's downloads still followed. */
  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /**
   * Download `id` ended. Returns its folder's outcome when it was the folder's last download,
   * `'pending'` when others of its folder still run, `undefined` when it belongs to no folder.
   */
  ended(id: string, how: 'completed' | 'failed' | 'canceled'): FolderOutcome | 'pending' | undefined {
    const batch = this.#byId.get(id);
    if (batch === undefined) return undefined;
    this.#byId.delete(id);
    batch[how]++;
    batch.pending--;
    if (batch.pending > 0) return 'pending';
    const { folder, completed, failed, canceled } = batch;
    return { folder, completed, failed, canceled };
  }
}

/** The one line said when a folder's last download ended. */
export function folderOutcomeMessage(o: FolderOutcome, name: string): string {
  const total = o.completed + o.failed + o.canceled;
  const files = (n: number): string => `${n} file${n === 1 ? '' : 's'}`;
  if (o.failed === 0 && o.canceled === 0) return `Downloaded folder ${name} (${files(o.completed)})`;
  const notes = [o.failed > 0 ? `${o.failed} failed` : '', o.canceled > 0 ? `${o.canceled} cancelled` : ''].filter((n) => n !== '');
  return `Downloaded folder ${name}: ${o.completed} of ${files(total)} (${notes.join(', ')})`;
}
