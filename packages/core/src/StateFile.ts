import { constants } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import type { Segment, Validators } from './types.js';
import { removeFile } from './removeFile.js';

/** What the sidecar state file records. Never credentials: URLs are stored without userinfo. */
export interface SavedState {
  format: 'multiget-state';
  version: 1;
  /** The URL as the caller gave it, without credentials. */
  url: string;
  /** The URL the bytes came from (after redirects), without credentials. */
  finalUrl: string;
  size: number | null;
  ranges: boolean;
  validators: Validators;
  /** [start, end (exclusive, null = unknown), pos] per segment; bytes [start, pos) are on disk. */
  segments: Array<[number, number | null, number]>;
  updatedAt: string;
}

/** Returns the URL as text without user name and password. */
export function redactUrl(url: URL | string): string {
  const u = new URL(url.toString());
  u.username = '';
  u.password = '';
  return u.toString();
}

/** Reads, validates and atomically replaces a download's sidecar state file. */
export class StateFile {
  constructor(readonly path: string) {}

  /**
   * Reads the state. Returns undefined when there is none, and `'corrupt'` when the file exists but
   * is not a state this version understands (the caller starts over). Never follows a symlink.
   */
  async read(): Promise<SavedState | 'corrupt' | undefined> {
    let text: string;
    try {
      const fh = await open(this.path, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        text = await readFile(fh, 'utf8');
      } finally {
        await fh.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      return isSavedState(parsed) ? parsed : 'corrupt';
    } catch {
      return 'corrupt';
    }
  }

  /** Writes the state to a temporary file, fsyncs it and renames it over the old one. */
  async write(state: SavedState): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
    try {
      await fh.writeFile(JSON.stringify(state));
      await fh.sync();
    } finally {
      await fh.close();
    }
    // rename replaces a symlink planted at the state path instead of writing through it. No fsync
    // of the directory: if a power cut loses this rename, the older state claims fewer bytes, which
    // is still true, so correctness never depends on it.
    await rename(tmp, this.path);
  }

  async remove(): Promise<void> {
    await removeFile(this.path);
    await removeFile(`${this.path}.tmp`);
  }

  /** Converts live segments to the saved form. */
  static encodeSegments(segments: readonly Pick<Segment, 'start' | 'end' | 'pos'>[]): Array<[number, number | null, number]> {
    return segments.map((s) => [s.start, Number.isFinite(s.end) ? s.end : null, s.pos]);
  }
}

/** fsyncs a directory so that a rename in it survives a power loss. Best effort. */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some file systems refuse fsync on directories; the rename itself already happened.
  }
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isSavedState(v: unknown): v is SavedState {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  if (s.format !== 'multiget-state' || s.version !== 1) return false;
  if (typeof s.url !== 'string' || typeof s.finalUrl !== 'string' || typeof s.ranges !== 'boolean') return false;
  if (!(s.size === null || isNonNegInt(s.size))) return false;
  if (typeof s.validators !== 'object' || s.validators === null) return false;
  if (!Array.isArray(s.segments)) return false;
  const size = s.size as number | null;
  for (const seg of s.segments as unknown[]) {
    if (!Array.isArray(seg) || seg.length !== 3) return false;
    const [start, end, pos] = seg as unknown[];
    if (!isNonNegInt(start) || !isNonNegInt(pos) || !(end === null || isNonNegInt(end))) return false;
    if (pos < start || (end !== null && (pos > end || end < start))) return false;
    if (size !== null && (end === null || end > size)) return false;
  }
  return true;
}
