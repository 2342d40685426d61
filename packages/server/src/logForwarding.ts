import { ErrorCodes, LEVEL_RANK, type Log, type LogFields, type LogLevel, type LogSetting, type Logger, UsageError, isLogSetting } from '@multiget/core';

/** Receives the log lines at or below a subscriber's level. */
export type LogSink = (level: LogLevel, msg: string, fields: LogFields | undefined) => void;

/** One client's subscription to the service's log. */
export interface LogSubscription {
  /** Changes the level of this subscriber (and so, perhaps, of the engine). */
  setLevel(level: LogSetting): void;
  /** Ends the subscription. Idempotent. */
  dispose(): void;
}

/**
 * The service's logger: the manager's engine logs here, and each client that asked for the log
 * (`multiget/setLogLevel`) gets the lines at its own level. The engine logs at the most verbose
 * level any client wants, and not at all when none does: with no subscriber, logging costs the
 * engine one comparison per call.
 */
export class LogHub implements Logger {
  readonly #subscribers = new Map<LogSink, number>();
  #log: Log | undefined;

  /** The engine's log, whose level follows the subscribers'. */
  attach(log: Log): void {
    this.#log = log;
    this.#update();
  }

  /** Starts sending lines at or below `level` to `sink`. */
  subscribe(level: LogSetting, sink: LogSink): LogSubscription {
    this.#subscribers.set(sink, LEVEL_RANK[level]);
    this.#update();
    return {
      setLevel: (next) => {
        if (!this.#subscribers.has(sink)) return;
        this.#subscribers.set(sink, LEVEL_RANK[next]);
        this.#update();
      },
      dispose: () => {
        if (this.#subscribers.delete(sink)) this.#update();
      },
    };
  }

  error(msg: string, fields?: LogFields): void {
    this.#send('error', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#send('warn', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#send('info', msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.#send('debug', msg, fields);
  }
  trace(msg: string, fields?: LogFields): void {
    this.#send('trace', msg, fields);
  }

  #send(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    const rank = LEVEL_RANK[level];
    for (const [sink, wanted] of this.#subscribers) if (rank <= wanted) sink(level, msg, fields);
  }

  #update(): void {
    let highest = LEVEL_RANK.off;
    for (const rank of this.#subscribers.values()) highest = Math.max(highest, rank);
    const setting = (Object.keys(LEVEL_RANK) as LogSetting[]).find((k) => LEVEL_RANK[k] === highest) ?? 'off';
    this.#log?.setLevel(setting);
  }
}

/** `{ level }` of `multiget/setLogLevel`. */
export function parseSetLogLevelParams(raw: unknown): { level: LogSetting } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, 'params must be an object { level }');
  }
  const keys = Object.keys(raw);
  const level = (raw as { level?: unknown }).level;
  if (keys.some((k) => k !== 'level') || !isLogSetting(level)) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, 'params.level must be one of "off", "error", "warn", "info", "debug", "trace"');
  }
  return { level };
}
