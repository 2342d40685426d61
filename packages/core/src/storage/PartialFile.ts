import { type Stats, constants } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ErrorCodes, FileSystemError, RemoteChangedError, UsageError, fileSystemError, isDownloadError } from '../errors.js';
import type { HookHost, Plugin } from '../engine/hooks.js';
import type { Job } from '../engine/Job.js';
import { fileNameFromUrl, sanitizeFileName } from '../util/fileName.js';
import { FileSink, type SinkFile, fileReader, linkNoClobber } from './FileSink.js';
import { type LockHolder, PidLock } from './PidLock.js';
import { learnDirectory, metadata } from './metadataCalls.js';
import { removeFile } from './removeFile.js';
import { checkRenameTarget, createFreshSinkFile, openOwn, refuseUnsafe } from './safeCreate.js';
import { type SidecarPaths, isSidecarName, sidecarPaths } from './sidecars.js';
import type { ByteSink } from './sink.js';
import { type Reservation, reserveSpace } from './space.js';
import { StateFile, redactUrl } from './StateFile.js';
import type { ByteReader, Storage, StorageContext } from './Storage.js';
import { type SavedState, resumeProblem } from './validateState.js';

const PLUGIN_NAME = 'PartialFile';

/**
 * The built-in storage: the file on disk. Taps `openStorage` and gives each download a
 * {@link PartialFileStorage}: the target chosen in a directory (never overwriting, never through a
 * link), a lock beside it naming the process that writes it (`NAME.mglock`), the bytes at their
 * offsets in one temporary file (`NAME.mgpart`, no merge step), the state of the transfer in
 * `NAME.mgstate` (replaced atomically, only ever claiming durable bytes), and in the end an atomic
 * move into place. It is the only code that knows these names.
 *
 * Safety: a fresh temporary file is made by `createFresh` (a symlink there is refused, a planted
 * hard link to a user's file is unlinked, never truncated or written through), and a resumed one
 * must be a regular file with a single link (`openOwn`). The target is only ever replaced by rename
 * onto a name that holds nothing or a regular file, and without `overwrite` it is created with
 * link(2), which fails rather than clobber a file that appeared meanwhile.
 */
export class PartialFile implements Plugin {
  readonly name = PLUGIN_NAME;

  apply(engine: HookHost): void {
    engine.hooks.openStorage.tapPromise(PLUGIN_NAME, async (job, context) => PartialFileStorage.open(job, context));
  }

  /** Deletes the partial data and the state a download of `target` left beside it (not its lock, not the target). */
  static async removePartial(target: string): Promise<void> {
    const paths = sidecarPaths(target);
    await removeFile(paths.temp);
    await new StateFile(paths.state).remove();
  }

  /** The state a download of `target` left beside it, when there is a valid one. */
  static async readSaved(target: string): Promise<SavedState | undefined> {
    const saved = await new StateFile(sidecarPaths(target).state).read().catch(() => undefined);
    return saved === 'corrupt' ? undefined : saved;
  }
}

/** One download's partial file, state file and lock. Made by {@link PartialFile}. */
export class PartialFileStorage implements Storage {
  readonly #paths: ReturnType<typeof sidecarPaths>;
  readonly #state: StateFile;
  #sink: FileSink | undefined;
  #space: Reservation | undefined;
  #released = false;
  /** A state file (or its temporary) may stand beside the target: false until one is seen or written. */
  #stateFiles: boolean;
  /** The length the data file was created with in this run (undefined: resumed, or size unknown). */
  #createdSize: number | undefined;

  private constructor(
    readonly target: string,
    readonly saved: SavedState | undefined,
    readonly dropped: string | undefined,
    private readonly lock: PidLock,
    private readonly context: StorageContext,
    private readonly overwrite: boolean,
    stateFiles: boolean,
  ) {
    this.#paths = sidecarPaths(target);
    this.#state = new StateFile(this.#paths.state);
    this.#stateFiles = stateFiles;
  }

  /**
   * Picks the target path and loads the state of an earlier run for it. The caller's explicit path
   * is used as is; a name from the server is sanitised and, when taken, numbered (`name.1.ext`).
   */
  static async open(job: Job, context: StorageContext): Promise<PartialFileStorage> {
    const { output, existing: policy } = job.options;
    const explicit = output !== undefined;
    const dir = explicit ? dirname(resolve(output)) : resolve(job.options.dir);
    const base = explicit
      ? basename(resolve(output))
      : sanitizeFileName(job.remote?.fileName ?? fileNameFromUrl(job.remote!.url) ?? fileNameFromUrl(job.url));
    if (explicit && isSidecarName(base)) {
      // Such a file would be taken for the bookkeeping of another download (and could be adopted by it).
      throw new UsageError(ErrorCodes.INVALID_OPTION, `${base} is named like a Multiget sidecar file (.mgpart, .mgstate, .mglock); choose another output name`);
    }
    await checkDirectory(dir, !explicit && job.options.dir !== undefined);
    const me = redactUrl(job.givenUrl);
    const renaming = policy === 'rename' && !explicit;
    for (let i = 0; i < 10_000; i++) {
      const target = join(dir, i === 0 ? base : numbered(base, i));
      if (!context.claim(target)) {
        // Never two writers on one file: another download of this engine is writing it.
        if (renaming) continue;
        throw new FileSystemError(ErrorCodes.FILE_EXISTS, `Another download is already writing ${target}`);
      }
      // ...nor one in another process: a lock file beside the target names its holder.
      const sidecars = sidecarPaths(target);
      const lock = new PidLock(sidecars.lock);
      let holder: LockHolder | undefined;
      try {
        holder = await lock.acquire(me);
      } catch (err) {
        context.unclaim(target);
        throw fileSystemError(err, `lock ${target}`);
      }
      if (holder) {
        context.unclaim(target);
        if (renaming && holder.detail !== me) continue;
        throw new FileSystemError(
          ErrorCodes.FILE_EXISTS,
          `${target} is being downloaded by another process (pid ${holder.pid}); not starting a second writer`,
        );
      }
      const skip = async (): Promise<void> => {
        await lock.release();
        context.unclaim(target);
      };
      const found = await metadata.lstatIfAny(target).catch(() => undefined);
      const targetExists = found !== undefined;
      if (found?.isFile()) {
        try {
          await finishInterruptedCommit(found, sidecars);
        } catch (err) {
          await skip();
          throw fileSystemError(err, `remove the leftovers of a finished download beside ${target}`);
        }
      }
      const stateFile = new StateFile(sidecars.state);
      let saved: SavedState | 'corrupt' | undefined;
      try {
        saved = await stateFile.read();
      } catch (err) {
        await skip();
        throw fileSystemError(err, `read ${stateFile.path}`);
      }
      // Read without following a link: nothing at all stands at the state file's name.
      const noState = saved === undefined;
      if (saved !== undefined && saved !== 'corrupt' && saved.target !== basename(target)) {
        // Written for another name (copied or planted here): not this target's bookkeeping.
        saved = 'corrupt';
      }
      const oursState = saved !== undefined && saved !== 'corrupt' && sameDownload(saved, job, basename(target));
      if (targetExists && !(oursState && policy === 'overwrite')) {
        await skip();
        if (renaming) continue;
        if (policy !== 'overwrite') {
          throw new FileSystemError(ErrorCodes.FILE_EXISTS, `${target} already exists; not overwriting it (use --overwrite to replace it)`);
        }
        // Overwrite: take the claims again (released above only to keep one exit path).
        context.claim(target);
        if (await lock.acquire(me)) throw new FileSystemError(ErrorCodes.FILE_EXISTS, `${target} is being downloaded by another process`);
      }
      if (saved !== undefined && saved !== 'corrupt' && !oursState) {
        if (renaming) {
          await skip();
          continue;
        }
        if (policy !== 'overwrite') {
          await skip();
          throw new FileSystemError(
            ErrorCodes.FILE_EXISTS,
            `${sidecars.temp} holds a partial download of ${saved.url}; not overwriting it (use --overwrite)`,
          );
        }
        saved = undefined;
      }
      let dropped: string | undefined;
      let stateFiles: boolean;
      if (saved === 'corrupt') {
        // Never repaired, never partly trusted: a state either validates fully or is discarded.
        dropped = `${stateFile.path} is not a complete, consistent state of this download; starting over`;
        saved = undefined;
      }
      try {
        // Checked now, so that a planted symlink fails the download at once with MG_ERR_UNSAFE_PATH
        // rather than at the first checkpoint; each create checks again (createFresh).
        await refuseUnsafe(sidecars.temp, 'the partial download');
        if (!noState) await refuseUnsafe(sidecars.state, 'the state file');
        // A state file (or a new one a crash left unrenamed) to remove at the end: else the
        // removal is skipped until this run writes one (the lock keeps every other writer away).
        stateFiles = (await refuseUnsafe(sidecars.stateTmp, 'the new state file')) || !noState;
      } catch (err) {
        await skip();
        throw err;
      }
      return new PartialFileStorage(target, saved, dropped, lock, context, policy === 'overwrite', stateFiles);
    }
    throw new FileSystemError(ErrorCodes.FILE_EXISTS, `No free file name for ${base} in ${dir}`);
  }

  async open(resume: boolean, size: number | undefined, bytesLeft: () => number): Promise<ByteSink> {
    await this.#sink?.close();
    this.#sink = undefined;
    this.#createdSize = undefined;
    this.#space?.release();
    // Fails at once with MG_ERR_NO_SPACE when the bytes still to come do not fit beside what the
    // other downloads of this process still need on that file system.
    this.#space = size === undefined ? undefined : await reserveSpace(dirname(this.target), bytesLeft);
    const path = this.#paths.temp;
    let fh: SinkFile | undefined;
    try {
      if (resume) {
        fh = await openOwn(path, 'the partial download');
      } else {
        fh = await createFreshSinkFile(path, 'the partial download');
        // A sparse file of the final size: writes land at their offsets, the length is right from the start.
        if (size !== undefined) await fh.truncate(size);
        this.#createdSize = size;
      }
    } catch (err) {
      await fh?.close().catch(() => undefined);
      throw fileSystemError(err, `write ${path}`);
    }
    this.#sink = new FileSink(fh, path);
    return this.#sink;
  }

  async checkLength(bytes: number): Promise<void> {
    const st = await metadata.stat(this.#paths.temp).catch(() => undefined);
    if (!st || st.size < bytes) throw new RemoteChangedError('The partial file is missing or shorter than its state says');
  }

  openReader(): Promise<ByteReader> {
    return fileReader(this.#paths.temp)();
  }

  async checkpoint(state: SavedState): Promise<void> {
    await this.#sink?.sync();
    this.#stateFiles = true;
    await this.#state.write(state);
  }

  async forget(): Promise<void> {
    await this.#removeState();
  }

  async flush(size: number): Promise<void> {
    if (!this.#sink) return;
    // A file created at this length in this run has it still (writes stay below it).
    if (this.#createdSize !== size) await this.#sink.truncate(size);
    await this.#sink.sync();
  }

  async #removeState(): Promise<void> {
    if (!this.#stateFiles) return;
    await this.#state.remove();
    this.#stateFiles = false;
  }

  async commit(): Promise<void> {
    await this.#sink?.close();
    const { temp } = this.#paths;
    try {
      if (this.overwrite) {
        await checkRenameTarget(this.target, 'the target');
        await metadata.rename(temp, this.target);
      } else {
        await linkNoClobber(temp, this.target);
      }
    } catch (err) {
      throw fileSystemError(err, `move the finished file to ${this.target}`);
    }
    await this.#removeState();
    // The data was fdatasync'ed in `flush`, so the name never points at unwritten bytes. The
    // directory is not fsync'ed: a power cut that loses the rename leaves the .mgpart, and the
    // next run downloads again; nothing incomplete ever carries the final name.
  }

  async remove(): Promise<void> {
    await this.#sink?.close().catch(() => undefined);
    await removeFile(this.#paths.temp);
    await this.#removeState();
  }

  async release(): Promise<void> {
    await this.#sink?.close().catch(() => undefined);
    this.#space?.release();
    this.#space = undefined;
    if (this.#released) return;
    this.#released = true;
    await this.lock.release().catch(() => undefined);
    this.context.unclaim(this.target);
  }
}

/**
 * True when a saved state is of this download. The same URL: ours (its validators are checked
 * against the server afterwards, and a changed file starts over). Another URL (a re-signed link,
 * a new CDN token, a mirror) for the target the caller named: ours only when the size and the
 * validators the state recorded are those of the file the new URL serves, so the bytes of another
 * file are never adopted, nor silently discarded.
 */
function sameDownload(saved: SavedState, job: Job, targetName: string): boolean {
  // Its own URL, or one it had before (Manager.updateUrl: the link was replaced).
  if (saved.url === redactUrl(job.givenUrl) || job.options.previousUrls.includes(saved.url)) return true;
  return job.options.output !== undefined && job.remote !== undefined && resumeProblem(saved, targetName, job.remote) === undefined;
}

function numbered(base: string, n: number): string {
  const ext = extname(base);
  const stem = ext && ext !== base ? base.slice(0, -ext.length) : base;
  return `${stem}.${n}${ext === base ? '' : ext}`;
}

/**
 * A run killed between linking its finished file to the target (`finished`: the target's lstat)
 * and removing the sidecars left them behind (commit links the partial file to the target, then
 * unlinks the partial file, then removes the state): the partial file's name still on the target's
 * bytes (one file, two names), or no partial file but a state. The download they describe is complete; the partial file's name only
 * shares the target's bytes (a later run would refuse to write through it), and a state without
 * its partial file resumes nothing. Removes those names, never the target; called with the
 * target's lock held, so no run is under way. A partial file of its own (another inode) is a
 * download under way and stays, as does the state beside it.
 */
async function finishInterruptedCommit(finished: Stats, sidecars: SidecarPaths): Promise<void> {
  const partial = await metadata.lstatIfAny(sidecars.temp);
  if (partial !== undefined) {
    if (!partial.isFile() || partial.ino !== finished.ino || partial.dev !== finished.dev) return;
    await removeFile(sidecars.temp);
  }
  await removeFile(sidecars.state);
  await removeFile(sidecars.stateTmp);
}

async function checkDirectory(dir: string, create: boolean): Promise<void> {
  try {
    // Usually there: one stat, and mkdir only when it is missing.
    const st = await metadata.statDirectory(dir).catch(async (err: unknown) => {
      if (!create || (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(dir, { recursive: true });
      return await metadata.statDirectory(dir);
    });
    if (!st.isDirectory()) {
      throw new FileSystemError(ErrorCodes.NOT_WRITABLE, `${dir} is not a directory`);
    }
    // From here on the download's own calls in `dir` (its lock, its sidecars) may run synchronously.
    await learnDirectory(dir);
    await metadata.accessDirectory(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    if (isDownloadError(err)) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new FileSystemError(
      ErrorCodes.NOT_WRITABLE,
      code === 'ENOENT' ? `The directory ${dir} does not exist` : `The directory ${dir} is not writable`,
      { cause: err, ...(code ? { errno: code } : {}) },
    );
  }
}
