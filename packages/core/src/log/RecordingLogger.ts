import { formatLogMessage } from './format.js';
import type { LogFields, LogLevel, Logger } from './Logger.js';

/** One line a {@link RecordingLogger} received. */
export interface RecordedLine {
  /** Its level. */
  readonly level: LogLevel;
  /** Its message, as the logger got it (redacted). */
  readonly msg: string;
  /** Its fields, as the logger got them (redacted), if any. */
  readonly fields: LogFields | undefined;
}

/**
 * A logger that keeps every line, for tests: which events a download logged, at which level, and
 * (with {@link RecordingLogger.text}) everything it wrote, to search for secrets.
 */
export class RecordingLogger implements Logger {
  /** Every line, oldest first. */
  readonly lines: RecordedLine[] = [];

  /** Keeps a line at `error`. */
  error(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'error', msg, fields });
  }
  /** Keeps a line at `warn`. */
  warn(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'warn', msg, fields });
  }
  /** Keeps a line at `info`. */
  info(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'info', msg, fields });
  }
  /** Keeps a line at `debug`. */
  debug(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'debug', msg, fields });
  }
  /** Keeps a line at `trace`. */
  trace(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'trace', msg, fields });
  }

  /** The messages at `level` (every level when omitted), in order. */
  messages(level?: LogLevel): string[] {
    return this.lines.filter((l) => level === undefined || l.level === level).map((l) => l.msg);
  }

  /** The first line with message `msg`, if any. */
  find(msg: string): RecordedLine | undefined {
    return this.lines.find((l) => l.msg === msg);
  }

  /** Every line as text (`LEVEL msg key=value ...`), one per line. */
  text(): string {
    return this.lines.map((l) => `${l.level.toUpperCase()} ${formatLogMessage(l.msg, l.fields)}`).join('\n');
  }
}
