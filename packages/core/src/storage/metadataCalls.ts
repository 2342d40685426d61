import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  linkSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  statfsSync,
  statSync,
  unlinkSync,
  type Stats,
  type StatsFs,
} from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Name and metadata calls (lstat, stat, access, link, unlink, rename, statfs, and the whole read of
 * a small sidecar) on the files a download keeps in its directory: its lock, its state, the checks
 * of its names, the partial file's final link.
 *
 * Each `fs/promises` call is a round trip through libuv's thread pool: the request queued, a worker
 * woken on another core, the result posted back to the event loop. That costs more CPU than the
 * system call itself on a local disk (1-5 µs), and a small download makes about twenty such calls,
 * so for a queue of small files the round trips cost more than the transfers: 1,000 downloads of
 * 64 KiB into tmpfs used 1.23 CPU s with every call on the pool, 0.91 with these and the partial
 * file's create, sizing and close run synchronously (about 20 µs per call, on the project's 2-core
 * VM). So in a directory on a local file system they run synchronously (and a missing file is
 * answered without building an error).
 * Elsewhere (NFS, SMB, FUSE, 9P, any file system not known to be local, and every system but Linux,
 * where statfs(2) names the type) a call can wait on a network or a hung server: there they stay on
 * the thread pool, so that a slow call holds up its own download and never the others. The partial
 * file itself is created, sized and closed the same way (`createFreshSinkFile`, `DescriptorFile`);
 * reads, writes and fsync always stay on the pool.
 *
 * A directory counts as local once {@link learnDirectory} found it so, for a minute (a mount can
 * change what a path is on); until then calls on it take the thread pool.
 */

/** statfs(2) `f_type` values of Linux file systems whose metadata calls never wait on a network. */
export const LOCAL_FILE_SYSTEMS: ReadonlyMap<number, string> = new Map([
  [0xef53, 'ext2/3/4'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x01021994, 'tmpfs'],
  [0x858458f6, 'ramfs'],
  [0xf2f52010, 'f2fs'],
  [0x2fc12fc1, 'zfs'],
  [0xca451a4e, 'bcachefs'],
  [0x794c7630, 'overlayfs'],
  [0x3153464a, 'jfs'],
  [0x52654973, 'reiserfs'],
  [0x3434, 'nilfs2'],
]);

/** How long what {@link learnDirectory} found about a directory holds (ms): a mount can change it. */
const KNOWN_FOR_MS = 60_000;
/** Directories remembered at most; past that the memory starts over (each is learned again). */
const MAX_DIRECTORIES = 4096;

/** Directory → whether it is local, and until when (performance.now()) that holds. */
const known = new Map<string, { local: boolean; until: number }>();
/** Directory → its statfs(2) in flight, so that downloads starting together ask once. */
const learning = new Map<string, Promise<void>>();

const syncAllowed = process.platform === 'linux';

/** True when metadata calls on entries of `dir` run synchronously (see the module's comment). */
export function isLocalDirectory(dir: string): boolean {
  const k = known.get(dir);
  return k !== undefined && k.local && performance.now() < k.until;
}

/**
 * Finds out whether `dir` is on a local file system: one statfs(2) on the thread pool, at most once
 * a minute per directory. Never throws: a directory that cannot be asked counts as not local.
 */
export async function learnDirectory(dir: string): Promise<void> {
  if (!syncAllowed) return;
  const k = known.get(dir);
  if (k !== undefined && performance.now() < k.until) return;
  let pending = learning.get(dir);
  if (!pending) {
    const remember = (local: boolean): void => {
      if (known.size >= MAX_DIRECTORIES) known.clear();
      known.set(dir, { local, until: performance.now() + KNOWN_FOR_MS });
    };
    pending = fsp
      .statfs(dir)
      .then(
        (fs) => remember(LOCAL_FILE_SYSTEMS.has(fs.type)),
        () => remember(false),
      )
      .finally(() => learning.delete(dir));
    learning.set(dir, pending);
  }
  await pending;
}

const ENOENT = 'ENOENT';

/** What {@link metadata.readSmallFile} found at a name. */
export type SmallFile = { kind: 'text'; text: string } | { kind: 'not-a-file' } | { kind: 'too-big' };

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Why {@link metadata.readSmallFile} does not read what stands there, or undefined when it may. */
function refusal(st: Stats, maxBytes: number): SmallFile | undefined {
  if (!st.isFile()) return { kind: 'not-a-file' };
  if (st.size > maxBytes) return { kind: 'too-big' };
  return undefined;
}

/** The calls, each with the signature and errors of its `fs/promises` namesake. */
export const metadata = {
  async lstat(path: string): Promise<Stats> {
    return isLocalDirectory(dirname(path)) ? lstatSync(path) : await fsp.lstat(path);
  },

  /** lstat(2), or undefined when nothing stands at `path` (ENOENT); other errors are thrown. */
  async lstatIfAny(path: string): Promise<Stats | undefined> {
    if (isLocalDirectory(dirname(path))) return lstatSync(path, { throwIfNoEntry: false });
    try {
      return await fsp.lstat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === ENOENT) return undefined;
      throw err;
    }
  },

  async stat(path: string): Promise<Stats> {
    return isLocalDirectory(dirname(path)) ? statSync(path) : await fsp.stat(path);
  },

  async link(from: string, to: string): Promise<void> {
    if (isLocalDirectory(dirname(to)) && isLocalDirectory(dirname(from))) linkSync(from, to);
    else await fsp.link(from, to);
  },

  async unlink(path: string): Promise<void> {
    if (isLocalDirectory(dirname(path))) unlinkSync(path);
    else await fsp.unlink(path);
  },

  async rename(from: string, to: string): Promise<void> {
    if (isLocalDirectory(dirname(to)) && isLocalDirectory(dirname(from))) renameSync(from, to);
    else await fsp.rename(from, to);
  },

  /** stat(2) of a directory itself (its own locality decides). */
  async statDirectory(dir: string): Promise<Stats> {
    return isLocalDirectory(dir) ? statSync(dir) : await fsp.stat(dir);
  },

  /** access(2) of a directory itself. */
  async accessDirectory(dir: string, mode: number): Promise<void> {
    if (isLocalDirectory(dir)) accessSync(dir, mode);
    else await fsp.access(dir, mode);
  },

  /**
   * Reads a small file of our own whole (a state, a lock): never through a symbolic link (ELOOP),
   * never blocking on a FIFO, and only a regular file of at most `maxBytes`. ENOENT and other errors
   * are thrown.
   */
  async readSmallFile(path: string, maxBytes: number): Promise<SmallFile> {
    if (isLocalDirectory(dirname(path))) {
      const fd = openSync(path, READ_FLAGS);
      try {
        return refusal(fstatSync(fd), maxBytes) ?? { kind: 'text', text: readFileSync(fd, 'utf8') };
      } finally {
        closeSync(fd);
      }
    }
    const fh = await fsp.open(path, READ_FLAGS);
    try {
      return refusal(await fh.stat(), maxBytes) ?? { kind: 'text', text: await fh.readFile('utf8') };
    } finally {
      await fh.close();
    }
  },

  /**
   * {@link readSmallFile}, or undefined when nothing stands at `path`. In a local directory an
   * lstat(2) that throws nothing comes first: most downloads have no state file to read, and the
   * ENOENT error an open(2) throws cost more than the download's other metadata calls together
   * (28 ms of CPU in a batch of 1,000 small files, `--cpu-prof`).
   */
  async readSmallFileIfAny(path: string, maxBytes: number): Promise<SmallFile | undefined> {
    if (isLocalDirectory(dirname(path)) && (await metadata.lstatIfAny(path)) === undefined) return undefined;
    try {
      return await metadata.readSmallFile(path, maxBytes);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === ENOENT) return undefined;
      throw err;
    }
  },

  /** statfs(2) of a directory's file system. */
  async statfsDirectory(dir: string): Promise<StatsFs> {
    return isLocalDirectory(dir) ? statfsSync(dir) : await fsp.statfs(dir);
  },
} as const;
