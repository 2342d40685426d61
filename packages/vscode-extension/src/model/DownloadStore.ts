import type { DownloadInfo, DownloadInfoState, HistoryInfo } from '@multiget/server/protocol';

/** States in which a download transfers or checks bytes; the status bar counts these. */
export const ACTIVE_STATES: ReadonlySet<DownloadInfoState> = new Set<DownloadInfoState>(['probing', 'downloading', 'verifying']);

/** True for `probing`, `downloading` and `verifying`. */
export function isActive(state: DownloadInfoState): boolean {
  return ACTIVE_STATES.has(state);
}

/** A download whose state changed, as seen by the store (`previous` is `undefined` for a new one). */
export interface StateTransition {
  download: DownloadInfo;
  previous: DownloadInfoState | undefined;
}

/** What {@link DownloadStore} tells its listeners after each update. */
export interface StoreChange {
  /** State changes in this update, in the order they arrived (empty for progress-only updates). */
  transitions: StateTransition[];
  /** True when the update replaced the whole list (a `multiget/list` answer after a (re)start). */
  reset: boolean;
}

/**
 * The extension's copy of the service's download list, fed by `multiget/list` and the
 * `multiget/progress` / `multiget/changed` / `multiget/removed` notifications. It keeps the
 * service's queue order and has no VS Code dependency, so its rules are unit tested.
 *
 * Notifications may race a list answer (a `changed` sent while the list was in flight), so a
 * `changed` for an unknown id adds it and a `progress` for an unknown id is ignored (its `changed`
 * is on the way).
 */
export class DownloadStore {
  #order: string[] = [];
  readonly #byId = new Map<string, DownloadInfo>();
  /** When each download last finished, from the service's history (the list does not say). */
  readonly #finishedAt = new Map<string, string>();
  readonly #listeners = new Set<(change: StoreChange) => void>();

  /** Every download, in the service's queue order. */
  all(): DownloadInfo[] {
    return this.#order.map((id) => this.#byId.get(id)!);
  }

  /** One download, or `undefined`. */
  get(id: string): DownloadInfo | undefined {
    return this.#byId.get(id);
  }

  /** When each download last completed, failed or was cancelled, by id (from the history). */
  finishedAt(): ReadonlyMap<string, string> {
    return this.#finishedAt;
  }

  /** Takes the finish times from a `multiget/history` answer (newest first). */
  history(entries: readonly Pick<HistoryInfo, 'id' | 'finishedAt'>[]): void {
    this.#finishedAt.clear();
    // Newest first: the first entry of an id is its last finish (a retried download has several).
    for (const h of entries) if (!this.#finishedAt.has(h.id)) this.#finishedAt.set(h.id, h.finishedAt);
    this.#emit({ transitions: [], reset: false });
  }

  /** Applies a `multiget/historyAdded`. */
  historyAdded(entry: Pick<HistoryInfo, 'id' | 'finishedAt'>): void {
    this.#finishedAt.set(entry.id, entry.finishedAt);
    if (this.#byId.has(entry.id)) this.#emit({ transitions: [], reset: false });
  }

  /** Number of downloads. */
  get size(): number {
    return this.#order.length;
  }

  /** Calls `listener` after every update; returns a function that removes it. */
  onDidChange(listener: (change: StoreChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Replaces everything with a fresh list. Transitions are reported for downloads whose state
   * differs from what the store had (a download that completed while the service was restarting
   * still gets its notification), but not for downloads the store never saw.
   */
  reset(downloads: readonly DownloadInfo[]): void {
    const transitions: StateTransition[] = [];
    const next = new Map<string, DownloadInfo>();
    for (const d of downloads) {
      const before = this.#byId.get(d.id);
      if (before !== undefined && before.state !== d.state) transitions.push({ download: d, previous: before.state });
      next.set(d.id, d);
    }
    this.#byId.clear();
    for (const [id, d] of next) this.#byId.set(id, d);
    this.#order = [...next.keys()];
    this.#emit({ transitions, reset: true });
  }

  /** Applies a `multiget/progress` batch (only downloads the store knows). */
  progress(downloads: readonly DownloadInfo[]): void {
    const transitions: StateTransition[] = [];
    let touched = false;
    for (const d of downloads) {
      const before = this.#byId.get(d.id);
      if (before === undefined) continue;
      if (before.state !== d.state) transitions.push({ download: d, previous: before.state });
      this.#byId.set(d.id, d);
      touched = true;
    }
    if (touched) this.#emit({ transitions, reset: false });
  }

  /** Applies a `multiget/changed`: a new download goes to the end of the list. */
  changed(download: DownloadInfo): void {
    const before = this.#byId.get(download.id);
    if (before === undefined) this.#order.push(download.id);
    this.#byId.set(download.id, download);
    const transitions = before?.state === download.state ? [] : [{ download, previous: before?.state }];
    this.#emit({ transitions, reset: false });
  }

  /** Applies a `multiget/removed`. */
  removed(id: string): void {
    this.#finishedAt.delete(id);
    if (!this.#byId.delete(id)) return;
    this.#order = this.#order.filter((x) => x !== id);
    this.#emit({ transitions: [], reset: false });
  }

  /** Forgets everything without telling anyone that states changed (the service went away). */
  clear(): void {
    this.#byId.clear();
    this.#finishedAt.clear();
    this.#order = [];
    this.#emit({ transitions: [], reset: true });
  }

  #emit(change: StoreChange): void {
    for (const listener of [...this.#listeners]) listener(change);
  }
}
