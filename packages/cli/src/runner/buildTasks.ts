import { dirname, resolve } from 'node:path';
import { ErrorCodes, type NormalizedOptions, UsageError, newId, normalizeOptions, redactUrl } from '@multiget/core';
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
  /** `url`, parsed once: what the manager gets. */
  readonly parsedUrl: URL;
  /** The URL without credentials. */
  readonly label: string;
  /**
   * The download's options in the one shape they keep from here to the engine (the manager's
   * `AddOptions`), checked by core's `normalizeOptions` (so a bad one fails the run before any
   * download starts), priority included.
   */
  readonly options: NormalizedOptions;
  /**
   * A directory to create before starting: `--dir` (or `dir=`) promises to create its directory,
   * which the engine does for `dir` but not for an exact `output` path composed under it.
   */
  readonly createDir?: string;
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
    // Parsed once, here; the label and everything after it use the parsed URL.
    const parsedUrl = parseUrl(source.url, source.where);
    const label = redactUrl(parsedUrl);
    const mirrors = (source.mirrors ?? []).map((m) => parseUrl(m, source.where).href);
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
    const headers: Record<string, string> = {};
    // One value a name, whatever its case; a per-entry header replaces a command-line one.
    for (const [name, value] of [...options.headers, ...source.headers]) headers[name.toLowerCase()] = value;
    const task: DownloadTask = {
      index,
      id: newId(),
      url: source.url,
      parsedUrl,
      label,
      ...(output !== undefined && dir !== undefined ? { createDir: dirname(output) } : {}),
      options: normalizeOptions(
        {
          ...(output !== undefined ? { output } : dir !== undefined ? { dir } : {}),
          ...(options.overwrite ? { existing: 'overwrite' } : {}),
          headers,
          connections: source.connections ?? options.connections,
          checksum: source.checksum ?? options.checksum,
          credentials: options.credentials,
          rateLimit: source.rateLimit ?? options.rateLimit,
          retries: options.retries,
          connectTimeoutMs: options.connectTimeoutMs,
          stallTimeoutMs: options.stallTimeoutMs,
          minSplitSize: options.minSplitSize,
          priority: source.priority,
          ...(options.noCache ? { noCache: true } : {}),
          ...(mirrors.length > 0 ? { mirrors } : {}),
          ...(source.pieces !== undefined ? { pieces: source.pieces } : {}),
        },
        (name) => (source.where !== undefined ? `${source.where}: ${name}` : (FLAG_OF[name] ?? name)),
      ),
    };
    return task;
  });
}

/** How an option is spelled on the command line, for messages. */
const FLAG_OF: Record<string, string> = {
  output: '--output',
  dir: '--dir',
  connections: '--connections',
  checksum: '--checksum',
  headers: '--header',
  rateLimit: '--limit-rate',
  retries: '--retries',
  connectTimeoutMs: '--connect-timeout',
  stallTimeoutMs: '--timeout',
  minSplitSize: '--min-split-size',
};

function parseUrl(raw: string, where: string | undefined): URL {
  try {
    return new URL(raw);
  } catch {
    // Fall through to a message that names the problem without echoing credentials.
  }
  const label = redactUrl(raw);
  const prefix = where !== undefined ? `${where}: ` : '';
  const hint = /^[^:/?#\s]+\.[^:/?#\s]+(?:[/?#]|$)/.test(raw) ? ` (no scheme: did you mean https://${label}?)` : '';
  throw new UsageError(ErrorCodes.INVALID_URL, `${prefix}Invalid URL "${label}"${hint}`);
}
