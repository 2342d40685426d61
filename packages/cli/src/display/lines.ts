import { basename } from 'node:path';
import { type DownloadError, type DownloadResult, type Progress, ErrorCodes, printable } from '@multiget/core';
import type { DownloadTask } from '../runner/buildTasks.js';
import type { TaskOutcome } from '../runner/runDownloads.js';
import type { Redactor } from '../redact.js';
import { formatDuration, formatEta, formatPercent, formatSize, formatSpeed } from './format.js';
import type { Palette } from './Palette.js';

/** The start event of a download, as the engine sends it. */
export interface StartInfo {
  file: string;
  size: number | undefined;
  ranges: boolean;
  resumedBytes: number;
  url: string;
}

/**
 * A short name for a download before its file is known: the last path segment (decoded, so made
 * {@link printable}: `%1B` is an escape character), or the host.
 */
export function taskName(task: DownloadTask): string {
  const u = task.parsedUrl;
  const last = u.pathname.split('/').filter((p) => p.length > 0).pop();
  return last ? printable(decodeURIComponentSafe(last)) : u.host || task.label;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * `multiget: <message> [CODE]`, the one shape of every error line. The message is made
 * {@link printable} here, whoever made it: error lines quote servers and the user's input files.
 */
export function errorLine(palette: Palette, message: string, code?: string): string {
  return `${palette.red(palette.bold('multiget:'))} ${printable(message)}${code ? ` ${palette.dim(`[${code}]`)}` : ''}\n`;
}

/**
 * The error line of a failed download; names it when there are several. For a link that stopped
 * working mid-download (`expiredLink`), a second line says how to continue: the same command with a
 * new link and the same file resumes the bytes kept, when the new link serves the same file.
 */
export function failedLine(
  palette: Palette,
  redactor: Redactor,
  task: DownloadTask,
  error: DownloadError,
  multiple: boolean,
  expiredLink?: { readonly file: string },
): string {
  const message = redactor.text(error.message);
  const prefix = multiple && !message.includes(task.label) ? `${task.label}: ` : '';
  const line = errorLine(palette, prefix + message, error.code);
  if (expiredLink === undefined) return line;
  return (
    line +
    `${palette.yellow('hint:')} the server stopped accepting the link (it may have expired); the partial data is kept. ` +
    `Get a new link and run: multiget NEWURL -o ${shellQuote(expiredLink.file)} (it resumes when the new link serves the same file)\n`
  );
}

/** `text` as one shell word: bare when it is plain, else in single quotes. */
function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** True for the failure every download reports when the run was interrupted on purpose. */
export function isInterruption(error: DownloadError): boolean {
  return error.code === ErrorCodes.ABORTED;
}

/** `stopped: name at 42% (partial data kept)` for a download interrupted by a signal. */
export function stoppedLine(palette: Palette, name: string, progress: Progress | undefined): string {
  const at =
    progress && progress.total !== undefined && progress.total > 0
      ? ` at ${formatPercent(progress.bytesDone, progress.total)}`
      : progress && progress.bytesDone > 0
        ? ` after ${formatSize(progress.bytesDone)}`
        : '';
  return `${palette.yellow('stopped:')} ${name}${at} (partial data kept)\n`;
}

/**
 * `done: /path/file (256.0 MiB in 8.2 s, 31.2 MiB/s, sha256 verified)`. The speed counts only the
 * bytes of this run: `resumedBytes` came from an earlier one. A file copied from the content store
 * says so instead of a speed: `done: /path/file (256.0 MiB, from cache: /path/of/the/stored/file)`.
 */
export function doneLine(palette: Palette, result: DownloadResult, resumedBytes = 0): string {
  if (result.fromCache) {
    const parts = [formatSize(result.size)];
    if (result.verified && result.digest) parts.push(`${result.digest.algorithm} verified`);
    parts.push(`from cache: ${result.fromCache.path}`);
    return `${palette.green('done:')} ${result.file} (${parts.join(', ')})\n`;
  }
  const seconds = result.durationMs / 1000;
  const parts = [`${formatSize(result.size)} in ${formatDuration(result.durationMs)}`];
  if (seconds > 0) parts.push(formatSpeed(Math.max(0, result.size - resumedBytes) / seconds));
  if (result.verified && result.digest) parts.push(verifiedPart(result));
  if (result.resumed) parts.push(resumedBytes > 0 ? `resumed from ${formatSize(resumedBytes)}` : 'resumed');
  if (result.restarts > 0) parts.push(`restarted ${result.restarts}×`);
  return `${palette.green('done:')} ${result.file} (${parts.join(', ')})\n`;
}

/** `sha256 verified`, or `verified sha256 from SHA256SUMS` when a checksum file vouched for it. */
function verifiedPart(result: DownloadResult): string {
  const digest = result.digest!;
  if (digest.source !== 'file' || digest.url === undefined) return `${digest.algorithm} verified`;
  const name = digest.url.split('/').pop() ?? digest.url;
  return `verified ${digest.algorithm} from ${printable(decodeURIComponentSafe(name))}`;
}

/** `start: URL -> FILE (256.0 MiB, 8 connections)` for plain output. */
export function startLine(label: string, info: StartInfo): string {
  const parts = [info.size !== undefined ? formatSize(info.size) : 'size unknown'];
  if (!info.ranges) parts.push('no byte ranges: one connection, no resume');
  if (info.resumedBytes > 0) parts.push(`resuming at ${formatSize(info.resumedBytes)}`);
  return `start: ${label} -> ${info.file} (${parts.join(', ')})\n`;
}

/** `progress: name 42% 108.0 MiB/256.0 MiB 4.0 MiB/s ETA 0:37 8 connections` for plain output. */
export function progressLine(name: string, p: Progress): string {
  const amount =
    p.total !== undefined ? `${formatPercent(p.bytesDone, p.total)} ${formatSize(p.bytesDone)}/${formatSize(p.total)}` : formatSize(p.bytesDone);
  const eta = p.total !== undefined ? ` ETA ${formatEta(p.eta)}` : '';
  return `progress: ${name} ${amount} ${formatSpeed(p.speed)}${eta} ${p.connections} connection${p.connections === 1 ? '' : 's'}\n`;
}

/**
 * `retry: name: <message> [CODE] (attempt 2, next in 1.0 s)`. This line, `restart:` and `warning:`
 * print the engine's text, which core already made printable (DownloadError, `warning`, `restart`).
 */
export function retryLine(palette: Palette, redactor: Redactor, name: string, info: { error: DownloadError; attempt: number; delayMs: number }): string {
  return `${palette.yellow('retry:')} ${name}: ${redactor.text(info.error.message)} [${info.error.code}] (attempt ${info.attempt}, next in ${formatDuration(info.delayMs)})\n`;
}

/** `restart: name: <reason>`. */
export function restartLine(palette: Palette, redactor: Redactor, name: string, reason: string): string {
  return `${palette.yellow('restart:')} ${name}: ${redactor.text(reason)}\n`;
}

/** `warning: name: <message>`. */
export function warningLine(palette: Palette, redactor: Redactor, name: string, info: { code: string; message: string }): string {
  return `${palette.yellow('warning:')} ${name}: ${redactor.text(info.message)} [${info.code}]\n`;
}

/** The name of a download once its file is chosen. */
export function fileName(file: string): string {
  return basename(file);
}

/**
 * `summary: 3 done, 1 failed` after several downloads (`, 2 stopped` for interrupted ones and
 * `, 1 not started` when the run ended before them, when there are any).
 */
export function summaryLine(palette: Palette, outcomes: readonly TaskOutcome[]): string {
  let done = 0;
  let failed = 0;
  let stopped = 0;
  let skipped = 0;
  for (const o of outcomes) {
    if (o.status === 'done') done++;
    else if (o.status === 'skipped') skipped++;
    else if (isInterruption(o.error)) stopped++;
    else failed++;
  }
  const parts = [`${done} done`, `${failed} failed`];
  if (stopped > 0) parts.push(`${stopped} stopped`);
  if (skipped > 0) parts.push(`${skipped} not started`);
  const label = failed > 0 || stopped > 0 || skipped > 0 ? palette.yellow('summary:') : palette.green('summary:');
  return `${label} ${parts.join(', ')}\n`;
}

/** `HEX  FILE`, the line `sha256sum` prints (and `sha256sum -c` reads), for `--print-checksum`. */
export function checksumLine(file: string, hex: string): string {
  return `${hex}  ${file}\n`;
}
