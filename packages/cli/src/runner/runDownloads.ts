import { mkdir } from 'node:fs/promises';
import {
  AbortError,
  type Download,
  DownloadError,
  type DownloadResult,
  type ErrorCode,
  type Manager,
  fileSystemError,
  isLinkExpiry,
  toDownloadError,
} from '@multiget/core';
import type { DownloadTask } from './buildTasks.js';

/** How one task ended. `skipped`: never started, because the run was interrupted first. */
export type TaskOutcome =
  | { readonly task: DownloadTask; readonly status: 'done'; readonly result: DownloadResult }
  | {
      readonly task: DownloadTask;
      readonly status: 'failed';
      readonly error: DownloadError;
      /** Set when the server stopped accepting the link mid-download: the partial file, kept for a new link. */
      readonly expiredLink?: {
        /** The partial file a fresh link continues (`multiget NEWURL -o FILE`). */
        readonly file: string;
      };
    }
  | { readonly task: DownloadTask; readonly status: 'skipped' };

/** Told when a task starts and ends; a display implements it. */
export interface RunObserver {
  /** The manager started the task's download; subscribe to its events here. */
  started(task: DownloadTask, download: Download): void;
  /** The task ended (also when it was refused before starting). */
  finished(outcome: TaskOutcome): void;
}

/** Options of {@link runDownloads}. */
export interface RunOptions {
  /** Aborts every running download (keeping partial data) and starts no more. */
  signal?: AbortSignal;
}

/**
 * Runs the tasks through the download manager (its queue runs at most `maxConcurrent` at a time,
 * in input order). Never rejects: every task's outcome is in the result, at its `index`.
 */
export async function runDownloads(
  manager: Manager,
  tasks: readonly DownloadTask[],
  options: RunOptions,
  observer: RunObserver,
): Promise<TaskOutcome[]> {
  const outcomes: TaskOutcome[] = [];
  const byEntry = new Map<string, DownloadTask[]>();
  const pending: Promise<void>[] = [];
  const finish = (outcome: TaskOutcome): void => {
    if (outcomes[outcome.task.index]) return;
    outcomes[outcome.task.index] = outcome;
    observer.finished(outcome);
  };
  // 'started' can fire inside add(), before the task is mapped to its entry: join the two
  // whichever comes second. A later task of the list may map to the same entry, so a download is
  // held until it ends and every task is added; then let go, so that a long list keeps only the
  // outcomes of the downloads that ended, not the downloads (with their storage and digests).
  const startedIds = new Set<string>();
  const downloads = new Map<string, Download>();
  const ended: [string, Download][] = [];
  let adding = true;
  const release = (entryId: string, download: Download): void => {
    if (adding) ended.push([entryId, download]);
    else if (downloads.get(entryId) === download) downloads.delete(entryId);
  };
  const attached = new Set<DownloadTask>();
  const attach = (entryId: string): void => {
    const download = downloads.get(entryId);
    if (!download) return;
    for (const task of byEntry.get(entryId) ?? []) {
      if (attached.has(task)) continue;
      attached.add(task);
      observer.started(task, download);
      pending.push(
        download.done.then(
          (result) => finish({ task, status: 'done', result }),
          (err: unknown) => {
            const error = toDownloadError(err);
            const file = download.file;
            finish({ task, status: 'failed', error, ...(file !== undefined && isLinkExpiry(error, download) ? { expiredLink: { file } } : {}) });
          },
        ),
      );
    }
  };
  manager.on('started', (entry, download) => {
    startedIds.add(entry.id);
    downloads.set(entry.id, download);
    attach(entry.id);
    download.done.then(
      () => release(entry.id, download),
      () => release(entry.id, download),
    );
  });
  // Copied from the content store: no transfer, so no Download; the result says where it came from.
  const cached = new Map<string, DownloadResult>();
  const finishCached = (entryId: string): void => {
    const result = cached.get(entryId);
    if (result) for (const task of byEntry.get(entryId) ?? []) finish({ task, status: 'done', result });
  };
  manager.on('cached', (entry, result) => {
    cached.set(entry.id, result);
    finishCached(entry.id);
  });
  // Refused before a Download existed (e.g. the engine rejected an option): no 'started' came.
  manager.on('changed', (entry) => {
    // A download that started reports its own error, with every detail (status code, errno, URL);
    // the manager's snapshot keeps only code and message.
    if (entry.state !== 'failed' || !entry.error || startedIds.has(entry.id)) return;
    for (const task of byEntry.get(entry.id) ?? []) {
      finish({ task, status: 'failed', error: new DownloadError(entry.error.code as ErrorCode, entry.error.message) });
    }
  });

  const stop = (): void => void manager.close();
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    // Added in priority order (stable): the queue starts downloads as soon as they are added, so
    // adding a high-priority task last would let lower ones take the first slots.
    const byPriority = [...tasks].sort((a, b) => (b.options.priority ?? 0) - (a.options.priority ?? 0));
    for (const task of byPriority) {
      if (options.signal?.aborted) break;
      try {
        if (task.createDir !== undefined) {
          await mkdir(task.createDir, { recursive: true }).catch((err: unknown) => {
            throw fileSystemError(err, `create the directory ${task.createDir}`);
          });
        }
        const entry = await manager.add(task.parsedUrl, task.options);
        byEntry.set(entry.id, [...(byEntry.get(entry.id) ?? []), task]);
        attach(entry.id);
        finishCached(entry.id);
        const now = manager.get(entry.id);
        if (now.state === 'failed' && now.error && !startedIds.has(entry.id)) {
          finish({ task, status: 'failed', error: new DownloadError(now.error.code as ErrorCode, now.error.message) });
        }
      } catch (err) {
        finish({ task, status: 'failed', error: toDownloadError(err) });
      }
    }
    adding = false;
    for (const [entryId, download] of ended.splice(0)) release(entryId, download);
    if (!options.signal?.aborted) await Promise.race([manager.idle(), aborted(options.signal)]);
    if (options.signal?.aborted) await manager.close();
    // Downloads paused by an interrupt keep `done` pending: they end here, as aborted.
    const settled = Promise.all(pending);
    await (options.signal?.aborted ? Promise.race([settled, Promise.resolve()]) : settled);
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
  for (const task of tasks) {
    if (outcomes[task.index]) continue;
    const started = [...byEntry.values()].some((list) => list.includes(task));
    finish(
      started && options.signal?.aborted
        ? { task, status: 'failed', error: new AbortError('Interrupted; the partial data was kept for resuming') }
        : { task, status: 'skipped' },
    );
  }
  return outcomes;
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

