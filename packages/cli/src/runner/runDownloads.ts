import { mkdir } from 'node:fs/promises';
import {
  type Download,
  type DownloadError,
  type DownloadOptions,
  type DownloadResult,
  fileSystemError,
  toDownloadError,
} from '@multiget/core';
import type { DownloadTask } from './buildTasks.js';

/** How one task ended. `skipped`: never started, because the run was interrupted first. */
export type TaskOutcome =
  | { readonly task: DownloadTask; readonly status: 'done'; readonly result: DownloadResult }
  | { readonly task: DownloadTask; readonly status: 'failed'; readonly error: DownloadError }
  | { readonly task: DownloadTask; readonly status: 'skipped' };

/** What the runner needs of the engine: `Multiget` has it. */
export interface DownloadStarter {
  download(url: string, options: DownloadOptions): Download;
}

/** Told when a task starts and ends; a display implements it. */
export interface RunObserver {
  /** The engine accepted the task; subscribe to the download's events here. */
  started(task: DownloadTask, download: Download): void;
  /** The task ended (also when the engine rejected it before starting). */
  finished(outcome: TaskOutcome): void;
}

/** Options of {@link runDownloads}. */
export interface RunOptions {
  /** Downloads at once, at least 1. */
  concurrency: number;
  /** Aborts every running download (keeping partial data) and starts no more. */
  signal?: AbortSignal;
}

/**
 * Runs the tasks on one engine, at most `concurrency` at a time, in input order. Never rejects:
 * every task's outcome is in the result, at its `index`. A stand-in for the manager's queue,
 * which will replace it; so it stays this small.
 */
export async function runDownloads(
  engine: DownloadStarter,
  tasks: readonly DownloadTask[],
  options: RunOptions,
  observer: RunObserver,
): Promise<TaskOutcome[]> {
  const outcomes: TaskOutcome[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const task = tasks[next++]!;
      outcomes[task.index] = options.signal?.aborted
        ? { task, status: 'skipped' }
        : await runOne(engine, task, options.signal, observer);
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency, tasks.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return outcomes;
}

async function runOne(
  engine: DownloadStarter,
  task: DownloadTask,
  signal: AbortSignal | undefined,
  observer: RunObserver,
): Promise<TaskOutcome> {
  let outcome: TaskOutcome;
  try {
    if (task.createDir !== undefined) {
      await mkdir(task.createDir, { recursive: true }).catch((err: unknown) => {
        throw fileSystemError(err, `create the directory ${task.createDir}`);
      });
    }
    const download = engine.download(task.url, { ...task.options, id: task.id, ...(signal ? { signal } : {}) });
    observer.started(task, download);
    outcome = { task, status: 'done', result: await download.done };
  } catch (err) {
    outcome = { task, status: 'failed', error: toDownloadError(err) };
  }
  observer.finished(outcome);
  return outcome;
}
