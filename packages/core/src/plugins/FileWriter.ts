import { type FileHandle, link, lstat, rename, unlink } from 'node:fs/promises';
import { ErrorCodes, FileSystemError, fileSystemError } from '../errors.js';
import type { HookHost, Plugin } from '../engine/hooks.js';
import type { Job } from '../engine/Job.js';
import type { ByteSink } from '../storage/sink.js';
import { checkRenameTarget, createFresh, openOwn } from '../storage/safeCreate.js';
import { StateFile } from '../storage/StateFile.js';

const PLUGIN_NAME = 'FileWriter';

/**
 * The built-in file writer. Bytes go at their offsets into one temporary file beside the target
 * (`<target>.mgpart`): no per-segment files, no merge step. `assemble` makes them durable, `commit`
 * moves the verified file into place atomically and removes the sidecar state.
 *
 * Safety: a fresh temporary file is made by `createFresh` (a symlink there is refused, a planted
 * hard link to a user's file is unlinked, never truncated or written through), and a resumed one
 * must be a regular file with a single link (`openOwn`). The target is only ever replaced by rename
 * onto a name that holds nothing or a regular file, and without `overwrite` it is created with
 * link(2), which fails rather than clobber a file that appeared meanwhile.
 */
export class FileWriter implements Plugin {
  readonly name = PLUGIN_NAME;

  apply(engine: HookHost): void {
    engine.hooks.openSink.tapPromise(PLUGIN_NAME, async (job) => openFileSink(job));
    engine.hooks.assemble.tapPromise(PLUGIN_NAME, async (job) => {
      if (!job.sink) return;
      const size = job.remote?.size ?? job.bytesDone;
      await job.sink.truncate(size);
      await job.sink.sync();
    });
    engine.hooks.commit.tapPromise(PLUGIN_NAME, async (job) => {
      const { tempPath, target } = job;
      if (!tempPath || !target) return;
      await job.sink?.close();
      try {
        if (job.options.existing === 'overwrite') {
          await checkRenameTarget(target, 'the target');
          await rename(tempPath, target);
        } else {
          await linkNoClobber(tempPath, target);
        }
      } catch (err) {
        throw fileSystemError(err, `move the finished file to ${target}`);
      }
      if (job.statePath) await new StateFile(job.statePath).remove();
      // The data was fdatasync'ed in `assemble`, so the name never points at unwritten bytes. The
      // directory is not fsync'ed: a power cut that loses the rename leaves the .mgpart, and the
      // next run downloads again; nothing incomplete ever carries the final name.
    });
  }
}

async function linkNoClobber(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new FileSystemError(ErrorCodes.FILE_EXISTS, `${to} appeared while downloading; it was left untouched`, {
        errno: code,
      });
    }
    // File systems without hard links: fall back to a checked rename.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EXDEV') {
      const exists = await lstat(to).then(
        () => true,
        () => false,
      );
      if (exists) throw new FileSystemError(ErrorCodes.FILE_EXISTS, `${to} appeared while downloading; it was left untouched`);
      await rename(from, to);
      return;
    }
    throw err;
  }
  await unlink(from);
}

async function openFileSink(job: Job): Promise<ByteSink> {
  const path = job.tempPath;
  if (!path) throw new FileSystemError(ErrorCodes.INTERNAL, 'No temporary path was chosen');
  let fh: FileHandle;
  try {
    if (job.resumed) {
      fh = await openOwn(path, 'the partial download');
    } else {
      fh = await createFresh(path, 'the partial download', true);
      const size = job.remote?.size;
      // A sparse file of the final size: writes land at their offsets, the length is right from the start.
      if (size !== undefined) await fh.truncate(size);
    }
  } catch (err) {
    throw fileSystemError(err, `write ${path}`);
  }
  return new FileSink(fh, path);
}

class FileSink implements ByteSink {
  private closed = false;

  constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
  ) {}

  async write(chunks: readonly Uint8Array[], position: number): Promise<void> {
    let pending = chunks;
    let pos = position;
    try {
      while (pending.length > 0) {
        const total = pending.reduce((n, c) => n + c.byteLength, 0);
        const { bytesWritten } = await this.fh.writev(pending as Uint8Array[], pos);
        if (bytesWritten === total) return;
        if (bytesWritten === 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
        pending = dropPrefix(pending, bytesWritten);
        pos += bytesWritten;
      }
    } catch (err) {
      throw fileSystemError(err, `write ${this.path}`);
    }
  }

  async sync(): Promise<void> {
    if (this.closed) return;
    try {
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
