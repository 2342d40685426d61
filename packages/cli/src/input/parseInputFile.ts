import { ErrorCodes, UsageError, isDownloadError, parseChecksum, type PieceHashes } from '@multiget/core';
import { parseHeader } from '../args/parseHeader.js';
import { parseCount, parseSize } from '../args/units.js';

/** One URL of an input file with the options indented under it. */
export interface InputEntry {
  url: string;
  /** Line number of the URL (1-based). */
  line: number;
  /** `FILE:LINE` of the URL, for messages. */
  where: string;
  /** `out=`: file name, relative to the entry's directory. */
  out?: string;
  /** `dir=`: directory, relative to `--dir` (or the working directory). */
  dir?: string;
  /** `checksum=`: `ALGO=HEX` (aria2's `sha-256=HEX` works too) or `auto`, syntax already checked. */
  checksum?: string;
  /** `header=` lines, in order. */
  headers: Array<[string, string]>;
  /** `max-connection-per-server=` or `split=`. */
  connections?: number;
  /** `max-download-limit=`, bytes per second. */
  rateLimit?: number;
  /** `priority=`: higher starts first (default 0), an integer from -1000000 to 1000000. */
  priority?: number;
  /** Other URLs of the same file: the rest of a line of tab-separated URLs, or a Metalink's. */
  mirrors?: string[];
  /** Piece hashes from a Metalink. */
  pieces?: PieceHashes;
}

/**
 * Parses an aria2-style URL list: one file a line (several tab-separated URLs on a line are mirrors
 * of one file); blank lines and lines starting with `#` are
 * skipped; lines indented with spaces or tabs under a URL set options of that URL as `key=value`
 * (`out`, `dir`, `checksum`, `header`, `max-connection-per-server`/`split`, `max-download-limit`,
 * `priority`).
 * `source` names the file in messages. Throws a UsageError naming the line on anything it does
 * not understand, so a typo never silently drops an option.
 */
export function parseInputFile(text: string, source: string): InputEntry[] {
  const entries: InputEntry[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const n = i + 1;
    const fail = (message: string): never => {
      throw new UsageError(ErrorCodes.INVALID_OPTION, `${source}:${n}: ${message}`);
    };
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    if (!/^[ \t]/.test(raw)) {
      // aria2's convention: URLs separated by tabs on one line are sources of one file.
      const urls = trimmed.split('\t').map((u) => u.trim()).filter((u) => u !== '');
      if (urls.some((u) => /\s/.test(u))) fail('a space inside a URL; separate the URLs of one file (mirrors) with tabs');
      const entry: InputEntry = { url: urls[0]!, line: n, where: `${source}:${n}`, headers: [] };
      if (urls.length > 1) entry.mirrors = urls.slice(1);
      entries.push(entry);
      return;
    }
    const entry = entries.at(-1);
    if (!entry) return fail(`option line "${trimmed}" before any URL`);
    const eq = trimmed.indexOf('=');
    if (eq <= 0) return fail(`expected an option line "key=value", got "${trimmed}"`);
    const key = trimmed.slice(0, eq).trim();
    const value = trimmed.slice(eq + 1).trim();
    try {
      switch (key) {
        case 'out':
          if (value === '') fail('out= needs a file name');
          entry.out = value;
          break;
        case 'dir':
          if (value === '') fail('dir= needs a directory');
          entry.dir = value;
          break;
        case 'checksum':
          if (value !== 'auto') parseChecksum(value);
          entry.checksum = value;
          break;
        case 'header':
          entry.headers.push(parseHeader(value, 'header='));
          break;
        case 'max-connection-per-server':
        case 'split':
          entry.connections = parseCount(value, `${key}=`, 'connections');
          break;
        case 'max-download-limit':
          entry.rateLimit = parseSize(value, `${key}=`, 'rateLimit');
          break;
        case 'priority':
          entry.priority = parseCount(value, 'priority=', 'priority');
          break;
        default:
          fail(`unknown option "${key}"`);
      }
    } catch (err) {
      if (isDownloadError(err) && !err.message.startsWith(`${source}:`)) {
        throw new UsageError(err.code, `${source}:${n}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  });
  return entries;
}
