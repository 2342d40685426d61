import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Segment } from '../types.js';
import { removeFile } from './removeFile.js';
import { ErrorCodes, FileSystemError } from '../errors.js';
import { metadata } from './metadataCalls.js';
import { checkRenameTarget, createFresh } from './safeCreate.js';
import { STATE_TMP_SUFFIX, STATE_SUFFIX } from './sidecars.js';
import { MAX_STATE_BYTES, type SavedState, parseSavedState } from './validateState.js';

export type { SavedBlocks, SavedState } from './validateState.js';

// The state file records the URL redacted (no userinfo, no signature): it is not a secret store.
export { redactUrl } from '../log/redact.js';

/** Reads, validates and atomically replaces a download's sidecar state file. */
export class StateFile {
  constructor(readonly path: string) {}

  /** The temporary name the next state is written under before it is renamed over {@link path}. */
  get tmpPath(): string {
    return this.path.endsWith(STATE_SUFFIX) ? this.path.slice(0, -STATE_SUFFIX.length) + STATE_TMP_SUFFIX : `${this.path}.tmp`;
  }

  /**
   * Reads the state. Returns undefined when there is none, and `'corrupt'` when the file exists but
   * is not a complete, self-consistent state this version understands (see `parseSavedState`; the
   * caller starts over). Never follows a symlink (MG_ERR_UNSAFE_PATH) and never blocks on a FIFO.
   */
  async read(): Promise<SavedState | 'corrupt' | undefined> {
    const file = await metadata.readSmallFileIfAny(this.path, MAX_STATE_BYTES);
    if (file === undefined) return undefined;
    if (file.kind === 'not-a-file') {
      throw new FileSystemError(ErrorCodes.UNSAFE_PATH, `${this.path} is not a regular file; refusing to read it as a state`);
    }
    if (file.kind === 'too-big') return 'corrupt';
    const text = file.text;
    try {
      return parseSavedState(JSON.parse(text)) ?? 'corrupt';
    } catch {
      return 'corrupt';
    }
  }

  /**
   * Writes the state to a fresh temporary file (created by `createFresh`: a link planted there is
   * never written through), fsyncs it and renames it over the old one.
   *
   * The file is padded with spaces to twice its length (JSON ignores them), so that when the disk
   * is full and no new file can be written, the state is rewritten in place in the space it already
   * holds: the bytes on disk stay resumable. A write torn by a crash there is no risk: the next run
   * discards a state that does not parse and validate, and checks every block it claims.
   */
  async write(state: SavedState): Promise<void> {
    const json = JSON.stringify(state);
    try {
      await this.#writeAtomically(json);
    } catch (err) {
      const errno = (err as NodeJS.ErrnoException).code ?? (err as { errno?: string }).errno;
      if ((errno === 'ENOSPC' || errno === 'EDQUOT') && (await this.#writeInPlace(json))) return;
      throw err;
    }
  }

  async #writeAtomically(json: string): Promise<void> {
    const tmp = this.tmpPath;
    const fh = await createFresh(tmp, 'the new state file');
    try {
      await fh.writeFile(padded(json, Math.ceil(Math.max(4096, Buffer.byteLength(json) * 2) / 4096) * 4096));
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => undefined);
      // No stray .mgstate.tmp: a full disk must leave only the last good state behind.
      await removeFile(tmp).catch(() => undefined);
      throw err;
    }
    await fh.close();
    // The rename replaces the name only (a symlink planted there is replaced, not followed; a
    // directory or special file is refused). No fsync of the directory: if a power cut loses this
    // rename, the older state claims fewer bytes, which is still true, so correctness never depends on it.
    await checkRenameTarget(this.path, 'the state file');
    await metadata.rename(tmp, this.path);
  }

  /** Overwrites the existing state file within its length (no allocation). False when it does not fit. */
  async #writeInPlace(json: string): Promise<boolean> {
    let fh;
    try {
      fh = await open(this.path, constants.O_WRONLY | constants.O_NOFOLLOW);
    } catch {
      return false;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile() || st.nlink !== 1 || st.size < Buffer.byteLength(json) + 1) return false;
      await fh.write(padded(json, st.size), 0, st.size, 0);
      await fh.sync();
      return true;
    } catch {
      return false;
    } finally {
      await fh.close();
    }
  }

  async remove(): Promise<void> {
    await removeFile(this.path);
    await removeFile(this.tmpPath);
  }

  /** Converts live segments to the saved form. */
  static encodeSegments(segments: readonly Pick<Segment, 'start' | 'end' | 'pos'>[]): Array<[number, number | null, number]> {
    return segments.map((s) => [s.start, Number.isFinite(s.end) ? s.end : null, s.pos]);
  }
}

/** The JSON text followed by spaces and a newline, `length` bytes in all. */
function padded(json: string, length: number): Buffer {
  const buf = Buffer.alloc(length, 0x20);
  buf.write(json, 0, 'utf8');
  buf[length - 1] = 0x0a;
  return buf;
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
