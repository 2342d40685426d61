import type { DigestAlgorithm, Download } from '@multiget/core';
import type { DownloadTask } from '../runner/buildTasks.js';
import type { TaskOutcome } from '../runner/runDownloads.js';
import { errorLine, failedLine, isInterruption } from './lines.js';
import type { Reporter, ReporterContext } from './Reporter.js';

/** The `type` of a JSON event. */
export type JsonEventType = 'start' | 'progress' | 'retry' | 'restart' | 'warning' | 'done' | 'failed' | 'checksum';

/** One line of `--json` output. `url` never holds credentials. */
export interface JsonEvent {
  type: JsonEventType;
  /** The download's id; every event of one download carries the same. */
  id: string;
  /** The URL as given, without credentials. */
  url: string;
  [field: string]: unknown;
}

/**
 * `--json`: one JSON object per line on stdout for every event of every download, and nothing else
 * on stdout. Error lines still go to stderr for a human watching. Events:
 * - `start`: `file`, `size` (absent when unknown), `ranges`, `resumedBytes`, `finalUrl`
 * - `progress`: `bytesDone`, `total`, `speed` (bytes/s), `eta` (s), `connections`
 * - `retry`: `attempt`, `delayMs`, `error`; `restart`: `reason`; `warning`: `code`, `message`
 * - `done`: `file`, `size`, `finalUrl`, `digest`, `verified`, `checksum` (when verified: `algorithm`,
 *   and `source`: the checksum file's URL, `user` or `server`), `resumed`, `restarts`, `durationMs`
 * - `failed`: `error`: every field of the DownloadError (`name`, `code`, `message`, and when known
 *   `statusCode`, `ftpCode`, `sftpCode`, `errno`, `retryAfterMs`, `url` without credentials); and
 *   `expiredLink`: `{ file }` when the server stopped accepting the link mid-download (the partial
 *   file kept for `multiget NEWURL -o FILE`)
 * - `checksum` (with `--print-checksum`, after every download ended): `file`, `algorithm`, `hex`
 */
export class JsonDisplay implements Reporter {
  constructor(private readonly ctx: ReporterContext) {}

  started(task: DownloadTask, download: Download): void {
    download.on('start', (info) =>
      this.#emit(task, 'start', {
        file: info.file,
        size: info.size,
        ranges: info.ranges,
        resumedBytes: info.resumedBytes,
        finalUrl: info.url,
      }),
    );
    download.on('progress', (p) =>
      this.#emit(task, 'progress', {
        bytesDone: p.bytesDone,
        total: p.total,
        speed: Math.round(p.speed),
        eta: p.eta === undefined ? undefined : Math.round(p.eta * 10) / 10,
        connections: p.connections,
      }),
    );
    download.on('retry', (info) =>
      this.#emit(task, 'retry', { attempt: info.attempt, delayMs: info.delayMs, error: info.error.toJSON() }),
    );
    download.on('restart', (info) => this.#emit(task, 'restart', { reason: info.reason }));
    download.on('warning', (info) => this.#emit(task, 'warning', { code: info.code, message: info.message }));
  }

  finished(outcome: TaskOutcome): void {
    const { task } = outcome;
    if (outcome.status === 'done') {
      const r = outcome.result;
      this.#emit(task, 'done', {
        file: r.file,
        size: r.size,
        finalUrl: r.url,
        digest: r.digest,
        verified: r.verified,
        ...(r.checksum ? { checksum: r.checksum } : {}),
        resumed: r.resumed,
        restarts: r.restarts,
        durationMs: r.durationMs,
        ...(r.fromCache ? { fromCache: { path: r.fromCache.path } } : {}),
      });
    } else if (outcome.status === 'failed') {
      this.#emit(task, 'failed', { error: outcome.error.toJSON(), ...(outcome.expiredLink ? { expiredLink: outcome.expiredLink } : {}) });
      if (!isInterruption(outcome.error)) {
        this.ctx.stderr.write(failedLine(this.ctx.palette, this.ctx.redactor, task, outcome.error, this.ctx.multiple, outcome.expiredLink));
      }
    }
  }

  checksum(task: DownloadTask, file: string, algorithm: DigestAlgorithm, hex: string): void {
    this.#emit(task, 'checksum', { file, algorithm, hex });
  }

  log(line: string): void {
    // Never stdout: it carries the JSON events only.
    this.ctx.stderr.write(line);
  }

  error(message: string, code?: string): void {
    this.ctx.stderr.write(errorLine(this.ctx.palette, this.ctx.redactor.text(message), code));
  }

  close(): void {}

  #emit(task: DownloadTask, type: JsonEventType, fields: Record<string, unknown>): void {
    const event: JsonEvent = this.ctx.redactor.json({ type, id: task.id, url: task.label, ...fields });
    this.ctx.stdout.write(`${JSON.stringify(event)}\n`);
  }
}
