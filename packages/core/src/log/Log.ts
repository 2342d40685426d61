import { ErrorCodes, UsageError } from '../errors.js';
import { LEVEL_RANK, LOG_LEVELS, type LogFields, type LogLevel, type LogSetting, type Logger, isLogSetting } from './Logger.js';
import { redactFields, redactText } from './redact.js';

/** Fields, or a function that builds them: it runs only when the line is written. */
export type LazyFields = LogFields | (() => LogFields);

/** What every {@link Log} derived from one root shares: where lines go and the level. */
interface LogTarget {
  readonly logger: Logger | undefined;
  rank: number;
}

/**
 * Multiget's logger front: filters by level, adds bound fields (the download's id), and redacts
 * every message and field before the {@link Logger} sees it. When a level is off a call returns
 * after one comparison, and fields given as a function are never built, so code on busy paths
 * writes `log.trace('range', () => ({ ... }))` or checks {@link Log.enabled} first.
 *
 * Children ({@link Log.child}) share their root's logger and level: {@link Log.setLevel} on any of
 * them changes all.
 */
export class Log implements Logger {
  /** A log that writes nothing, for code given no log. */
  static readonly silent: Log = new Log({ logger: undefined, rank: LEVEL_RANK.off }, undefined);

  readonly #target: LogTarget;
  readonly #bound: LogFields | undefined;

  private constructor(target: LogTarget, bound: LogFields | undefined) {
    this.#target = target;
    this.#bound = bound;
  }

  /**
   * A root log writing to `logger` at `level`. Without a level, a logger that tells its own (pino's
   * `level` property: `info`, `debug`, ...; `silent` is off, `fatal` is error) sets it, else `info`.
   * Without a logger, nothing is written whatever the level.
   *
   * @throws UsageError `MG_ERR_INVALID_OPTION` when the logger lacks one of error, warn, info or
   * debug (trace falls back to debug), or the level is not a {@link LogSetting}.
   */
  static create(logger: Logger | undefined, level?: LogSetting): Log {
    if (logger === undefined) return new Log({ logger: undefined, rank: LEVEL_RANK.off }, undefined);
    if (level !== undefined && !isLogSetting(level)) {
      throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid logLevel "${String(level)}" (${[...LOG_LEVELS, 'off'].join(', ')})`);
    }
    const setting = level ?? levelOf(logger) ?? 'info';
    return new Log({ logger: normalize(logger), rank: LEVEL_RANK[setting] }, undefined);
  }

  /** The level lines are written at (`off` when nothing is). */
  get level(): LogSetting {
    if (this.#target.logger === undefined) return 'off';
    return (Object.keys(LEVEL_RANK) as LogSetting[]).find((k) => LEVEL_RANK[k] === this.#target.rank) ?? 'off';
  }

  /** Whether this log has a logger at all (whatever its level now). */
  get attached(): boolean {
    return this.#target.logger !== undefined;
  }

  /** Changes the level of this log, of its root and of every child (running downloads included). */
  setLevel(level: LogSetting): void {
    if (!isLogSetting(level)) throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid log level "${String(level)}"`);
    this.#target.rank = LEVEL_RANK[level];
  }

  /** Whether a line at `level` would be written. */
  enabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] <= this.#target.rank && this.#target.logger !== undefined;
  }

  /** A log that adds `fields` to every line (a download's id, a connection's number). */
  child(fields: LogFields): Log {
    if (this.#target.logger === undefined) return this;
    return new Log(this.#target, this.#bound ? { ...this.#bound, ...fields } : fields);
  }

  /** Writes at `error`. */
  error(msg: string, fields?: LazyFields): void {
    if (LEVEL_RANK.error <= this.#target.rank) this.#write('error', msg, fields);
  }

  /** Writes at `warn`. */
  warn(msg: string, fields?: LazyFields): void {
    if (LEVEL_RANK.warn <= this.#target.rank) this.#write('warn', msg, fields);
  }

  /** Writes at `info`. */
  info(msg: string, fields?: LazyFields): void {
    if (LEVEL_RANK.info <= this.#target.rank) this.#write('info', msg, fields);
  }

  /** Writes at `debug`. */
  debug(msg: string, fields?: LazyFields): void {
    if (LEVEL_RANK.debug <= this.#target.rank) this.#write('debug', msg, fields);
  }

  /** Writes at `trace`. */
  trace(msg: string, fields?: LazyFields): void {
    if (LEVEL_RANK.trace <= this.#target.rank) this.#write('trace', msg, fields);
  }

  #write(level: LogLevel, msg: string, fields: LazyFields | undefined): void {
    const logger = this.#target.logger;
    if (logger === undefined) return;
    try {
      const own = typeof fields === 'function' ? fields() : fields;
      const all = this.#bound ? { ...this.#bound, ...own } : own;
      if (all === undefined) logger[level](redactText(msg));
      else logger[level](redactText(msg), redactFields(all));
    } catch {
      // A logger that throws (a closed file, a bad transport) must not fail a download.
    }
  }
}

/** The level a logger announces itself, as pino does with its `level` property. */
function levelOf(logger: Logger): LogSetting | undefined {
  const raw = (logger as { level?: unknown }).level;
  if (raw === 'silent') return 'off';
  if (raw === 'fatal') return 'error';
  return isLogSetting(raw) ? raw : undefined;
}

/**
 * Checks the methods and binds them. `console.trace` prints a stack trace after each line, so for
 * the console trace lines go to `console.debug`; a logger without `trace` gets the same.
 */
function normalize(logger: Logger): Logger {
  for (const m of ['error', 'warn', 'info', 'debug'] as const) {
    if (typeof logger[m] !== 'function') {
      throw new UsageError(ErrorCodes.INVALID_OPTION, `The logger has no ${m}() method (it needs error, warn, info, debug and trace)`);
    }
  }
  const trace = logger === console || typeof logger.trace !== 'function' ? logger.debug : logger.trace;
  return {
    error: logger.error.bind(logger),
    warn: logger.warn.bind(logger),
    info: logger.info.bind(logger),
    debug: logger.debug.bind(logger),
    trace: trace.bind(logger),
  };
}
