import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { metadata } from './metadataCalls.js';
import { removeFile } from './removeFile.js';
import { writeExclusive } from './safeCreate.js';

/** What a lock file records about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  /** Free-form detail the holder chose to record (e.g. the URL being downloaded). */
  detail?: string;
}

/**
 * This machine's name, asked once per process: every download takes a lock, and `os.hostname()`
 * cost 9 µs a call (9 ms of CPU in a batch of 1,000 small files, `--cpu-prof`). A name changed
 * while the process runs is seen by its next start.
 */
let thisHost: string | undefined;
function hostName(): string {
  return (thisHost ??= hostname());
}

/**
 * The locks this process holds, by path, with what each records. A lock file names its process, so
 * another PidLock of this process on the same file would take the file for a leftover of its own
 * and take it over: two holders in one process (two managers on one state directory, two engines
 * on one target, a content-store copy beside a running download). It meets the holder here instead.
 */
const heldHere = new Map<string, LockHolder>();

/**
 * A lock file owned by one process: created exclusively, holding the owner's pid and host. A lock
 * whose process no longer exists (it was killed) is stale and taken over. Locks on other hosts
 * (a shared network folder) are never judged stale, since their pids cannot be checked.
 */
export class PidLock {
  #held = false;

  constructor(readonly path: string) {}

  /** True while this process holds the lock. */
  get held(): boolean {
    return this.#held;
  }

  /**
   * Takes the lock, or returns the live holder that has it. Throws only on file-system errors
   * (MG_ERR_UNSAFE_PATH when a symlink or other non-regular file stands at the lock's name).
   */
  async acquire(detail?: string): Promise<LockHolder | undefined> {
    const me: LockHolder = { pid: process.pid, host: hostName(), ...(detail !== undefined ? { detail } : {}) };
    // Claimed before the first await, so that two PidLocks of this process never race for the file.
    const key = resolve(this.path);
    const here = heldHere.get(key);
    if (here) return here;
    heldHere.set(key, me);
    try {
      const holder = await this.#take(me);
      if (holder === undefined) this.#held = true;
      return holder;
    } finally {
      if (!this.#held) heldHere.delete(key);
    }
  }

  async #take(me: LockHolder): Promise<LockHolder | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.#create(me)) return undefined;
      const holder = await readHolder(this.path);
      if (holder && (holder.host !== me.host || (isAlive(holder.pid) && holder.pid !== process.pid))) return holder;
      // Unreadable but new: a holder that is still writing it (a file system without hard links, or
      // an older Multiget). Taking it over would make two holders.
      if (!holder && (await ageMs(this.path)) < UNREADABLE_GRACE_MS) return { pid: -1, host: 'unknown' };
      // Stale (its process is gone) or unreadable. Renaming first means two processes that both saw
      // it stale cannot both delete a lock that a third one just created.
      const stale = `${this.path}.stale-${process.pid}`;
      await metadata.rename(this.path, stale).catch(() => undefined);
      await removeFile(stale);
    }
    return (await readHolder(this.path)) ?? { pid: -1, host: 'unknown' };
  }

  /**
   * Creates the lock file exclusively (O_CREAT | O_EXCL | O_NOFOLLOW: never through a link, never
   * over a file) and writes the holder into it. Another process may meet it created and not yet
   * written: `acquire` counts an unreadable lock younger than UNREADABLE_GRACE_MS as held, never
   * as stale. (It was written to a draft of our own and hard-linked into place, so that nobody saw
   * it empty: two more calls per download, 4 % of the CPU of a batch of 1,000 small files, and the
   * rule above was needed anyway where a file system has no hard links.) Resolves false when the
   * name is taken.
   */
  async #create(me: LockHolder): Promise<boolean> {
    return await writeExclusive(this.path, 'the lock file', JSON.stringify(me), 0o600);
  }

  /** Releases the lock if this process holds it. */
  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    try {
      await removeFile(this.path);
    } finally {
      heldHere.delete(resolve(this.path));
    }
  }
}

/** How long an unreadable lock file counts as held (its creator may still be writing it). */
const UNREADABLE_GRACE_MS = 10_000;

/** Milliseconds since the file at `path` was last modified (Infinity when it is gone). */
async function ageMs(path: string): Promise<number> {
  try {
    return Date.now() - (await metadata.lstat(path)).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    // Never through a symlink, never blocking on a FIFO, never more than a lock's worth of bytes.
    const file = await metadata.readSmallFile(path, 64 * 1024);
    if (file.kind !== 'text') return undefined;
    const v = JSON.parse(file.text) as Partial<LockHolder>;
    if (typeof v.pid !== 'number' || typeof v.host !== 'string') return undefined;
    return { pid: v.pid, host: v.host, ...(typeof v.detail === 'string' ? { detail: v.detail } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * Whether a process with this pid is running (EPERM: it exists but belongs to someone else). A
 * zombie (it exited but its parent has not reaped it, e.g. a parent that was killed too, in a
 * container whose PID 1 does not reap) still answers signal 0 but will never run again: it counts
 * as gone.
 */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

/** Linux: the state letter in /proc/PID/stat is Z (zombie) or X (dead). Elsewhere: false. */
function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return false;
  }
  // "pid (comm) S ...": comm may itself contain spaces and parentheses, so look after the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 1).trimStart()[0];
  return state === 'Z' || state === 'X';
}
