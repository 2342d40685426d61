import { DownloadError, ErrorCodes, ProtocolError, UsageError, isDownloadError } from '../errors.js';
import { sanitizeFileName } from '../util/fileName.js';
import { GlobPattern } from './glob.js';
import type { RemoteEntry } from './types.js';

/** Folders deeper than this below the root are never entered, whatever `depth` says. */
export const MAX_TREE_DEPTH = 64;
/** A listing of more entries than this in all fails: a server could otherwise list forever. */
export const MAX_TREE_ENTRIES = 100_000;

/** What to take from a remote tree. */
export interface TreeFilter {
  /** Globs of files to take (see {@link GlobPattern}); none: every file. Folders are always entered. */
  include?: readonly string[];
  /** Globs of files and folders to leave out (a folder left out is not entered). Exclusion wins. */
  exclude?: readonly string[];
  /**
   * Levels of subfolders to enter below the root: 0 takes only the root's own files. Default: no
   * limit but {@link MAX_TREE_DEPTH}.
   */
  depth?: number;
}

/** A file of the tree, to be downloaded. */
export interface TreeFile {
  /** The file's URL (the root's credentials included). */
  url: URL;
  /** Its local path below the target folder: checked, sanitised components joined by `/`. */
  path: string;
  /** Its path on the server below the root, as listed (for messages). */
  remotePath: string;
  /** Size in bytes, when the listing told. */
  size?: number;
  /** Modification time (ms since the epoch), when the listing told. */
  mtime?: number;
}

/** An entry of the tree that is not downloaded, and why. */
export interface SkippedEntry {
  /** Its path on the server below the root, as listed. */
  remotePath: string;
  /** Why, for the user. */
  reason: string;
}

/** What {@link walkRemoteTree} found. */
export interface RemoteTree {
  /** Files to download, in a stable order (folder by folder, names sorted). */
  files: TreeFile[];
  /** Entries left out for a reason the user should hear of (links, devices, unsafe names, errors). */
  skipped: SkippedEntry[];
}

/** Lists one folder; the URL ends with `/`. */
export type ListFolder = (folder: URL) => Promise<RemoteEntry[]>;

/**
 * Walks a remote folder tree, breadth first, and decides what to download where. Safety rules,
 * whatever the server says:
 * - A name is one path component: `.` and `..` are ignored; a name with `/`, `\` or NUL is
 *   skipped (it would reach outside its folder), and so is one with a line break. Every name goes
 *   through `sanitizeFileName`, as any name a server chooses (control characters, reserved
 *   characters, leading dots, Windows device names); two entries that end up with one local name
 *   (also when only their case differs) keep the first, and the second is skipped.
 * - Symbolic links are skipped, whatever they point to (inside the tree or out of it): the tree is
 *   what the server lists as plain files and folders. Devices, FIFOs, sockets and unknown entries
 *   are skipped too.
 * - At most {@link MAX_TREE_DEPTH} levels and {@link MAX_TREE_ENTRIES} entries.
 * A subfolder that cannot be listed is skipped with its error; the root failing fails the walk.
 *
 * @param list - lists one folder (a protocol plugin's `list`)
 * @param root - the folder's URL; a missing trailing `/` is added
 * @throws UsageError (MG_ERR_INVALID_OPTION) for a malformed glob or depth; the root's listing error;
 *   MG_ERR_PROTOCOL past {@link MAX_TREE_ENTRIES}.
 */
export async function walkRemoteTree(list: ListFolder, root: URL, filter: TreeFilter = {}, signal?: AbortSignal): Promise<RemoteTree> {
  const include = patterns(filter.include, '--include');
  const exclude = patterns(filter.exclude, '--exclude');
  const depth = filter.depth ?? MAX_TREE_DEPTH;
  if (!Number.isInteger(depth) || depth < 0) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid depth: ${String(filter.depth)} (expected an integer 0 or more)`);
  }
  const base = new URL(root.href);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const files: TreeFile[] = [];
  const skipped: SkippedEntry[] = [];
  let seen = 0;
  const queue: Array<{ url: URL; local: string; remote: string; level: number }> = [{ url: base, local: '', remote: '', level: 0 }];
  for (let folder = queue.shift(); folder !== undefined; folder = queue.shift()) {
    signal?.throwIfAborted();
    let entries: RemoteEntry[];
    try {
      entries = await list(folder.url);
    } catch (err) {
      if (folder.level === 0 || signal?.aborted) throw err;
      const error = isDownloadError(err) ? err : new DownloadError(ErrorCodes.INTERNAL, String(err), { cause: err });
      skipped.push({ remotePath: `${folder.remote}/`, reason: `cannot be listed: ${error.message} [${error.code}]` });
      continue;
    }
    seen += entries.length;
    if (seen > MAX_TREE_ENTRIES) {
      throw new ProtocolError(ErrorCodes.PROTOCOL, `${base.pathname} lists more than ${MAX_TREE_ENTRIES} entries; download a smaller folder`);
    }
    const taken = new Set<string>();
    for (const entry of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name === '.' || entry.name === '..' || entry.name === '') continue;
      const remotePath = folder.remote === '' ? entry.name : `${folder.remote}/${entry.name}`;
      const skip = (reason: string): void => void skipped.push({ remotePath, reason });
      if (/[/\\\0]/.test(entry.name)) {
        skip('its name is not a single path component');
        continue;
      }
      if (/[\r\n]/.test(entry.name)) {
        // No protocol can ask for it again (an FTP command line would end there).
        skip('its name has a line break');
        continue;
      }
      if (entry.type === 'symlink') {
        skip('a symbolic link (links are never followed)');
        continue;
      }
      if (entry.type === 'other') {
        skip('not a regular file or folder');
        continue;
      }
      if (exclude.some((p) => p.matches(remotePath))) continue;
      const isFolder = entry.type === 'directory';
      if (isFolder && folder.level >= depth) continue;
      if (!isFolder && include.length > 0 && !include.some((p) => p.matches(remotePath))) continue;
      const name = sanitizeFileName(entry.name, '');
      if (name === '') {
        skip('no usable local name is left of its name');
        continue;
      }
      const key = name.toLowerCase();
      if (taken.has(key)) {
        skip(`another entry of its folder already has the local name ${name}`);
        continue;
      }
      taken.add(key);
      const url = new URL(`${encodeURIComponent(entry.name)}${isFolder ? '/' : ''}`, folder.url);
      const local = folder.local === '' ? name : `${folder.local}/${name}`;
      if (isFolder) {
        if (folder.level + 1 > MAX_TREE_DEPTH) skip(`deeper than ${MAX_TREE_DEPTH} folders`);
        else queue.push({ url, local, remote: remotePath, level: folder.level + 1 });
        continue;
      }
      files.push({
        url,
        path: local,
        remotePath,
        ...(entry.size !== undefined ? { size: entry.size } : {}),
        ...(entry.mtime !== undefined ? { mtime: entry.mtime } : {}),
      });
    }
  }
  return { files, skipped };
}

function patterns(list: readonly string[] | undefined, what: string): GlobPattern[] {
  return (list ?? []).map((p) => {
    if (p === '') throw new UsageError(ErrorCodes.INVALID_OPTION, `Empty ${what} pattern`);
    try {
      return new GlobPattern(p);
    } catch (err) {
      throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid ${what} pattern: ${(err as Error).message}`, { cause: err });
    }
  });
}
