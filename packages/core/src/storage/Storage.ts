import type { ByteSink } from './sink.js';
import type { SavedState } from './validateState.js';

/** Reads the partial data back (resume checks, digests). A Node `FileHandle` is one. */
export interface ByteReader {
  /** Reads up to `length` bytes at `position` into `buffer` at `offset`; `bytesRead` 0 at the end. */
  read(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{
    /** Bytes read; 0 at the end of the data. */
    bytesRead: number;
  }>;
  /** Releases the reader. */
  close(): Promise<void>;
}

/**
 * The storage of one download: where its bytes go, and how its partial data and state survive
 * between runs. Returned by the `openStorage` hook; the default is a {@link PartialFile} (a
 * temporary file, a state file and a lock beside the target). Only the storage knows where and how
 * the data is kept: the engine asks it, in this order, to open a sink, check and read back what an
 * earlier run left, checkpoint, flush, commit, and in the end to release what it holds.
 */
export interface Storage {
  /** Where the finished file will be: an absolute path for files, any name for other storages. */
  readonly target: string;
  /**
   * The state an earlier run left for this target, already checked to belong to it (not yet
   * against the remote file: the engine does that). Undefined when there is none to resume.
   */
  readonly saved: SavedState | undefined;
  /** Why an earlier state was dropped while opening (told to the user as a restart), if it was. */
  readonly dropped?: string;
  /**
   * Opens where the bytes go. `resume`: continue the partial data an earlier run left; else start
   * empty (`size` long when known). `bytesLeft` tells how much is still to come, for a storage that
   * reserves room.
   */
  open(resume: boolean, size: number | undefined, bytesLeft: () => number): Promise<ByteSink>;
  /** Throws MG_ERR_REMOTE_CHANGED unless the partial data holds at least `bytes` bytes. */
  checkLength(bytes: number): Promise<void>;
  /** A reader of the partial data (rejects with an ENOENT error when there is none). */
  openReader(): Promise<ByteReader>;
  /**
   * Makes the bytes written so far durable, then records `state`, so that the state never claims a
   * byte that is not durable. The engine takes the state's snapshot before calling.
   */
  checkpoint(state: SavedState): Promise<void>;
  /** Drops the recorded state (the partial data is of another version, or starts over). */
  forget(): Promise<void>;
  /** All bytes are written: sets the final length and makes them durable (before `verify`). */
  flush(size: number): Promise<void>;
  /** Moves the verified data into place and drops the state. Never before `verify` passed. */
  commit(): Promise<void>;
  /** Deletes the partial data and its state (cancel; a checksum mismatch). */
  remove(): Promise<void>;
  /** Releases what the storage holds (sink, lock, reservations); the partial data stays. Safe to call twice. */
  release(): Promise<void>;
}

/** What the engine lends a storage while it opens. */
export interface StorageContext {
  /** Claims a target within this engine; false when another download of it holds the target. */
  claim(target: string): boolean;
  /** Gives a claimed target back. */
  unclaim(target: string): void;
}

