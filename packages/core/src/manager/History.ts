import type { DownloadError } from '../errors.js';
import { ErrorCodes } from '../errors.js';
import { redactUrl } from '../storage/StateFile.js';
import type { DownloadResult } from '../types.js';
import type { Entry } from './Queue.js';
import type { HistoryEntry } from './types.js';

/** Finished, failed and cancelled downloads, newest first, capped at `limit`. */
export class History {
  #entries: HistoryEntry[] = [];

  constructor(private readonly limit: number) {}

  /** The entries, newest first (a copy). */
  list(): HistoryEntry[] {
    return [...this.#entries];
  }

  /** Replaces the entries (loaded from the store). */
  restore(entries: HistoryEntry[]): void {
    this.#entries = entries.slice(0, this.limit);
  }

  /** Keeps only the entries `keep` accepts. */
  filter(keep: (h: HistoryEntry) => boolean): void {
    this.#entries = this.#entries.filter(keep);
  }

  /** Records how `e` ended and returns the new entry. */
  record(e: Entry, result: DownloadResult | undefined, error: DownloadError | undefined): HistoryEntry {
    const durationMs = result?.durationMs ?? Math.round(e.startedAt ? performance.now() - e.startedAt : 0);
    const h: HistoryEntry = {
      id: e.id,
      url: redactUrl(e.url),
      file: result?.file ?? e.file,
      size: result?.size ?? e.total,
      digest: result?.digest ? { algorithm: result.digest.algorithm, hex: result.digest.hex } : undefined,
      state: result ? 'completed' : error?.code === ErrorCodes.ABORTED ? 'canceled' : 'failed',
      errorCode: error?.code,
      errorMessage: error?.message,
      durationMs,
      averageSpeed: result && durationMs > 0 ? Math.round((result.size * 1000) / durationMs) : 0,
      finishedAt: new Date().toISOString(),
      ...(result?.fromCache ? { fromCache: { ...result.fromCache } } : {}),
    };
    this.#entries.unshift(h);
    if (this.#entries.length > this.limit) this.#entries.length = this.limit;
    return h;
  }
}
