import { constants } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, FileSystemError, fileSystemError } from '../../errors.js';
import { PidLock } from '../../storage/PidLock.js';
import { syncDirectory } from '../../storage/StateFile.js';
import type { ManagerDocuments, ManagerStore } from './ManagerStore.js';

/**
 * The default {@link ManagerStore}: the manager's state directory, JSON documents (`queue.json`,
 * `history.json`; the content store keeps its own `content.jsonl` there, see `contentFile`) written
 * atomically (write, fsync, rename), and a lock file so that two processes never manage the same
 * directory.
 *
 * Why files and not SQLite: the service runs wherever VS Code runs its extensions (any OS, Electron's
 * Node), and node:sqlite is still experimental in the Node versions we support; a native addon would
 * need a build per platform. The documents are small (the queue and a capped history), so rewriting
 * them whole is cheap and atomic rename gives crash safety without a database.
 */
export class JsonFileStore implements ManagerStore {
  readonly #lock: PidLock;

  /** @param dir - the state directory (created when missing, mode 0700) */
  constructor(
    /** The state directory. */
    readonly dir: string,
  ) {
    this.#lock = new PidLock(join(dir, 'manager.lock'));
  }

  /**
   * Creates the directory and takes the lock. Fails with MG_ERR_STATE_LOCKED if a live process
   * holds it, this one included (another store of this process has it open).
   */
  async open(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fileSystemError(err, `create the state directory ${this.dir}`);
    }
    await this.lock();
  }

  private async lock(): Promise<void> {
    let holder;
    try {
      holder = await this.#lock.acquire('manager');
    } catch (err) {
      throw fileSystemError(err, `lock ${this.dir}`);
    }
    if (holder) {
      const here = holder.host === hostname();
      const who = here && holder.pid === process.pid ? 'another manager of this process' : `another Multiget process (pid ${holder.pid}${here ? '' : ` on ${holder.host}`})`;
      throw new FileSystemError(ErrorCodes.STATE_LOCKED, `${this.dir} is in use by ${who}; close it first or use another state directory`);
    }
  }

  /** Releases the lock. */
  async close(): Promise<void> {
    await this.#lock.release();
  }

  /** Reads a document, or undefined when it is missing or unreadable (the caller starts empty). */
  async read<K extends keyof ManagerDocuments>(name: K): Promise<ManagerDocuments[K] | undefined> {
    try {
      const fh = await open(join(this.dir, `${name}.json`), constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        return JSON.parse(await fh.readFile('utf8')) as ManagerDocuments[K];
      } finally {
        await fh.close();
      }
    } catch {
      return undefined;
    }
  }

  /** Replaces a document atomically. */
  async write<K extends keyof ManagerDocuments>(name: K, value: ManagerDocuments[K]): Promise<void> {
    if (!this.#lock.held) throw new FileSystemError(ErrorCodes.STATE_LOCKED, `${this.dir} is not locked by this process`);
    const path = join(this.dir, `${name}.json`);
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
