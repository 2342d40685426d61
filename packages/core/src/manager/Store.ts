import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, FileSystemError, fileSystemError } from '../errors.js';
import { syncDirectory } from '../StateFile.js';

/**
 * The manager's state directory: JSON documents written atomically (write, fsync, rename), and a
 * lock file so that two processes never manage the same directory.
 *
 * Why files and not SQLite: the service runs wherever VS Code runs its extensions (any OS, Electron's
 * Node), and node:sqlite is still experimental in the Node versions we support; a native addon would
 * need a build per platform. The documents are small (the queue and a capped history), so rewriting
 * them whole is cheap and atomic rename gives crash safety without a database.
 */
export class Store {
  private locked = false;

  constructor(readonly dir: string) {}

  /** Creates the directory and takes the lock. Fails with MG_ERR_STATE_LOCKED if a live process holds it. */
  async open(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fileSystemError(err, `create the state directory ${this.dir}`);
    }
    await this.lock();
  }

  private get lockPath(): string {
    return join(this.dir, 'manager.lock');
  }

  private async lock(): Promise<void> {
    const me = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await open(this.lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        await fh.writeFile(me);
        await fh.close();
        this.locked = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fileSystemError(err, `lock ${this.dir}`);
      }
      const holder = await this.readLock();
      if (holder && holder.host === hostname() && isAlive(holder.pid) && holder.pid !== process.pid) {
        throw new FileSystemError(
          ErrorCodes.STATE_LOCKED,
          `${this.dir} is in use by another Multiget process (pid ${holder.pid}); use another state directory`,
        );
      }
      // A stale lock (its process is gone): remove it and try again. Renaming first means two
      // processes that both saw it stale cannot both delete a fresh lock.
      const stale = `${this.lockPath}.stale-${process.pid}`;
      await rename(this.lockPath, stale).catch(() => undefined);
      await rm(stale, { force: true });
    }
    throw new FileSystemError(ErrorCodes.STATE_LOCKED, `Could not lock ${this.dir}`);
  }

  private async readLock(): Promise<{ pid: number; host: string } | undefined> {
    try {
      const v = JSON.parse(await readFile(this.lockPath, 'utf8')) as { pid?: unknown; host?: unknown };
      return typeof v.pid === 'number' && typeof v.host === 'string' ? { pid: v.pid, host: v.host } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Releases the lock. */
  async close(): Promise<void> {
    if (!this.locked) return;
    this.locked = false;
    await rm(this.lockPath, { force: true });
  }

  /** Reads a document, or undefined when it is missing or unreadable (the caller starts empty). */
  async read<T>(name: string): Promise<T | undefined> {
    try {
      const fh = await open(join(this.dir, name), constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        return JSON.parse(await fh.readFile('utf8')) as T;
      } finally {
        await fh.close();
      }
    } catch {
      return undefined;
    }
  }

  /** Replaces a document atomically. */
  async write(name: string, value: unknown): Promise<void> {
    if (!this.locked) throw new FileSystemError(ErrorCodes.STATE_LOCKED, `${this.dir} is not locked by this process`);
    const path = join(this.dir, name);
    const tmp = `${path}.tmp`;
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
    try {
      await fh.writeFile(JSON.stringify(value));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    await syncDirectory(this.dir);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
