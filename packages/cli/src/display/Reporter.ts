import type { DigestAlgorithm } from '@multiget/core';
import type { DownloadTask } from '../runner/buildTasks.js';
import type { RunObserver } from '../runner/runDownloads.js';
import type { Redactor } from '../redact.js';
import type { Palette } from './Palette.js';

/** Where a display writes: `process.stdout` / `process.stderr`, or anything shaped like them. */
export interface TextOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  /** Terminal width, when a terminal. */
  readonly columns?: number;
}

/** What every display needs. */
export interface ReporterContext {
  readonly stdout: TextOutput;
  readonly stderr: TextOutput;
  readonly palette: Palette;
  /** Every message from the engine passes through it before it is printed. */
  readonly redactor: Redactor;
  /** Terminal width to assume when the terminal does not tell (`COLUMNS`). */
  readonly fallbackColumns?: number;
  /** True when the terminal cannot move its cursor (`TERM=dumb`): plain lines, as for a pipe. */
  readonly dumbTerminal?: boolean;
  /** False with `--no-segment-map`: no segment map under the live progress bars. */
  readonly segmentMap?: boolean;
  /** True when there are several downloads, so lines name the one they are about. */
  readonly multiple: boolean;
}

/**
 * A way of showing a run: live terminal display, plain lines, JSON events, or quiet. The runner
 * tells it when downloads start and end; it subscribes to each download's events itself.
 */
export interface Reporter extends RunObserver {
  /** An error not tied to one download (`multiget: <message> [code]`), printed in every mode. */
  error(message: string, code?: string): void;
  /**
   * The digest of a finished file (`--print-checksum`): `HEX  FILE` on stdout, or a JSON event.
   * Called after `close()`, once every download has ended.
   */
  checksum(task: DownloadTask, file: string, algorithm: DigestAlgorithm, hex: string): void;
  /** A log line (`-v`, `--log-level`), already formatted and redacted: on stderr, above any live display. */
  log(line: string): void;
  /** Flushes what is buffered, stops timers and leaves the terminal as it was. Idempotent. */
  close(): void;
}
