import { lstat, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ErrorCodes, FileSystemError, UsageError, fileSystemError } from '../errors.js';
import { sanitizeFileName } from '../util/fileName.js';
import { expandHome } from '../util/homePath.js';
import { type SkippedEntry, type TreeFilter, walkRemoteTree } from '../listing/walkTree.js';
import type { Multiget } from '../engine/Multiget.js';
import type { AddOptions, EntrySnapshot } from './types.js';

/** Options of a whole-folder download: those of each file's download, and what to take. */
export interface FolderOptions extends Omit<AddOptions, 'output'>, TreeFilter {
  /**
   * The local folder to mirror into, exactly. Default: the folder's own name (the last segment of
   * its URL, sanitised; the host for a server's root) inside `dir`.
   */
  output?: string;
}

/** One file of a folder download. */
export interface FolderFile {
  /** Its URL, with the folder URL's credentials when it had some: never print it as it is. */
  url: string;
  /** Where it goes: an absolute path inside the local folder. */
  output: string;
  /** Its path on the server below the folder, as listed. */
  remotePath: string;
  /** Size in bytes, when the listing told. */
  size?: number;
}

/** What a folder download will do. */
export interface FolderPlan {
  /** The local folder (absolute). */
  folder: string;
  /** Files to download (new or partial). */
  files: FolderFile[];
  /** Files already complete on disk: a regular file of the listed size stands at their path. */
  complete: FolderFile[];
  /** Entries left out, and why (links, devices, unsafe names, folders that could not be listed). */
  skipped: SkippedEntry[];
}

/** What {@link addFolder} queued. */
export interface FolderAdded extends Omit<FolderPlan, 'files'> {
  /** One queued download per file to fetch, in the order of `files`. */
  entries: EntrySnapshot[];
  /** The files those downloads fetch. */
  files: FolderFile[];
}

/** The manager methods a folder download needs. */
interface ManagerLike {
  readonly engine: Multiget;
  readonly settings: { dir: string };
  addMany(items: ReadonlyArray<{ url: string; options: AddOptions }>): Promise<EntrySnapshot[]>;
}

/**
 * Lists a remote folder tree (see `walkRemoteTree` for what is taken and what is skipped), creates
 * the local folders for it, and tells which files to download and which are already complete. Local
 * folders are created one component at a time and each is checked with lstat: a symbolic link or
 * anything but a folder standing at one of those names fails with MG_ERR_UNSAFE_PATH, so no file is
 * ever written through a link planted in the tree.
 *
 * A file counts as complete when a regular file of the listed size stands at its path (a download
 * only puts a file there once it is complete and verified): a second run skips it. A partial one
 * (its `.mgpart` and state beside it) is resumed by its download.
 *
 * @param engine - lists through its protocol plugins
 * @param url - the folder (a missing trailing `/` is added)
 * @param options - what to take, where, and the credentials, headers and timeouts of the listing
 * @param defaultDir - the directory when `options` gives neither `output` nor `dir`
 */
export async function planFolder(engine: Multiget, url: URL, options: FolderOptions, defaultDir: string): Promise<FolderPlan> {
  checkFolderOptions(options);
  const root = new URL(url.href);
  if (!root.pathname.endsWith('/')) root.pathname += '/';
  const tree = await walkRemoteTree(
    (folder) =>
      engine.list(folder, {
        ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
        ...(options.headers !== undefined ? { headers: options.headers } : {}),
        ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
        ...(options.stallTimeoutMs !== undefined ? { stallTimeoutMs: options.stallTimeoutMs } : {}),
      }),
    root,
    options,
  );
  const explicit = options.output !== undefined;
  const folder = explicit
    ? resolve(expandHome(options.output!, 'output'))
    : join(resolve(expandHome(options.dir ?? defaultDir, 'dir')), folderName(root));
  // The caller's own folder may be anything they chose (a link included); a derived one is ours.
  if (explicit) await mkdir(folder, { recursive: true }).catch((err: unknown) => {
    throw fileSystemError(err, `create the folder ${folder}`);
  });
  else {
    await mkdir(resolve(folder, '..'), { recursive: true }).catch((err: unknown) => {
      throw fileSystemError(err, `create the folder ${resolve(folder, '..')}`);
    });
    await makeFolder(folder);
  }
  const made = new Set<string>();
  const files: FolderFile[] = [];
  const complete: FolderFile[] = [];
  for (const f of tree.files) {
    const parts = f.path.split('/');
    let at = folder;
    for (const part of parts.slice(0, -1)) {
      at = join(at, part);
      if (!made.has(at)) {
        await makeFolder(at);
        made.add(at);
      }
    }
    const file: FolderFile = { url: f.url.href, output: join(folder, ...parts), remotePath: f.remotePath, ...(f.size !== undefined ? { size: f.size } : {}) };
    (f.size !== undefined && (await regularFileSize(file.output)) === f.size ? complete : files).push(file);
  }
  return { folder, files, complete, skipped: tree.skipped };
}

/**
 * Downloads a remote folder through the manager's queue: {@link planFolder}, then one download per
 * file to fetch (`output` its place in the local folder), so the queue's limits, priorities, pause,
 * resume and persistence apply to each file. Running it again skips complete files and resumes
 * partial ones.
 *
 * `checkFile` (a program's own rule for where files may go, e.g. the service's) is called for
 * every file to fetch before any is queued, and answers its output; one that throws queues nothing.
 */
export async function addFolder(
  manager: ManagerLike,
  url: URL,
  options: FolderOptions = {},
  checkFile?: (file: FolderFile) => string,
): Promise<FolderAdded> {
  const plan = await planFolder(manager.engine, url, options, manager.settings.dir);
  const { include: _i, exclude: _e, depth: _d, output: _o, dir: _dir, ...each } = options;
  const outputs = plan.files.map((f) => (checkFile ? checkFile(f) : f.output));
  const entries = await manager.addMany(plan.files.map((file, i) => ({ url: file.url, options: { ...each, output: outputs[i]! } })));
  return { ...plan, entries };
}

/** The local name of a remote folder: its last path segment, sanitised; the host for a server's root. */
function folderName(url: URL): string {
  const segment = url.pathname.split('/').filter((s) => s !== '').pop();
  let decoded: string | undefined;
  try {
    decoded = segment === undefined ? undefined : decodeURIComponent(segment);
  } catch {
    decoded = segment;
  }
  return sanitizeFileName(decoded === undefined || decoded === '~' ? url.hostname.replace(/^\[|\]$/g, '') : decoded, 'folder');
}

/** Creates one folder (its parent exists) or accepts an existing one; never a link, never a file. */
async function makeFolder(path: string): Promise<void> {
  try {
    await mkdir(path, { mode: 0o755 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fileSystemError(err, `create the folder ${path}`);
  }
  const st = await lstat(path).catch((err: unknown) => {
    throw fileSystemError(err, `inspect ${path}`);
  });
  if (!st.isDirectory()) {
    throw new FileSystemError(
      ErrorCodes.UNSAFE_PATH,
      `${path} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}; refusing to write the folder's files through it`,
    );
  }
}

async function regularFileSize(path: string): Promise<number | undefined> {
  try {
    const st = await lstat(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

function checkFolderOptions(o: FolderOptions): void {
  for (const key of ['include', 'exclude'] as const) {
    const v = o[key];
    if (v !== undefined && (!Array.isArray(v) || v.some((p) => typeof p !== 'string' || p === '' || p.includes('\0')))) {
      throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid ${key}: expected a list of glob patterns`);
    }
  }
  if (o.depth !== undefined && (typeof o.depth !== 'number' || !Number.isInteger(o.depth) || o.depth < 0 || o.depth > 64)) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid depth: ${String(o.depth)} (expected an integer 0..64)`);
  }
  if (o.output !== undefined && o.dir !== undefined) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, 'Give output or dir, not both');
  }
  // One digest names one file: given to every file of a folder, all but one would fail after
  // downloading. `auto` looks up each file's own digest beside it.
  if (o.checksum !== undefined && o.checksum !== 'auto') {
    throw new UsageError(ErrorCodes.INVALID_OPTION, 'A checksum ALGO=HEX names one file; a folder takes checksum auto');
  }
}
