import { debuglog } from 'node:util';
import { printable } from '../util/printable.js';
import type { LogFields, LogLevel, Logger } from './Logger.js';

/** A plain value as it is written after `key=`: bare when it has no space or quote, else JSON. */
function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"]+$/.test(value) && value !== '' ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value) ?? String(value);
}

/**
 * Fields as `key=value key="value with spaces" obj={"a":1}`, in their order; empty for none.
 * The fields are written as given: pass them through a {@link Log} (or `redactFields`) first.
 */
export function formatFields(fields: LogFields | undefined): string {
  if (fields === undefined) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) parts.push(`${key}=${formatValue(value)}`);
  }
  return parts.join(' ');
}

/**
 * `msg key=value ...`: a message and its fields on one line (line breaks in the message become
 * spaces; other control characters, in it or in a value, show as escapes: {@link printable}).
 */
export function formatLogMessage(msg: string, fields?: LogFields): string {
  const text = msg.replace(/[\r\n]+/g, ' ');
  const rest = formatFields(fields);
  // Values may come from a server (a reason phrase, a name): no escape sequence or line break of
  // theirs reaches the file or the terminal.
  return printable(rest === '' ? text : `${text} ${rest}`);
}

/** `2026-01-31T12:00:00.000Z DEBUG msg key=value`: one line of a log file, without its newline. */
export function formatLogLine(level: LogLevel, msg: string, fields?: LogFields, time: Date = new Date()): string {
  return `${time.toISOString()} ${level.toUpperCase().padEnd(5)} ${formatLogMessage(msg, fields)}`;
}

/**
 * The logger behind `NODE_DEBUG=multiget`: Node's `util.debuglog('multiget')`, which writes
 * `MULTIGET <pid>: LEVEL msg key=value` to stderr. Undefined when NODE_DEBUG does not name
 * multiget (Node reads NODE_DEBUG once, at start).
 */
export function nodeDebugLogger(): Logger | undefined {
  const write = debuglog('multiget');
  if (!write.enabled) return undefined;
  const at =
    (level: LogLevel) =>
    (msg: string, fields?: LogFields): void =>
      write('%s %s', level.toUpperCase(), formatLogMessage(msg, fields));
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), trace: at('trace') };
}
