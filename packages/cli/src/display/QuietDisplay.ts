import type { DigestAlgorithm } from '@multiget/core';
import type { DownloadTask } from '../runner/buildTasks.js';
import type { TaskOutcome } from '../runner/runDownloads.js';
import { checksumLine, errorLine, failedLine, isInterruption } from './lines.js';
import type { Reporter, ReporterContext } from './Reporter.js';

/**
 * `-q`: nothing while downloading; when something failed, its error line once the run is over,
 * so a script's log holds exactly the failures.
 */
export class QuietDisplay implements Reporter {
  readonly #pending: string[] = [];
  #closed = false;

  constructor(private readonly ctx: ReporterContext) {}

  started(_task: DownloadTask): void {}

  finished(outcome: TaskOutcome): void {
    if (outcome.status !== 'failed' || isInterruption(outcome.error)) return;
    this.#pending.push(failedLine(this.ctx.palette, this.ctx.redactor, outcome.task, outcome.error, this.ctx.multiple, outcome.expiredLink));
  }

  checksum(_task: DownloadTask, file: string, _algorithm: DigestAlgorithm, hex: string): void {
    this.ctx.stdout.write(checksumLine(file, hex));
  }

  log(line: string): void {
    // Asked for explicitly (-v, --log-level), so printed even in quiet mode.
    this.ctx.stderr.write(line);
  }

  error(message: string, code?: string): void {
    this.ctx.stderr.write(errorLine(this.ctx.palette, this.ctx.redactor.text(message), code));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const line of this.#pending.splice(0)) this.ctx.stderr.write(line);
  }
}
