import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { type DownloadOptions, ErrorCodes, UsageError, redactUrl } from '@multiget/core';
import type { CliOptions } from '../args/parseArgs.js';
import type { InputEntry } from '../input/parseInputFile.js';

/** One download the runner will start: where it comes from and the engine options for it. */
export interface DownloadTask {
  /** Position in input order, 0-based: with several failures, the first decides the exit code. */
  readonly index: number;
  /** The download's id (also the `id` of its JSON events). */
  readonly id: string;
  /** The URL as given; it may hold credentials, so never print it: print `label`. */
  readonly url: string;
  /** The URL without credentials. */
  readonly label: string;
  /** Options for `Multiget.download`, without `signal` and `id` (the runner adds them). */
  readonly options: Omit<DownloadOptions, 'signal' | 'id'>;
  /**
   * A directory to create before starting: `--dir` (or `dir=`) promises to create its directory,
   * which the engine does for `dir` but not for an exact `output` path composed under it.
   */
  readonly createDir?: string;
  /** Queue priority (`priority=` in an input file): higher starts first. */
  readonly priority?: number;
}

/** A URL to download: from the command line (`where` undefined) or an input file. */
export type TaskSource = Omit<InputEntry, 'line' | 'where'> & { where?: string };

/**
 * Combines the command line with the URLs (arguments first, then the input file) into tasks.
 * Fails fast, before anything is downloaded, on what would otherwise fail half-way through a
 * list: a malformed URL, `-o` or `--checksum` with several URLs, two entries writing one file.
 */
export function buildTasks(options: CliOptions, sources: readonly TaskSource[]): DownloadTask[] {
  if (sources.length === 0) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, 'No URL given (see multiget --help)');
  }
  if (sources.length > 1 && options.output !== undefined) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, '-o/--output names one file but several URLs were given; use --dir, or out= lines in an input file');
  }
  if (sources.length > 1 && options.checksum !== undefined && options.checksum !== 'auto') {
    throw new UsageError(ErrorCodes.INVALID_OPTION, '--checksum applies to one file but several URLs were given; use checksum= lines in an input file');
  }
  const outputs = new Map<string, string>();
  return sources.map((source, index) => {
    const label = redactUrl(source.url);
    checkUrl(source.url, label, source.where);
    for (const m of source.mirrors ?? []) checkUrl(m, redactUrl(m), source.where);
    const baseDir = options.dir;
    const dir = source.dir !== undefined ? resolve(baseDir ?? '.', source.dir) : baseDir;
    let output: string | undefined;
    if (source.out !== undefined) output = resolve(dir ?? '.', source.out);
    else if (options.output !== undefined) output = baseDir !== undefined ? resolve(baseDir, options.output) : options.output;
    if (output !== undefined) {
      const key = resolve(output);
      const other = outputs.get(key);
      if (other !== undefined) {
        throw new UsageError(ErrorCodes.INVALID_OPTION, `${source.where ?? label}: writes to ${key}, as ${other} does`);
      }
      outputs.set(key, source.where ?? label);
    }
    const task: DownloadTask = {
      index,
      id: randomUUID(),
      url: source.url,
      label,
      ...(output !== undefined && dir !== undefined ? { createDir: dirname(output) } : {}),
      ...(source.priority !== undefined ? { priority: source.priority } : {}),
      options: {
        ...(output !== undefined ? { output } : dir !== undefined ? { dir } : {}),
        ...(options.overwrite ? { overwrite: true } : {}),
        headers: [...options.headers, ...source.headers],
        connections: source.connections ?? options.connections,
        checksum: source.checksum ?? options.checksum,
        credentials: options.credentials,
        rateLimit: source.rateLimit ?? options.rateLimit,
        retries: options.retries,
        connectTimeoutMs: options.connectTimeoutMs,
        stallTimeoutMs: options.stallTimeoutMs,
        minSplitSize: options.minSplitSize,
        ...(source.mirrors !== undefined && source.mirrors.length > 0 ? { mirrors: source.mirrors } : {}),
        ...(source.pieces !== undefined ? { pieces: source.pieces } : {}),
      },
    };
    return task;
  });
}

function checkUrl(raw: string, label: string, where: string | undefined): void {
  try {
    new URL(raw);
    return;
  } catch {
    // Fall through to a message that names the problem without echoing credentials.
  }
  const prefix = where !== undefined ? `${where}: ` : '';
  const hint = /^[^:/?#\s]+\.[^:/?#\s]+(?:[/?#]|$)/.test(raw) ? ` (no scheme: did you mean https://${label}?)` : '';
  throw new UsageError(ErrorCodes.INVALID_URL, `${prefix}Invalid URL "${label}"${hint}`);
}
