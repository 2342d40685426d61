import { closeSync, constants, fdatasync, ftruncateSync, writev } from 'node:fs';
import { open } from 'node:fs/promises';
import { ErrorCodes, FileSystemError, fileSystemError } from '../errors.js';
import { metadata } from './metadataCalls.js';
import type { ByteSink } from './sink.js';
import type { ByteReader } from './Storage.js';

/**
 * Gives `from` the name `to` without ever replacing a file there: link(2) fails when the name is
 * taken. File systems without hard links get a checked rename.
 */
export async function linkNoClobber(from: string, to: string): Promise<void> {
  try {
    await metadata.link(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new FileSystemError(ErrorCodes.FILE_EXISTS, `${to} appeared while downloading; it was left untouched`, {
        errno: code,
      });
    }
    // File systems without hard links: fall back to a checked rename.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EXDEV') {
      const exists = await metadata.lstat(to).then(
        () => true,
        () => false,
      );
      if (exists) throw new FileSystemError(ErrorCodes.FILE_EXISTS, `${to} appeared while downloading; it was left untouched`);
      await metadata.rename(from, to);
      return;
    }
    throw err;
  }
  await metadata.unlink(from);
}

/**
 * Bytes written since the last flush to disk after which a background fdatasync starts (one at a
 * time). The final sync then waits only for what arrived after the last one, instead of flushing
 * the whole file's dirty pages while nothing else happens (about 0.5 s per GiB on this machine's
 * disk, after the transfer).
 */
const WRITEBACK_BYTES = 32 * 1024 * 1024;

/**
 * Background flushes under way in this process. At most one at a time: an fdatasync holds a thread
 * of libuv's pool (4 threads by default) until the disk is done, and the writes, the other files'
 * flushes and DNS lookups share that pool. With eight downloads on a slow disk, one flush each would
 * leave nothing for the writes.
 */
let backgroundFlushes = 0;
const MAX_BACKGROUND_FLUSHES = 1;

/**
 * What a {@link FileSink} needs of an open file: Node's `FileHandle` has it, and so has
 * {@link DescriptorFile}.
 */
export interface SinkFile {
  writev(buffers: Uint8Array[], position: number): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A file opened synchronously in a directory on a local file system (see metadataCalls.ts): its
 * writes and fdatasyncs go to libuv's thread pool as a `FileHandle`'s do, while sizing and closing
 * it, metadata calls, run at once. Closed once; a second close does nothing.
 */
export class DescriptorFile implements SinkFile {
  #fd: number | undefined;

  constructor(fd: number) {
    this.#fd = fd;
  }

  #open(): number {
    if (this.#fd === undefined) throw Object.assign(new Error('file closed'), { code: 'EBADF' });
    return this.#fd;
  }

  async writev(buffers: Uint8Array[], position: number): Promise<{ bytesWritten: number }> {
    const fd = this.#open();
    return await new Promise((resolve, reject) => {
      writev(fd, buffers, position, (err, bytesWritten) => (err ? reject(err) : resolve({ bytesWritten })));
    });
  }

  async datasync(): Promise<void> {
    const fd = this.#open();
    await new Promise<void>((resolve, reject) => {
      fdatasync(fd, (err) => (err ? reject(err) : resolve()));
    });
  }

  async truncate(length: number): Promise<void> {
    ftruncateSync(this.#open(), length);
  }

  async close(): Promise<void> {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    closeSync(fd);
  }
}

/**
 * Bytes at their offsets in one open file.
 *
 * One write at a time per file: the others wait in line here. A buffered write holds the file's
 * inode lock while it copies into the page cache (ext4, XFS and btrfs alike), so two writes to one
 * file never run together in the kernel; sent together from libuv's thread pool, the second one
 * spun on the lock (`rwsem_spin_on_owner` in `perf`, a fifth as many samples as the copy itself on
 * a 2-core machine) on the core the event loop and the server needed. Writes to different files
 * still run side by side.
 *
 * Writes are flushed to disk in the background as they accumulate (see {@link WRITEBACK_BYTES}), so
 * that the disk works while the network does. A failure of such a flush is kept and thrown by the
 * next `sync()`: Linux reports a failed writeback to an open file once, so it must not be lost.
 */
export class FileSink implements ByteSink {
  /** The bytes go to the file (the page cache): no chunk is kept after its write. */
  readonly copiesChunks = true;
  private closed = false;
  /** Bytes written since the last background flush started. */
  #unflushed = 0;
  /** The background flush under way. */
  #flushing: Promise<void> | undefined;
  /** The first failure of a background flush, thrown by `sync()`. */
  #flushError: unknown;
  /** The last write sent or waiting; settles, never rejects (each caller gets its own failure). */
  #lastWrite: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly fh: SinkFile,
    private readonly path: string,
  ) {}

  write(chunks: readonly Uint8Array[], position: number): Promise<void> {
    const done = this.#lastWrite.then(() => this.#write(chunks, position));
    this.#lastWrite = done.catch(() => undefined);
    return done;
  }

  async #write(chunks: readonly Uint8Array[], position: number): Promise<void> {
    let pending = chunks;
    let pos = position;
    try {
      while (pending.length > 0) {
        const total = pending.reduce((n, c) => n + c.byteLength, 0);
        const { bytesWritten } = await this.fh.writev(pending as Uint8Array[], pos);
        this.#wrote(bytesWritten);
        if (bytesWritten === total) return;
        if (bytesWritten === 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
        pending = dropPrefix(pending, bytesWritten);
        pos += bytesWritten;
      }
    } catch (err) {
      throw fileSystemError(err, `write ${this.path}`);
    }
  }

  #wrote(bytes: number): void {
    this.#unflushed += bytes;
    if (this.#unflushed < WRITEBACK_BYTES || this.#flushing !== undefined || this.closed) return;
    // Another file's flush is under way: try again at the next write.
    if (backgroundFlushes >= MAX_BACKGROUND_FLUSHES) return;
    this.#unflushed = 0;
    backgroundFlushes++;
    this.#flushing = this.fh.datasync().then(
      () => {
        backgroundFlushes--;
        this.#flushing = undefined;
      },
      (err: unknown) => {
        backgroundFlushes--;
        this.#flushError ??= err;
        this.#flushing = undefined;
      },
    );
  }

  async sync(): Promise<void> {
    if (this.closed) return;
    try {
      await this.#lastWrite;
      await this.#flushing;
      if (this.#flushError !== undefined) throw this.#flushError;
      await this.fh.datasync();
    } catch (err) {
      throw fileSystemError(err, `sync ${this.path}`);
    }
  }

  async truncate(length: number): Promise<void> {
    try {
      await this.fh.truncate(length);
    } catch (err) {
      throw fileSystemError(err, `truncate ${this.path}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.#lastWrite;
    await this.#flushing;
    await this.fh.close();
  }
}

function dropPrefix(chunks: readonly Uint8Array[], bytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let skip = bytes;
  for (const c of chunks) {
    if (skip >= c.byteLength) {
      skip -= c.byteLength;
      continue;
    }
    out.push(skip > 0 ? c.subarray(skip) : c);
    skip = 0;
  }
  return out;
}

/** Opens a reader of a file, never through a symlink (what {@link ByteReader} users of files need). */
export function fileReader(path: string): () => Promise<ByteReader> {
  return () => open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
}
