import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { ErrorCodes, type LogFields, type LogLevel, type Logger, UsageError, formatLogLine } from '@multiget/core';
import type { Redactor } from '../redact.js';

/**
 * The CLI's logger (`-v`, `--log FILE`, `--log-level`): one line per record, `ISO-TIME LEVEL
 * message key=value ...`, appended to the log file or written to stderr, never to stdout. Every
 * line passes through the run's {@link Redactor} on top of core's redaction, so a password given
 * with `-u` cannot reach the log whatever a server echoes.
 */
export class LogOutput implements Logger {
  readonly #redactor: Redactor;
  #fd: number | undefined;
  /** Where terminal lines go: stderr first, then the display (which keeps its live area intact). */
  #toTerminal: (line: string) => void;

  private constructor(redactor: Redactor, fd: number | undefined, stderr: (line: string) => void) {
    this.#redactor = redactor;
    this.#fd = fd;
    this.#toTerminal = stderr;
  }

  /**
   * A log written to stderr, or appended to `file` (created with mode 0600; never through a
   * symbolic link, never truncated).
   *
   * @throws UsageError `MG_ERR_INVALID_OPTION` when the file cannot be opened.
   */
  static open(file: string | undefined, redactor: Redactor, stderr: (line: string) => void): LogOutput {
    if (file === undefined) return new LogOutput(redactor, undefined, stderr);
    let fd: number;
    try {
      fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason = code === 'ELOOP' ? 'it is a symbolic link' : (code ?? String(err));
      throw new UsageError(ErrorCodes.INVALID_OPTION, `Cannot open --log ${file} (${reason})`, { cause: err });
    }
    return new LogOutput(redactor, fd, stderr);
  }

  /** True when lines go to a file rather than the terminal. */
  get toFile(): boolean {
    return this.#fd !== undefined;
  }

  /** Sends terminal lines through `write` from now on (the display prints them above its live area). */
  routeTerminal(write: (line: string) => void): void {
    this.#toTerminal = write;
  }

  error(msg: string, fields?: LogFields): void {
    this.#line('error', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#line('warn', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#line('info', msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.#line('debug', msg, fields);
  }
  trace(msg: string, fields?: LogFields): void {
    this.#line('trace', msg, fields);
  }

  /** Closes the log file. Later lines go nowhere. Idempotent. */
  close(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    this.#toTerminal = () => undefined;
    closeSync(fd);
  }

  #line(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    const line = `${this.#redactor.text(formatLogLine(level, msg, fields))}\n`;
    // Synchronous: lines keep their order with the display's, and a crash loses none of them.
    if (this.#fd !== undefined) writeSync(this.#fd, line);
    else this.#toTerminal(line);
  }
}
