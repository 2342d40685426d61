/** Log levels, from the least to the most verbose. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'trace'] as const;

/**
 * How much a log says:
 * - `error`: a download failed.
 * - `warn`: something went wrong and was handled: a retry and why, a restart, a warning event.
 * - `info`: a download's start and end, state changes, fallbacks (no ranges: one stream).
 * - `debug`: decisions: redirects, connection counts, splits, pool reuse, TLS and host-key checks.
 * - `trace`: every range request and its end, every checkpoint.
 */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A {@link LogLevel}, or `off` for nothing at all. */
export type LogSetting = LogLevel | 'off';

/**
 * Structured context of a log line. Names used by Multiget: `download` (id), `connection`
 * (number), `range` (`start-end`, end exclusive), `attempt`, `host`, `code` (an `MG_ERR_*` or
 * `MG_WARN_*`), `url` (always redacted).
 */
export type LogFields = Record<string, unknown>;

/**
 * Any logger with the usual five methods, each taking a message and optional fields: `console`,
 * or an adapter for a logger that takes its fields first (see {@link fieldsFirst} for pino and
 * bunyan). Multiget never passes a secret to it.
 */
export interface Logger {
  /** A line at `error`: a download failed. */
  error(msg: string, fields?: LogFields): void;
  /** A line at `warn`: something went wrong and was handled. */
  warn(msg: string, fields?: LogFields): void;
  /** A line at `info`: a download's milestones. */
  info(msg: string, fields?: LogFields): void;
  /** A line at `debug`: a decision. */
  debug(msg: string, fields?: LogFields): void;
  /** A line at `trace`: each request, range and checkpoint. */
  trace(msg: string, fields?: LogFields): void;
}

/** A logger whose methods take the fields first, as pino and bunyan do: `log.info({ a: 1 }, 'msg')`. */
export interface FieldsFirstLogger {
  /** A line at `error`, fields first. */
  error(fields: LogFields, msg: string): void;
  /** A line at `warn`, fields first. */
  warn(fields: LogFields, msg: string): void;
  /** A line at `info`, fields first. */
  info(fields: LogFields, msg: string): void;
  /** A line at `debug`, fields first. */
  debug(fields: LogFields, msg: string): void;
  /** A line at `trace`, fields first. */
  trace(fields: LogFields, msg: string): void;
}

/**
 * Adapts a logger that takes its fields first (pino, bunyan) to {@link Logger}.
 *
 * @example
 * import pino from 'pino';
 * const mg = new Multiget({ logger: fieldsFirst(pino({ level: 'debug' })), logLevel: 'debug' });
 */
export function fieldsFirst(target: FieldsFirstLogger): Logger {
  return {
    error: (msg, fields) => target.error(fields ?? {}, msg),
    warn: (msg, fields) => target.warn(fields ?? {}, msg),
    info: (msg, fields) => target.info(fields ?? {}, msg),
    debug: (msg, fields) => target.debug(fields ?? {}, msg),
    trace: (msg, fields) => target.trace(fields ?? {}, msg),
  };
}

/** Rank of each level: a line is written when its rank is at most the setting's. */
export const LEVEL_RANK: Readonly<Record<LogSetting, number>> = { off: -1, error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

/** Whether `value` is a {@link LogSetting}. */
export function isLogSetting(value: unknown): value is LogSetting {
  return typeof value === 'string' && Object.hasOwn(LEVEL_RANK, value);
}
