import type { DigestAlgorithm, Download, Progress } from '@multiget/core';
import type { DownloadTask } from '../runner/buildTasks.js';
import type { TaskOutcome } from '../runner/runDownloads.js';
import {
  doneLine,
  errorLine,
  failedLine,
  fileName,
  isInterruption,
  progressLine,
  restartLine,
  retryLine,
  startLine,
  stoppedLine,
  taskName,
  warningLine,
  checksumLine,
} from './lines.js';
import type { Reporter, ReporterContext } from './Reporter.js';

/** Plain output for logs and pipes: a progress line per download at most this often. */
export const PLAIN_PROGRESS_INTERVAL_MS = 5000;

interface Entry {
  name: string;
  lastLine: number;
  progress: Progress | undefined;
  resumedBytes: number;
}

/**
 * Line-oriented output for when stderr is not a terminal: start, occasional progress, retries,
 * done or failed. Never moves the cursor, and colours only when FORCE_COLOR asks for them, so logs
 * stay greppable.
 */
export class PlainDisplay implements Reporter {
  readonly #entries = new Map<string, Entry>();

  constructor(private readonly ctx: ReporterContext) {}

  started(task: DownloadTask, download: Download): void {
    const entry: Entry = { name: taskName(task), lastLine: performance.now(), progress: undefined, resumedBytes: 0 };
    this.#entries.set(task.id, entry);
    const { palette, redactor } = this.ctx;
    download.on('start', (info) => {
      entry.name = fileName(info.file);
      entry.resumedBytes = info.resumedBytes;
      entry.lastLine = performance.now();
      this.#write(startLine(task.label, info));
    });
    download.on('progress', (p) => {
      entry.progress = p;
      const now = performance.now();
      if (now - entry.lastLine < PLAIN_PROGRESS_INTERVAL_MS) return;
      entry.lastLine = now;
      this.#write(progressLine(entry.name, p));
    });
    download.on('retry', (info) => this.#write(retryLine(palette, redactor, entry.name, info)));
    download.on('restart', (info) => this.#write(restartLine(palette, redactor, entry.name, info.reason)));
    download.on('warning', (info) => this.#write(warningLine(palette, redactor, entry.name, info)));
  }

  finished(outcome: TaskOutcome): void {
    const entry = this.#entries.get(outcome.task.id);
    this.#entries.delete(outcome.task.id);
    const { palette, redactor, multiple } = this.ctx;
    if (outcome.status === 'done') this.#write(doneLine(palette, outcome.result, entry?.resumedBytes));
    else if (outcome.status === 'failed') {
      this.#write(
        isInterruption(outcome.error)
          ? stoppedLine(palette, entry?.name ?? taskName(outcome.task), entry?.progress)
          : failedLine(palette, redactor, outcome.task, outcome.error, multiple, outcome.expiredLink),
      );
    }
  }

  checksum(_task: DownloadTask, file: string, _algorithm: DigestAlgorithm, hex: string): void {
    this.ctx.stdout.write(checksumLine(file, hex));
  }

  log(line: string): void {
    this.#write(line);
  }

  error(message: string, code?: string): void {
    this.#write(errorLine(this.ctx.palette, this.ctx.redactor.text(message), code));
  }

  close(): void {
    this.#entries.clear();
  }

  #write(text: string): void {
    this.ctx.stderr.write(text);
  }
}
