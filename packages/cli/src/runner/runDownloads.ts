import { mkdir } from 'node:fs/promises';
import {
  AbortError,
  type AddOptions,
  type Download,
  DownloadError,
  type DownloadOptions,
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
      readonly expiredLink?: { readonly file: string };
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
  // whichever comes second.
  const downloads = new Map<string, Download>();
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
    downloads.set(entry.id, download);
    attach(entry.id);
  });
  // Refused before a Download existed (e.g. the engine rejected an option): no 'started' came.
  manager.on('changed', (entry) => {
    // A download that started reports its own error, with every detail (status code, errno, URL);
    // the manager's snapshot keeps only code and message.
    if (entry.state !== 'failed' || !entry.error || downloads.has(entry.id)) return;
    for (const task of byEntry.get(entry.id) ?? []) {
      finish({ task, status: 'failed', error: new DownloadError(entry.error.code as ErrorCode, entry.error.message) });
    }
  });

  const stop = (): void => void manager.close();
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    // Added in priority order (stable): the queue starts downloads as soon as they are added, so
    // adding a high-priority task last would let lower ones take the first slots.
    const byPriority = [...tasks].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
    for (const task of byPriority) {
      if (options.signal?.aborted) break;
      try {
        if (task.createDir !== undefined) {
          await mkdir(task.createDir, { recursive: true }).catch((err: unknown) => {
            throw fileSystemError(err, `create the directory ${task.createDir}`);
          });
        }
        const entry = await manager.add(task.url, { ...addOptions(task.options), ...(task.priority !== undefined ? { priority: task.priority } : {}) });
        byEntry.set(entry.id, [...(byEntry.get(entry.id) ?? []), task]);
        attach(entry.id);
        const now = manager.get(entry.id);
        if (now.state === 'failed' && now.error && !downloads.has(entry.id)) {
          finish({ task, status: 'failed', error: new DownloadError(now.error.code as ErrorCode, now.error.message) });
        }
      } catch (err) {
        finish({ task, status: 'failed', error: toDownloadError(err) });
      }
    }
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

/** The manager's add options for a task (engine options the manager takes per download). */
function addOptions(o: DownloadTask['options']): AddOptions {
  const headers: Record<string, string> = {};
  for (const [k, v] of Array.isArray(o.headers) ? o.headers : Object.entries(o.headers ?? {})) headers[k] = v;
  const checksum = typeof o.checksum === 'object' ? `${o.checksum.algorithm}=${o.checksum.hex}` : o.checksum;
  const pick: AddOptions = {
    ...(o.output !== undefined ? { output: o.output } : {}),
    ...(o.dir !== undefined && o.output === undefined ? { dir: o.dir } : {}),
    ...(o.connections !== undefined ? { connections: o.connections } : {}),
    ...(checksum !== undefined ? { checksum } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(o.credentials !== undefined ? { credentials: o.credentials } : {}),
    ...(o.rateLimit !== undefined ? { rateLimit: o.rateLimit } : {}),
    ...(o.retries !== undefined ? { retries: o.retries } : {}),
    ...(o.stallTimeoutMs !== undefined ? { stallTimeoutMs: o.stallTimeoutMs } : {}),
    ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
    ...(o.minSplitSize !== undefined ? { minSplitSize: o.minSplitSize } : {}),
    ...(o.mirrors !== undefined && o.mirrors.length > 0 ? { mirrors: o.mirrors.map(String) } : {}),
    ...(o.pieces !== undefined ? { pieces: o.pieces } : {}),
    ...(o.existing !== undefined ? { existing: o.existing } : o.overwrite ? { existing: 'overwrite' as const } : {}),
  };
  return pick;
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export type { DownloadOptions };
