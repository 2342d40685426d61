import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Stats } from 'node:fs';
import { learnDirectory, metadata } from '../../storage/metadataCalls.js';
import type { ContentDocument, ContentRecord } from '../store/ManagerStore.js';
import { MAX_RECORDS, type RecordChange, type RecordSource, applyChanges, indexByUrl, isRecord } from './records.js';

/** The log is rewritten with only the records in force once it holds this many lines. */
export const COMPACT_AT = 2 * MAX_RECORDS;

/** The log as last read, or as this process last wrote it. */
interface Seen {
  ino: number;
  size: number;
  mtimeMs: number;
  text: string;
  /** The records in force, once parsed (or kept up to date through this process's own appends). */
  records?: ContentRecord[];
  index?: Map<string, ContentRecord[]>;
  /** A lookup was answered by a search of `text` alone: the next one parses and indexes it. */
  searched: boolean;
}

/** Lines (changes) in a log's text. */
function countLines(text: string): number {
  let lines = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) lines++;
  return lines;
}

/** One change as a line of the log. */
function lineOf(change: RecordChange): string {
  return `${JSON.stringify(change.record === undefined ? { file: change.file } : { file: change.file, record: change.record })}\n`;
}

/** Opens `file` for writing with `flags` (never through a link), writes `data`, fsyncs, and gives its stat. */
async function writeSynced(file: string, flags: number, data: string | Buffer): Promise<Stats> {
  const fh = await open(file, constants.O_WRONLY | constants.O_NOFOLLOW | flags, 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
    return await fh.stat();
  } finally {
    await fh.close();
  }
}

/**
 * The records in force in a log's text: each line a change (`{"file", "record"}`, or `{"file"}` to
 * forget it), applied in order; a line that is not a well-formed change (a torn write) is skipped.
 */
export function recordsOfLog(text: string): ContentRecord[] {
  const changes: RecordChange[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let c: unknown;
    try {
      c = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof c !== 'object' || c === null) continue;
    const { file, record } = c as { file?: unknown; record?: unknown };
    if (typeof file !== 'string') continue;
    if (record === undefined) changes.push({ file });
    else if (isRecord(record) && record.file === file) changes.push({ file, record });
  }
  return applyChanges([], changes);
}

/** Adds to `into` the lines of `text` that contain `needle`, by their offset. */
function linesWith(text: string, needle: string, into: Map<number, string>): void {
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at)) {
    const start = text.lastIndexOf('\n', at) + 1;
    const end = text.indexOf('\n', at);
    const stop = end === -1 ? text.length : end;
    into.set(start, text.slice(start, stop));
    at = stop;
  }
}

/**
 * The records in force of URL `key` from the lines that name it and the lines that name their
 * files: a file's every change is among them, so its last change decides as in the whole log. (One
 * record among more than MAX_RECORDS newer ones would have been dropped from the whole log; found
 * here, it is a candidate like any other, which the caller proves before use.)
 */
function recordsOfUrl(text: string, key: string): ContentRecord[] {
  const lines = new Map<number, string>();
  linesWith(text, JSON.stringify(key), lines);
  const files = new Set<string>();
  for (const r of recordsOfLog([...lines.values()].join('\n'))) if (r.url === key) files.add(r.file);
  if (files.size === 0) return [];
  for (const file of files) linesWith(text, JSON.stringify(file), lines);
  const ordered = [...lines].sort((a, b) => a[0] - b[0]).map(([, line]) => line);
  return recordsOfLog(ordered.join('\n')).filter((r) => r.url === key);
}

/**
 * `content.jsonl` in a directory: the content store as a log of changes, one JSON line each, which
 * several CLI processes (and a service) share without the manager's lock.
 *
 * Recording a finished file appends its line (`O_APPEND`, one write, fsync) instead of rewriting
 * every record, and a lookup reads the file's text and searches it for the URL or digest before it
 * parses anything: a download of a URL the store does not hold never parses it. (The document it
 * replaces, `content.json`, was parsed whole at a download's start and written whole at its end: with
 * the 5,000 records it keeps at most, about 20 ms and 9 MiB of resident memory for every download.)
 * A second lookup of the same text (a list of downloads) parses and indexes it once. Past
 * {@link COMPACT_AT} lines the log is rewritten with only the records in force, through a
 * temporary file of its own renamed into place. Two processes writing at once may lose a record
 * when one of them compacts, which only costs a download. A `content.json` of an earlier version is
 * taken over on first use (written as the log, then removed).
 */
export function contentFile(dir: string): RecordSource {
  const path = join(dir, 'content.jsonl');
  const legacy = join(dir, 'content.json');
  /** The folder as the file's name has it (normalised), which is what metadata calls look up. */
  const folder = dirname(path);
  let seen: Seen | undefined;
  // Counts each write's start and end (odd: one is under way). A read that overlapped a write may
  // have read a file the write then replaced (a compaction): what it read is not kept as `seen`.
  let writeTurns = 0;

  const same = (st: Stats, s: Seen): boolean => st.ino === s.ino && st.size === s.size && st.mtimeMs === s.mtimeMs;

  /** The log now: as last seen when the file is unchanged (one lstat), else read again. */
  async function current(): Promise<Seen | undefined> {
    const turnsBefore = writeTurns;
    if (seen) {
      await learnDirectory(folder);
      const now = await metadata.lstatIfAny(path).catch(() => undefined);
      if (now !== undefined && same(now, seen)) return seen;
    }
    let fh;
    try {
      fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      // None yet: an earlier version's document is taken over; a link in its place is never read.
      return (err as NodeJS.ErrnoException).code === 'ENOENT' ? await takeOver() : undefined;
    }
    let st: Stats;
    let bytes: Buffer;
    try {
      st = await fh.stat();
      bytes = await fh.readFile();
    } catch {
      return undefined;
    } finally {
      await fh.close();
    }
    const read: Seen = { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, text: bytes.toString('utf8'), searched: false };
    // Kept only when it is the file as stat'ed and ends with a whole line (an append under way, by
    // another process, may show half of its line), and no write of ours overlapped the read.
    const whole = bytes.length === st.size && (bytes.length === 0 || bytes[bytes.length - 1] === 0x0a);
    if (whole && turnsBefore % 2 === 0 && writeTurns === turnsBefore) seen = read;
    return read;
  }

  /** The records in force in `s`, parsed once. */
  function recordsIn(s: Seen | undefined): ContentRecord[] {
    if (s === undefined) return [];
    s.records ??= recordsOfLog(s.text);
    return s.records;
  }

  /** Writes `records` as the whole log (oldest first), through a temporary file renamed into place, in a folder that exists. */
  async function rewrite(records: ContentRecord[]): Promise<void> {
    const text = records.map((record) => lineOf({ file: record.file, record })).reverse().join('');
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const st = await writeSynced(tmp, constants.O_CREAT | constants.O_EXCL, text);
    await rename(tmp, path).catch(async (err: unknown) => {
      await unlink(tmp).catch(() => undefined);
      throw err;
    });
    // The rename keeps the inode, size and time: the next lookup finds this very text.
    seen = { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, text, records, searched: false };
  }

  /** An earlier version's `content.json`, written as the log and removed; undefined when there is none. */
  async function takeOver(): Promise<Seen | undefined> {
    let doc: ContentDocument;
    try {
      const fh = await open(legacy, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        doc = JSON.parse(await fh.readFile('utf8')) as ContentDocument;
      } finally {
        await fh.close();
      }
    } catch {
      return undefined;
    }
    if (doc?.version !== 1 || !Array.isArray(doc.entries)) return undefined;
    const records = doc.entries.filter(isRecord).slice(0, MAX_RECORDS);
    try {
      await rewrite(records);
      await unlink(legacy).catch(() => undefined);
      return seen;
    } catch {
      // A folder it cannot write: the records still answer this process's lookups.
      return { ino: -1, size: -1, mtimeMs: -1, text: '', records, searched: false };
    }
  }

  return {
    async byUrl(key) {
      const s = await current();
      if (s === undefined) return [];
      if (s.index === undefined) {
        // The first lookup of this text parses at most the lines that concern the key (none when
        // the text does not hold it); a second one (a list) parses the whole log and indexes it.
        if (s.records === undefined && !s.searched) {
          s.searched = true;
          return s.text.includes(JSON.stringify(key)) ? recordsOfUrl(s.text, key) : [];
        }
        s.index = indexByUrl(recordsIn(s));
      }
      // A copy: the caller may keep or change what it gets.
      return [...(s.index.get(key) ?? [])];
    },

    async byDigest(algorithm, hex) {
      const s = await current();
      if (s === undefined) return [];
      if (s.records === undefined && !s.searched && !s.text.includes(JSON.stringify(hex))) {
        s.searched = true;
        return [];
      }
      return recordsIn(s).filter((r) => r.digest.algorithm === algorithm && r.digest.hex === hex);
    },

    async apply(batch) {
      if (batch.length === 0) return;
      writeTurns++;
      try {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const before = await current();
        if (countLines(before?.text ?? '') + batch.length > COMPACT_AT) {
          await rewrite(applyChanges(recordsIn(before), batch));
          return;
        }
        // A last line cut short (a process killed in its write) is ended first, or this batch's
        // first line would join it and be lost with it. (Another process's append that was still
        // under way when it was read has ended by now: the line break then adds an empty line.)
        const mend = before !== undefined && before.text !== '' && !before.text.endsWith('\n');
        const added = (mend ? '\n' : '') + batch.map(lineOf).join('');
        const bytes = Buffer.from(added, 'utf8');
        const st = await writeSynced(path, constants.O_APPEND | constants.O_CREAT, bytes);
        // The file is what was read plus these lines when nobody else wrote in between: known
        // without reading it again, and the records in force (if parsed) follow the changes.
        const base = before !== undefined && before.ino === st.ino && st.size === before.size + bytes.length ? before : undefined;
        if (base !== undefined || st.size === bytes.length) {
          seen = {
            ino: st.ino,
            size: st.size,
            mtimeMs: st.mtimeMs,
            text: (base?.text ?? '') + added,
            searched: base?.searched ?? false,
            ...(base === undefined || base.records !== undefined ? { records: applyChanges(base?.records ?? [], batch) } : {}),
          };
        } else {
          seen = undefined;
        }
      } finally {
        writeTurns++;
      }
    },
  };
}
