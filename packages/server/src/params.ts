import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  ErrorCodes,
  type FolderOptions,
  type ManagerSettings,
  type NormalizedOptions,
  UsageError,
  normalizeOptions,
  normalizeSettings,
  parseDownloadUrl,
} from '@multiget/core';
import {
  AddManyRequest,
  type DownloadCredentials,
  type IdParams,
  type MoveParams,
  type RemoveParams,
  type SetConnectionsParams,
  type SetPriorityParams,
  type SetRateLimitParams,
} from './protocol.js';

/**
 * Checks of request params. Everything a client sends is `unknown` until one of these functions
 * has looked at it; they throw a UsageError whose code becomes `error.data.code`, before anything
 * acts. The rules:
 *
 * - Params are one object (or absent, for requests without params). Unknown fields are refused.
 * - These checks are of the wire shape: a field is a number, a string, a boolean or an object.
 *   Ranges and values are core's: every download option goes through `normalizeOptions` and
 *   every setting through `normalizeSettings` (the limits of `OPTION_LIMITS`), the numbers of the
 *   per-download requests through the manager's own checks, so the service accepts exactly what
 *   the CLI and the manager accept. Strings are non-empty and never hold NUL.
 * - URLs go through the manager's own check ({@link parseDownloadUrl}), so the service refuses
 *   exactly what the manager and the CLI refuse (`file:`, `data:`, `javascript:`, ...).
 * - Paths: see {@link resolveUserPath}.
 */

/** Longest id, URL, path, header value or credential accepted (a bound, not a promise). */
const MAX_ID = 200;
const MAX_URL = 65_536;
const MAX_PATH = 4096;
const MAX_TEXT = 8192;
const MAX_HEADERS = 100;
/** Most downloads one `multiget/addMany` may add. */
export const MAX_BATCH = AddManyRequest.maxItems;

/** What relative paths are resolved against, and what no path may point into. */
export interface PathRules {
  /** Absolute download directory (the manager's `dir` setting). */
  dir: string;
  /** Absolute state directory: the manager's own files live there. */
  stateDir: string;
}

type Fields = Record<string, unknown>;

function invalid(message: string): UsageError {
  return new UsageError(ErrorCodes.INVALID_OPTION, message);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.length > 60 ? `${v.slice(0, 60)}…` : v}"`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/**
 * `raw` as an object with only `allowed` keys. `what` names it in messages (`params`,
 * `items[3]`, `headers`).
 */
function object(raw: unknown, what: string, allowed: readonly string[]): Fields {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid(`${what} must be an object, not ${describe(raw)}`);
  }
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      throw invalid(`Unknown field "${key}" in ${what} (expected ${allowed.map((k) => `"${k}"`).join(', ') || 'none'})`);
    }
  }
  return raw as Fields;
}

/** A request without params: absent, `null` or `{}`. */
export function parseNoParams(raw: unknown): void {
  if (raw === undefined || raw === null) return;
  object(raw, 'params', []);
}

function text(fields: Fields, key: string, what: string, max: number): string {
  const v = fields[key];
  if (typeof v !== 'string' || v === '') throw invalid(`${what}.${key} must be a non-empty string, not ${describe(v)}`);
  if (v.length > max) throw invalid(`${what}.${key} is longer than ${max} characters`);
  if (v.includes('\0')) throw invalid(`${what}.${key} must not contain NUL characters`);
  return v;
}

function optionalText(fields: Fields, key: string, what: string, max: number): string | undefined {
  return fields[key] === undefined ? undefined : text(fields, key, what, max);
}

/** A number as sent (its range is core's business); `undefined` when absent. */
function optionalNumber(fields: Fields, key: string, what: string): number | undefined {
  const v = fields[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number') throw invalid(`${what}.${key} must be a number, not ${describe(v)}`);
  return v;
}

/** A number or `null` (to clear); `undefined` when absent. */
function nullableNumber(fields: Fields, key: string, what: string): number | null | undefined {
  return fields[key] === null ? null : optionalNumber(fields, key, what);
}

function number(fields: Fields, key: string, what: string): number {
  const v = optionalNumber(fields, key, what);
  if (v === undefined) throw invalid(`${what}.${key} is required`);
  return v;
}

function int(fields: Fields, key: string, what: string, min: number, max: number): number {
  const v = fields[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw invalid(`${what}.${key} must be an integer from ${min} to ${max}, not ${describe(v)}`);
  }
  return v;
}

function id(fields: Fields): string {
  return text(fields, 'id', 'params', MAX_ID);
}

const caseInsensitive = process.platform === 'win32' || process.platform === 'darwin';

/** Whether `path` is `dir` or inside it (both absolute and resolved). */
function isInside(path: string, dir: string): boolean {
  const fold = (p: string): string => (caseInsensitive ? p.toLowerCase() : p);
  const rel = relative(fold(dir), fold(path));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Where `path` (absolute) really leads: the real path (every link resolved) of its deepest existing
 * ancestor, followed by the components that do not exist yet. Comparing these instead of the
 * strings as given is what keeps `dl/link/queue.json`, with `link` pointing into the state
 * directory, out of the state directory.
 *
 * @throws UsageError MG_ERR_UNSAFE_PATH when a component is a link that leads nowhere (a dangling
 *   link would be created through later) or cannot be resolved (a loop, no permission).
 */
export function realPathOf(path: string, what = 'path'): string {
  const rest: string[] = [];
  let head = path;
  for (;;) {
    try {
      return join(realpathSync.native(head), ...rest);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        throw new UsageError(ErrorCodes.UNSAFE_PATH, `${what} "${path}" cannot be resolved (${code ?? String(err)})`);
      }
    }
    let dangling = false;
    try {
      dangling = lstatSync(head).isSymbolicLink();
    } catch {
      // Missing: look at its parent.
    }
    if (dangling) throw new UsageError(ErrorCodes.UNSAFE_PATH, `${what} "${path}" goes through a link that leads nowhere: ${head}`);
    const parent = dirname(head);
    if (parent === head) return path;
    rest.unshift(basename(head));
    head = parent;
  }
}

/**
 * The absolute path a client's `output` or `dir` stands for. The rule, the same for both:
 *
 * - A relative path is resolved against the download directory, never against the service's
 *   working directory (which is wherever the editor happened to start it), and it must stay
 *   inside the download directory: `sub/file.iso` is fine, `../../.bashrc` is refused.
 * - An absolute path is taken as given: the user picked it (a save dialog), and may write
 *   anywhere they can.
 * - No path may lead into the state directory, where the manager's queue and lock live.
 * - NUL characters are refused (they cut paths short in system calls); on Windows a colon after
 *   the drive (an alternate data stream) is refused too.
 *
 * Every comparison is between real paths (`realPathOf`): the path, the download directory
 * and the state directory are each resolved through their links first, so a link (inside the
 * download directory or anywhere on the way) cannot lead a path where the strings say it does not
 * go. The real path is what is returned, so the manager writes where the check looked. Symbolic
 * links at the file itself are refused later by the engine's file writer (MG_ERR_UNSAFE_PATH),
 * when the path is opened, so a link created after this check is caught too.
 *
 * @throws UsageError MG_ERR_INVALID_OPTION (malformed) or MG_ERR_UNSAFE_PATH (escapes, state directory).
 */
export function resolveUserPath(value: string, what: string, rules: PathRules): string {
  if (value.includes('\0')) throw invalid(`${what} must not contain NUL characters`);
  const dir = realPathOf(rules.dir, 'the download directory');
  let path: string;
  if (isAbsolute(value)) {
    path = realPathOf(resolve(value), what);
  } else {
    path = realPathOf(resolve(rules.dir, value), what);
    if (!isInside(path, dir)) {
      throw new UsageError(
        ErrorCodes.UNSAFE_PATH,
        `${what} "${value}" leads out of the download directory ${rules.dir}; give an absolute path to write elsewhere`,
      );
    }
  }
  if (process.platform === 'win32' && path.slice(2).includes(':')) {
    throw new UsageError(ErrorCodes.UNSAFE_PATH, `${what} "${value}" contains a colon after the drive`);
  }
  if (isInside(path, realPathOf(rules.stateDir, 'the state directory'))) {
    throw new UsageError(ErrorCodes.UNSAFE_PATH, `${what} "${value}" points into the state directory ${rules.stateDir}`);
  }
  return path;
}

/** Headers as sent: an object of at most MAX_HEADERS string values (names and values are checked by core). */
function headers(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(`${what} must be an object, not ${describe(raw)}`);
  const entries = Object.entries(raw);
  if (entries.length > MAX_HEADERS) throw invalid(`${what} has more than ${MAX_HEADERS} headers`);
  for (const [name, value] of entries) {
    if (typeof value !== 'string' || value.length > MAX_TEXT) throw invalid(`${what}.${name} must be a string of at most ${MAX_TEXT} characters`);
  }
  return raw as Record<string, unknown>;
}

function credentials(raw: unknown, what: string): DownloadCredentials {
  if (typeof raw === 'object' && raw !== null && 'bearer' in raw) {
    const f = object(raw, what, ['bearer']);
    const bearer = text(f, 'bearer', what, MAX_TEXT);
    if (/[\r\n]/.test(bearer)) throw invalid(`${what}.bearer must not contain line breaks`);
    return { bearer };
  }
  const f = object(raw, what, ['username', 'password']);
  const username = text(f, 'username', what, MAX_TEXT);
  if (typeof f['password'] !== 'string' || f['password'].length > MAX_TEXT || f['password'].includes('\0')) {
    throw invalid(`${what}.password must be a string without NUL`);
  }
  return { username, password: f['password'] };
}

/**
 * The wire shape of the options `multiget/add` and `multiget/addFolder` share (each file of a
 * folder is a download of its own), copied into `options` for `normalizeOptions`.
 */
function fileOptions(f: Fields, what: string, options: Record<string, unknown>): void {
  for (const key of ['connections', 'priority', 'rateLimit'] as const) options[key] = optionalNumber(f, key, what);
  options['checksum'] = optionalText(f, 'checksum', what, 1024);
  if (f['existing'] !== undefined) {
    if (typeof f['existing'] !== 'string') throw invalid(`${what}.existing must be a string, not ${describe(f['existing'])}`);
    options['existing'] = f['existing'];
  }
  if (f['noCache'] !== undefined) {
    if (typeof f['noCache'] !== 'boolean') throw invalid(`${what}.noCache must be a boolean, not ${describe(f['noCache'])}`);
    options['noCache'] = f['noCache'];
  }
  if (f['credentials'] !== undefined) options['credentials'] = credentials(f['credentials'], `${what}.credentials`);
}

const ADD_FIELDS = ['url', 'output', 'dir', 'connections', 'checksum', 'headers', 'priority', 'rateLimit', 'existing', 'credentials', 'noCache', 'mirrors'] as const;

/** Most mirrors one download may name. */
const MAX_MIRRORS = 64;

/** A checked `multiget/add` item: the URL, parsed once, and the download's options, normalised by core, paths made absolute. */
export interface CheckedAdd {
  url: URL;
  options: NormalizedOptions;
}

/**
 * Checks one download to add (`what` names it in messages): the wire shape here, the paths by the
 * service's rules ({@link resolveUserPath}), everything else by core's `normalizeOptions`, so the
 * manager only ever sees good options.
 */
export function parseAddParams(raw: unknown, schemes: readonly string[], rules: PathRules, what = 'params'): CheckedAdd {
  const f = object(raw, what, ADD_FIELDS);
  const url = parseDownloadUrl(text(f, 'url', what, MAX_URL), schemes);
  const output = optionalText(f, 'output', what, MAX_PATH);
  const dir = optionalText(f, 'dir', what, MAX_PATH);
  if (output !== undefined && dir !== undefined) throw invalid(`${what}: give output or dir, not both`);
  const options: Record<string, unknown> = {};
  if (output !== undefined) {
    if (/[\\/]$/.test(output)) throw invalid(`${what}.output must name a file, not a directory ("${output}")`);
    const path = resolveUserPath(output, `${what}.output`, rules);
    if (isInside(realPathOf(rules.dir), path)) throw invalid(`${what}.output must name a file, not the download directory`);
    options['output'] = path;
  }
  if (dir !== undefined) options['dir'] = resolveUserPath(dir, `${what}.dir`, rules);
  fileOptions(f, what, options);
  if (f['headers'] !== undefined) options['headers'] = headers(f['headers'], `${what}.headers`);
  if (f['mirrors'] !== undefined) {
    const list = f['mirrors'];
    if (!Array.isArray(list) || list.length > MAX_MIRRORS) throw invalid(`${what}.mirrors must be an array of at most ${MAX_MIRRORS} URLs`);
    // Each is checked like the URL itself: a scheme no plugin serves (file:, data:) never gets in.
    options['mirrors'] = list.map((m: unknown, i) => {
      if (typeof m !== 'string' || m.length > MAX_URL) throw invalid(`${what}.mirrors[${i}] must be a URL`);
      parseDownloadUrl(m, schemes);
      return m;
    });
  }
  return { url, options: normalizeOptions(options, (key) => `${what}.${key}`) };
}

/** Checks `multiget/addMany` params: every item, before any is added. */
export function parseAddManyParams(raw: unknown, schemes: readonly string[], rules: PathRules): CheckedAdd[] {
  const f = object(raw, 'params', ['items']);
  const items = f['items'];
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_BATCH) {
    throw invalid(`params.items must be an array of 1 to ${MAX_BATCH} downloads`);
  }
  return items.map((item: unknown, i) => parseAddParams(item, schemes, rules, `params.items[${i}]`));
}

/** `{ id }`. */
export function parseIdParams(raw: unknown): IdParams {
  return { id: id(object(raw, 'params', ['id'])) };
}

/** `{ id, credentials? }` of resume and retry. */
export function parseResumeParams(raw: unknown): { id: string; credentials?: DownloadCredentials } {
  const f = object(raw, 'params', ['id', 'credentials']);
  return { id: id(f), ...(f['credentials'] !== undefined ? { credentials: credentials(f['credentials'], 'params.credentials') } : {}) };
}

/** `{ id, url }` of updateUrl: the wire shape only; the manager checks the URL itself. */
export function parseUpdateUrlParams(raw: unknown): { id: string; url: string } {
  const f = object(raw, 'params', ['id', 'url']);
  return { id: id(f), url: text(f, 'url', 'params', MAX_URL) };
}

/** `{ id, deleteData? }`. */
export function parseRemoveParams(raw: unknown): Required<RemoveParams> {
  const f = object(raw, 'params', ['id', 'deleteData']);
  const deleteData = f['deleteData'] ?? false;
  if (typeof deleteData !== 'boolean') throw invalid(`params.deleteData must be a boolean, not ${describe(deleteData)}`);
  return { id: id(f), deleteData };
}

/** `{ id, priority }`. */
export function parseSetPriorityParams(raw: unknown): SetPriorityParams {
  const f = object(raw, 'params', ['id', 'priority']);
  return { id: id(f), priority: number(f, 'priority', 'params') };
}

/** `{ id, index }`. */
export function parseMoveParams(raw: unknown): MoveParams {
  const f = object(raw, 'params', ['id', 'index']);
  return { id: id(f), index: int(f, 'index', 'params', 0, Number.MAX_SAFE_INTEGER) };
}

/** `{ id, rateLimit }` with `rateLimit` required (a number or `null`). */
export function parseSetRateLimitParams(raw: unknown): SetRateLimitParams {
  const f = object(raw, 'params', ['id', 'rateLimit']);
  if (f['rateLimit'] === undefined) throw invalid('params.rateLimit is required (bytes per second, or null for none)');
  const rateLimit = nullableNumber(f, 'rateLimit', 'params');
  return { id: id(f), rateLimit: rateLimit ?? null };
}

/**
 * Checks a settings patch. `dir` must be absolute (there is nothing sensible to resolve a relative
 * one against) and outside the state directory; `rateLimit: null` removes the global limit.
 */
export function parseSetSettingsParams(raw: unknown, stateDir: string): Partial<ManagerSettings> {
  const what = 'params';
  const f = object(raw, what, ['maxConcurrent', 'connections', 'maxConnectionsPerHost', 'maxConnections', 'rateLimit', 'retries', 'dir']);
  const patch: Record<string, unknown> = {};
  for (const key of ['maxConcurrent', 'connections', 'maxConnectionsPerHost', 'maxConnections', 'retries'] as const) {
    if (f[key] !== undefined) patch[key] = optionalNumber(f, key, what);
  }
  // `null` in the params, `undefined` in the patch: no global limit.
  if (f['rateLimit'] !== undefined) patch['rateLimit'] = nullableNumber(f, 'rateLimit', what) ?? undefined;
  const dir = optionalText(f, 'dir', what, MAX_PATH);
  if (dir !== undefined) {
    if (!isAbsolute(dir)) throw invalid(`${what}.dir must be an absolute path, not "${dir}"`);
    patch['dir'] = resolveUserPath(dir, `${what}.dir`, { dir: resolve(dir), stateDir });
  }
  return normalizeSettings(patch, (key) => `${what}.${key}`);
}

/** Checks the params of `multiget/setConnections`. */
export function parseSetConnectionsParams(raw: unknown): SetConnectionsParams {
  const f = object(raw, 'params', ['id', 'connections']);
  return { id: id(f), connections: number(f, 'connections', 'params') };
}

const FOLDER_FIELDS = [
  'url',
  'output',
  'dir',
  'include',
  'exclude',
  'depth',
  'connections',
  'checksum',
  'priority',
  'rateLimit',
  'existing',
  'credentials',
  'noCache',
] as const;

/** Most globs one `include` or `exclude` list may hold, and the longest glob. */
const MAX_GLOBS = 100;
const MAX_GLOB = 1024;

/** A checked `multiget/addFolder`: the folder's URL, parsed once, and its options. */
export interface CheckedAddFolder {
  url: URL;
  /** Where the local folder goes (`output` or `dir`, absolute real paths) and what to take from the tree. */
  folder: Pick<FolderOptions, 'output' | 'dir' | 'include' | 'exclude' | 'depth'>;
  /** The options of each file's download, normalised by core (no `output`: each file gets its own). */
  each: NormalizedOptions;
}

/** A list of globs as sent (their syntax is core's business); `undefined` when absent. */
function globs(fields: Fields, key: string, what: string): string[] | undefined {
  const v = fields[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length > MAX_GLOBS) throw invalid(`${what}.${key} must be an array of at most ${MAX_GLOBS} glob patterns`);
  return v.map((g: unknown, i) => {
    if (typeof g !== 'string' || g === '' || g.length > MAX_GLOB || g.includes('\0')) {
      throw invalid(`${what}.${key}[${i}] must be a non-empty glob pattern of at most ${MAX_GLOB} characters without NUL`);
    }
    return g;
  });
}

/**
 * Checks `multiget/addFolder` params: the wire shape here, `output`/`dir` by the service's path
 * rules ({@link resolveUserPath}), each file's options by core's `normalizeOptions`; the tree
 * options (depth range, glob syntax, a checksum that names one file) by core's folder download.
 */
export function parseAddFolderParams(raw: unknown, schemes: readonly string[], rules: PathRules): CheckedAddFolder {
  const what = 'params';
  const f = object(raw, what, FOLDER_FIELDS);
  const url = parseDownloadUrl(text(f, 'url', what, MAX_URL), schemes);
  const output = optionalText(f, 'output', what, MAX_PATH);
  const dir = optionalText(f, 'dir', what, MAX_PATH);
  if (output !== undefined && dir !== undefined) throw invalid(`${what}: give output or dir, not both`);
  const folder: CheckedAddFolder['folder'] = {};
  if (output !== undefined) folder.output = resolveUserPath(output, `${what}.output`, rules);
  if (dir !== undefined) folder.dir = resolveUserPath(dir, `${what}.dir`, rules);
  const include = globs(f, 'include', what);
  if (include !== undefined) folder.include = include;
  const exclude = globs(f, 'exclude', what);
  if (exclude !== undefined) folder.exclude = exclude;
  const depth = optionalNumber(f, 'depth', what);
  if (depth !== undefined) folder.depth = depth;
  const options: Record<string, unknown> = {};
  fileOptions(f, what, options);
  return { url, folder, each: normalizeOptions(options, (key) => `${what}.${key}`) };
}
