import { closeSync, constants, openSync, writeFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCodes, FileSystemError, fileSystemError } from '../errors.js';
import { DescriptorFile, type SinkFile } from './FileSink.js';
import { isLocalDirectory, metadata } from './metadataCalls.js';

/**
 * The one way Multiget creates a file. Whatever stands at the name is looked at without following
 * it: a symbolic link or anything but a regular file is refused (MG_ERR_UNSAFE_PATH: someone put it
 * there, and neither following nor silently removing it is right); a regular file (a stale copy of
 * our own, or a hard link planted to make us write into another file) is unlinked, which removes the
 * name and never touches the linked bytes. The new file is then opened with O_CREAT | O_EXCL |
 * O_NOFOLLOW, so no existing inode is ever opened for writing and nothing is ever truncated.
 *
 * @param path - where to create the file
 * @param what - what the file is for, for the error message
 * @param readable - open read-write (the temporary data file) instead of write-only
 * @param mode - permission bits of the new file (before the umask)
 */
export async function createFresh(path: string, what: string, readable = false, mode = 0o644): Promise<FileHandle> {
  return await createExclusively(path, what, () => open(path, freshFlags(readable), mode));
}

/**
 * Creates the partial file of a download as {@link createFresh} does, read-write: in a directory on
 * a local file system (see metadataCalls.ts) opened synchronously, as a {@link DescriptorFile}.
 */
export async function createFreshSinkFile(path: string, what: string): Promise<SinkFile> {
  if (isLocalDirectory(dirname(path))) return new DescriptorFile(await createFreshDescriptor(path, what, true, 0o644));
  return await createFresh(path, what, true);
}

/** {@link createFresh}, opened synchronously: a descriptor (for a local directory). */
async function createFreshDescriptor(path: string, what: string, readable: boolean, mode: number): Promise<number> {
  return await createExclusively(path, what, async () => openSync(path, freshFlags(readable), mode));
}

/** The flags of every fresh create: never an existing name, never through a link. */
function freshFlags(readable: boolean): number {
  return (readable ? constants.O_RDWR : constants.O_WRONLY) | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
}

/** The exclusive create of {@link createFresh}, whatever `create` returns (a FileHandle, a descriptor). */
async function createExclusively<T>(path: string, what: string, create: () => Promise<T>): Promise<T> {
  // The usual case, a free name, costs one call: the exclusive open. Only when something stands
  // there is it inspected and removed, then the open tried again. Twice at most: a second EEXIST means
  // another process creates the same name at the same moment, which the lock should have prevented;
  // refuse rather than race it.
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) {
      await refuseUnsafe(path, what);
      try {
        await metadata.unlink(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileSystemError(err, `replace ${path} (${what})`);
      }
    }
    try {
      return await create();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 2) continue;
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new FileSystemError(ErrorCodes.UNSAFE_PATH, `${path} (${what}) keeps reappearing; refusing to write to it`, {
          cause: err,
          errno: 'EEXIST',
        });
      }
      throw fileSystemError(err, `create ${path} (${what})`);
    }
  }
}

/**
 * Creates a file only if nothing stands at the name (O_CREAT | O_EXCL | O_NOFOLLOW), for files
 * whose existence means something (a lock). Returns undefined when the name is taken by a regular
 * file; throws MG_ERR_UNSAFE_PATH when a symlink or other non-regular file stands there.
 */
export async function createExclusive(path: string, what: string, mode = 0o644): Promise<FileHandle | undefined> {
  return await openExclusive(path, what, () => open(path, freshFlags(false), mode));
}

/**
 * {@link createExclusive} and writes `content` into the new file; resolves false when the name is
 * taken by a regular file. In a local directory the calls are synchronous (see metadataCalls).
 */
export async function writeExclusive(path: string, what: string, content: string, mode = 0o644): Promise<boolean> {
  if (isLocalDirectory(dirname(path))) {
    const fd = await openExclusive(path, what, async () => openSync(path, freshFlags(false), mode));
    if (fd === undefined) return false;
    try {
      writeFileSync(fd, content);
    } finally {
      closeSync(fd);
    }
    return true;
  }
  const fh = await createExclusive(path, what, mode);
  if (!fh) return false;
  try {
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
  return true;
}

/** The exclusive create of {@link createExclusive}, whatever `create` returns (a FileHandle, a descriptor). */
async function openExclusive<T>(path: string, what: string, create: () => Promise<T>): Promise<T | undefined> {
  try {
    return await create();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fileSystemError(err, `create ${path} (${what})`);
  }
  await refuseUnsafe(path, what);
  return undefined;
}

/**
 * Throws MG_ERR_UNSAFE_PATH when something other than a regular file stands at `path` (a symlink, a
 * directory, a FIFO, a device). Nothing there, or a regular file, passes: resolves whether a regular
 * file stands there. Used before every rename onto a name, and before a name is reused.
 */
export async function refuseUnsafe(path: string, what: string): Promise<boolean> {
  let st;
  try {
    st = await metadata.lstatIfAny(path);
  } catch (err) {
    throw fileSystemError(err, `inspect ${path} (${what})`);
  }
  if (st === undefined) return false;
  if (!st.isFile()) {
    throw new FileSystemError(
      ErrorCodes.UNSAFE_PATH,
      `${path} (${what}) is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}; refusing to write through it`,
    );
  }
  return true;
}

/**
 * Checks a name that a finished file is about to be renamed onto: nothing there, a regular file, or
 * a symbolic link pass (rename(2) replaces the name itself, never what a link points to); a
 * directory or a special file is refused with MG_ERR_UNSAFE_PATH.
 */
export async function checkRenameTarget(path: string, what: string): Promise<void> {
  let st;
  try {
    st = await metadata.lstatIfAny(path);
  } catch (err) {
    throw fileSystemError(err, `inspect ${path} (${what})`);
  }
  if (st === undefined) return;
  if (!st.isFile() && !st.isSymbolicLink()) {
    throw new FileSystemError(ErrorCodes.UNSAFE_PATH, `${path} (${what}) is not a regular file; refusing to replace it`);
  }
}

/**
 * Opens an existing file of our own for reading and writing (a temporary file being resumed): never
 * through a symlink, and only when it is a regular file with a single link, so that a hard link
 * planted in place of our file cannot make us write into another one.
 */
export async function openOwn(path: string, what: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (err) {
    throw fileSystemError(err, `open ${path} (${what})`);
  }
  const st = await fh.stat();
  if (!st.isFile() || st.nlink !== 1) {
    await fh.close();
    throw new FileSystemError(ErrorCodes.UNSAFE_PATH, `${path} (${what}) is not a plain file of its own; refusing to write to it`);
  }
  return fh;
}
