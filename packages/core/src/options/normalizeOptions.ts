import { resolve } from 'node:path';
import { parseChecksum } from '../util/checksum.js';
import { ErrorCodes, UsageError } from '../errors.js';
import { expandHome } from '../util/homePath.js';
import { flatString } from '../util/flatString.js';
import type { ManagerSettings } from '../manager/types.js';
import { type NumericOptionName, OPTION_LIMITS } from './limits.js';
import type { AddOptions } from './types.js';

/** Download options checked by {@link normalizeOptions}: the same shape, frozen. */
export type NormalizedOptions = Readonly<AddOptions>;

/** Names an option in error messages: `connections` for the library, `--connections`, `params.connections`. */
export type OptionLabel = (name: string) => string;

const plain: OptionLabel = (name) => name;

/** Objects {@link normalizeOptions} returned: the manager does not check them a second time. */
const normalized = new WeakSet<object>();

/** RFC 9110 token: a header name. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const ADD_KEYS: ReadonlySet<string> = new Set<keyof AddOptions>([
  'output',
  'dir',
  'connections',
  'checksum',
  'headers',
  'priority',
  'rateLimit',
  'existing',
  'retries',
  'stallTimeoutMs',
  'connectTimeoutMs',
  'minSplitSize',
  'noCache',
  'credentials',
  'mirrors',
  'pieces',
]);

/** Most mirrors one download may name. */
const MAX_MIRRORS = 64;
const PIECE_ALGORITHMS: ReadonlySet<string> = new Set(['sha512', 'sha256', 'sha1', 'md5']);

const SETTINGS_KEYS: ReadonlySet<string> = new Set<keyof ManagerSettings>([
  'maxConcurrent',
  'connections',
  'maxConnectionsPerHost',
  'maxConnections',
  'rateLimit',
  'retries',
  'dir',
]);

function invalid(message: string): UsageError {
  return new UsageError(ErrorCodes.INVALID_OPTION, message);
}

function show(v: unknown): string {
  if (typeof v === 'string') return `"${v.length > 60 ? `${v.slice(0, 60)}…` : v}"`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/**
 * Checks one numeric option against {@link OPTION_LIMITS} and returns it. Every range check of
 * Multiget goes through here.
 *
 * @param name - the option's row in the table
 * @param value - what was given (anything: front-ends pass what they parsed or received)
 * @param label - how to name the option in the message (default: `name`)
 * @throws UsageError MG_ERR_INVALID_OPTION naming the option, the value and the range
 */
export function checkOption(name: NumericOptionName, value: unknown, label: string = name): number {
  const { min, max, unit } = OPTION_LIMITS[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    const units = unit === 'count' ? '' : ` (${unit === 'ms' ? 'milliseconds' : unit === 'bytes' ? 'bytes' : 'bytes per second'})`;
    throw invalid(`Invalid ${label}: ${show(value)} (expected an integer ${range}${units})`);
  }
  return value;
}

/**
 * Checks every numeric option of {@link OPTION_LIMITS} that `options` has (others are left alone):
 * for engine and manager options, which carry more than numbers.
 */
export function checkNumericOptions(options: object, label: OptionLabel = plain): void {
  const o = options as Record<string, unknown>;
  for (const name of Object.keys(OPTION_LIMITS) as NumericOptionName[]) {
    if (o[name] !== undefined) checkOption(name, o[name], label(name));
  }
}

function path(v: unknown, label: string): string {
  if (typeof v !== 'string' || v === '' || v.includes('\0')) {
    throw invalid(`Invalid ${label}: ${show(v)} (expected a non-empty path without NUL characters)`);
  }
  // Kept as long as the download or its queue entry: flat (see flatString).
  return flatString(resolve(expandHome(v, label)));
}

/** Checks request headers: names are tokens (each once, whatever its case), values hold no line break or NUL. Names come back lower-case. */
export function normalizeHeaders(v: unknown, label = 'headers'): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`Invalid ${label}: ${show(v)} (expected an object)`);
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) {
    // JSON.parse makes `__proto__` an own key; stored in an object it would set the prototype.
    if (!HEADER_NAME.test(k) || k === '__proto__') throw invalid(`Invalid header "${k}" in ${label}: not a header name`);
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
      throw invalid(`Invalid header "${k}" in ${label}: the value must be a string without line breaks or NUL`);
    }
    // Names are case-insensitive: two spellings of one name would collapse into one header, and
    // one of the values would be lost without a word.
    if (Object.hasOwn(out, k.toLowerCase())) throw invalid(`Invalid header "${k}" in ${label}: given twice`);
    out[k.toLowerCase()] = value;
  }
  return out;
}

function credentials(v: unknown, label: string): NonNullable<AddOptions['credentials']> {
  if (typeof v === 'object' && v !== null) {
    const c = v as Record<string, unknown>;
    if ('bearer' in c && typeof c['bearer'] === 'string' && c['bearer'] !== '' && !/[\r\n\0]/.test(c['bearer'])) {
      return { bearer: c['bearer'] };
    }
    if (typeof c['username'] === 'string' && typeof c['password'] === 'string' && !/\0/.test(c['username'] + c['password'])) {
      return { username: c['username'], password: c['password'] };
    }
  }
  throw invalid(`Invalid ${label}: expected { username, password } or { bearer }`);
}

/**
 * The one check of a download's options, called where they enter: the CLI (once per download, before
 * anything starts), the service (every item of a request, before any is added) and the manager's
 * `add` (for library callers; options that came from here are not checked twice). Numbers follow
 * {@link OPTION_LIMITS}; paths get `~` expanded and are made absolute; header names become
 * lower-case; the checksum is parsed and written back as `ALGO=HEX` in lower case.
 *
 * @param input - the options as given
 * @param label - names an option in messages (`(k) => 'params.' + k` for the service)
 * @returns a new, frozen object holding only the known options
 * @throws UsageError MG_ERR_INVALID_OPTION naming the option (MG_ERR_INVALID_CHECKSUM for a bad checksum)
 */
export function normalizeOptions(input: unknown, label: OptionLabel = plain): NormalizedOptions {
  if (input === undefined) input = {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid(`Options must be an object, not ${show(input)}`);
  if (normalized.has(input)) return input as NormalizedOptions;
  const o = input as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!ADD_KEYS.has(key) && o[key] !== undefined) throw invalid(`Unknown option ${label(key)}`);
  }
  const out: AddOptions = {};
  if (o['output'] !== undefined && o['dir'] !== undefined) throw invalid(`Give ${label('output')} or ${label('dir')}, not both`);
  if (o['output'] !== undefined) {
    if (typeof o['output'] === 'string' && /[\\/]$/.test(o['output'])) {
      throw invalid(`Invalid ${label('output')} "${o['output']}": name a file, not a directory`);
    }
    out.output = path(o['output'], label('output'));
  }
  if (o['dir'] !== undefined) out.dir = path(o['dir'], label('dir'));
  for (const name of ['connections', 'priority', 'rateLimit', 'retries', 'stallTimeoutMs', 'connectTimeoutMs', 'minSplitSize'] as const) {
    if (o[name] !== undefined) out[name] = checkOption(name, o[name], label(name));
  }
  if (o['checksum'] !== undefined) {
    if (typeof o['checksum'] !== 'string') throw invalid(`Invalid ${label('checksum')}: ${show(o['checksum'])} (expected ALGO=HEX)`);
    if (o['checksum'] === 'auto') {
      out.checksum = 'auto';
    } else {
      const digest = parseChecksum(o['checksum']);
      out.checksum = `${digest.algorithm}=${digest.hex}`;
    }
  }
  if (o['headers'] !== undefined) {
    const headers = normalizeHeaders(o['headers'], label('headers'));
    if (Object.keys(headers).length > 0) out.headers = headers;
  }
  if (o['existing'] !== undefined) {
    const e = o['existing'];
    if (e !== 'fail' && e !== 'rename' && e !== 'overwrite') {
      throw invalid(`Invalid ${label('existing')}: ${show(e)} (expected "fail", "rename" or "overwrite")`);
    }
    out.existing = e;
  }
  if (o['noCache'] !== undefined) {
    if (typeof o['noCache'] !== 'boolean') throw invalid(`Invalid ${label('noCache')}: ${show(o['noCache'])} (expected true or false)`);
    if (o['noCache']) out.noCache = true;
  }
  if (o['credentials'] !== undefined) out.credentials = credentials(o['credentials'], label('credentials'));
  if (o['mirrors'] !== undefined) {
    const list = o['mirrors'];
    if (!Array.isArray(list) || list.length > MAX_MIRRORS) throw invalid(`Invalid ${label('mirrors')}: expected a list of at most ${MAX_MIRRORS} URLs`);
    out.mirrors = list.map((m: unknown, i) => {
      if (typeof m !== 'string' || URL.parse(m) === null) {
        throw new UsageError(ErrorCodes.INVALID_URL, `Invalid ${label('mirrors')}[${i}]: not a URL`);
      }
      return m;
    });
  }
  if (o['pieces'] !== undefined) {
    const p = o['pieces'] as Record<string, unknown> | null;
    const ok =
      typeof p === 'object' && p !== null && PIECE_ALGORITHMS.has(String(p['algorithm'])) &&
      Number.isSafeInteger(p['length']) && (p['length'] as number) > 0 && Array.isArray(p['hashes']) &&
      (p['hashes'] as unknown[]).every((h) => typeof h === 'string' && /^[0-9a-f]+$/.test(h));
    if (!ok) throw invalid(`Invalid ${label('pieces')}: expected { algorithm, length, hashes }`);
    out.pieces = o['pieces'] as NonNullable<AddOptions['pieces']>;
  }
  Object.freeze(out);
  normalized.add(out);
  return out;
}

/**
 * Checks a patch of manager settings (every field optional). `rateLimit` null or undefined means no
 * global limit; `dir` gets `~` expanded and is made absolute.
 *
 * @throws UsageError MG_ERR_INVALID_OPTION naming the setting
 */
export function normalizeSettings(input: unknown, label: OptionLabel = plain): Partial<ManagerSettings> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid(`Settings must be an object, not ${show(input)}`);
  const o = input as Record<string, unknown>;
  const out: Partial<ManagerSettings> = {};
  for (const key of Object.keys(o)) {
    if (!SETTINGS_KEYS.has(key)) throw invalid(`Unknown setting ${label(key)}`);
  }
  for (const name of ['maxConcurrent', 'connections', 'maxConnectionsPerHost', 'maxConnections', 'retries'] as const) {
    if (o[name] !== undefined) out[name] = checkOption(name, o[name], label(name));
  }
  if ('rateLimit' in o) out.rateLimit = o['rateLimit'] === undefined || o['rateLimit'] === null ? undefined : checkOption('rateLimit', o['rateLimit'], label('rateLimit'));
  if (o['dir'] !== undefined) out.dir = path(o['dir'], label('dir'));
  return out;
}

/** A manager's settings when nothing is given: the defaults of {@link OPTION_LIMITS}, the working directory. */
export function defaultSettings(): ManagerSettings {
  return {
    maxConcurrent: OPTION_LIMITS.maxConcurrent.default,
    connections: OPTION_LIMITS.connections.default,
    maxConnectionsPerHost: OPTION_LIMITS.maxConnectionsPerHost.default,
    maxConnections: OPTION_LIMITS.maxConnections.default,
    rateLimit: undefined,
    retries: OPTION_LIMITS.retries.default,
    dir: process.cwd(),
  };
}
