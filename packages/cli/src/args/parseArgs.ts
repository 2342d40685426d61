import { nodeUtil } from '../nodeUtil.js';
import {
  type Credentials,
  type DigestAlgorithm,
  ErrorCodes,
  GlobPattern,
  MAX_TREE_DEPTH,
  type LogSetting,
  UsageError,
  isLogSetting,
  normalizeAlgorithm,
  parseChecksum,
  parseProxyUrl,
} from '@multiget/core';
import { COMPLETION_SHELLS, type CompletionShell } from './completions.js';
import { DEFAULT_JOBS, FLAGS, type FlagSpec } from './flags.js';
import { parseHeader } from './parseHeader.js';
import { parseCount, parseSeconds, parseSize } from './units.js';

/** What the user wants printed. */
export type OutputMode = 'human' | 'json' | 'quiet';

/** The command line, validated. Undefined fields leave the engine's default in place. */
export interface CliOptions {
  /** URLs given as arguments, in order (`-i` adds more later). */
  urls: string[];
  output?: string;
  dir?: string;
  /**
   * Replace an existing target. Otherwise the engine's default applies: an existing file named
   * with `-o` (or `out=`) is an error, a name from the server is numbered (`name.1.ext`).
   */
  overwrite: boolean;
  connections?: number;
  maxConnectionsPerHost?: number;
  minSplitSize?: number;
  /** Downloads at once. */
  jobs: number;
  /** Bytes per second per download. */
  rateLimit?: number;
  /** Bytes per second across all downloads. */
  overallRateLimit?: number;
  retries?: number;
  stallTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Bytes per second of --lowest-speed-limit (0 = off). */
  lowestSpeed?: number;
  /** --speed-time in milliseconds. */
  lowestSpeedTimeMs?: number;
  /** `ALGO=HEX`, syntax already checked, or `auto` (a checksum file beside each URL). */
  checksum?: string;
  /** `--print-checksum`: print this digest of every finished file. */
  printChecksum?: DigestAlgorithm;
  headers: Array<[string, string]>;
  credentials?: Credentials;
  userAgent?: string;
  maxRedirects?: number;
  /** --location-trusted: headers and credentials follow redirects to other hosts. */
  locationTrusted: boolean;
  proxy?: string;
  noProxy: boolean;
  /** Path of a PEM file (read when the engine is built). */
  cacert?: string;
  insecure: boolean;
  /** ftp:// must use explicit TLS (AUTH TLS). */
  sslReqd: boolean;
  /** sftp:// private key file. */
  sshKey?: string;
  /** sftp:// key passphrase (from --pass). */
  sshPassphrase?: string;
  /** sftp:// known_hosts file. */
  knownHosts?: string;
  /** sftp:// pinned host key fingerprint. */
  sshFingerprint?: string;
  /** `-r`: each URL is a folder to download whole. */
  recursive: boolean;
  /** `--include` globs (with -r). */
  include: string[];
  /** `--exclude` globs (with -r). */
  exclude: string[];
  /** `--depth` (with -r): levels of subfolders to enter. */
  depth?: number;
  /** Path of the URL list, or `-` for stdin. */
  inputFile?: string;
  /** `--same-file`: the URLs given are sources (mirrors) of one file. */
  sameFile: boolean;
  mode: OutputMode;
  /** `--trace FILE`: write a trace of the run there. */
  trace?: string;
  /** False when --no-segment-map was given: no map under the progress bars. */
  segmentMap: boolean;
  /** False when --no-color was given (NO_COLOR and TTY checks come later). */
  color: boolean;
  /** What to log (from --log-level, -v, or --log alone); `off` when nothing is asked. */
  logLevel: LogSetting;
  /** `--log FILE`: append the log there; undefined for stderr. */
  logFile?: string;
  /** --no-cache: never copy a file from the content store, and do not record finished files there. */
  noCache: boolean;
  /** --fixed-connections: every allowed connection at once, rather than as many as add speed. */
  fixedConnections: boolean;
}

/** What the command line asks for. */
export type CliCommand =
  | {
      /** `--help`: print the usage text. */
      kind: 'help';
    }
  | {
      /** `--version`: print the version. */
      kind: 'version';
    }
  | {
      /** `--completion SHELL`: print a completion script. */
      kind: 'completion';
      /** The shell to write the completion script for. */
      shell: CompletionShell;
    }
  | {
      /** Download the URLs. */
      kind: 'download';
      /** Everything the command line said about the downloads. */
      options: CliOptions;
    };

export { DEFAULT_JOBS } from './flags.js';

type ParsedValues = Record<string, string | boolean | string[] | undefined>;

function usage(message: string): UsageError {
  return new UsageError(ErrorCodes.INVALID_OPTION, message);
}

function nodeOptions(): Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> {
  const out: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const f of FLAGS) {
    out[f.name] = { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) };
  }
  return out;
}

/**
 * Finds a flag that needs a value but has none: at the end of the line, or followed by another
 * option (`-c -d DIR`). node:util would call the latter "ambiguous" and print a hint longer than
 * one line; this says which flag lacks what, and how to pass a value that starts with a dash.
 */
function checkFlagValues(argv: readonly string[]): void {
  const byLong = new Map(FLAGS.map((f) => [f.name, f]));
  const byShort = new Map(FLAGS.filter((f) => f.short).map((f) => [f.short!, f]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return;
    let needs: FlagSpec | undefined;
    let written = arg;
    if (arg.startsWith('--')) {
      if (arg.includes('=')) continue;
      const spec = byLong.get(arg.slice(2));
      if (spec?.type === 'string') needs = spec;
    } else if (arg.startsWith('-') && arg.length > 1) {
      // A group of short flags (-qc 4): only the last one may take the next argument.
      for (let j = 1; j < arg.length; j++) {
        const spec = byShort.get(arg[j]!);
        if (spec?.type !== 'string') continue;
        if (j === arg.length - 1) {
          needs = spec;
          written = `-${arg[j]}`;
        }
        break;
      }
    }
    if (!needs) continue;
    const next = argv[i + 1];
    const what = `${written} needs a value${needs.value ? ` (${needs.value})` : ''}`;
    if (next === undefined) throw usage(`${what}`);
    if (next.startsWith('-') && next !== '-') {
      throw usage(`${what}, but "${next}" follows it; a value that starts with a dash is written --${needs.name}=${next}`);
    }
    i++;
  }
}

function readArgv(argv: readonly string[]): { values: ParsedValues; positionals: string[] } {
  checkFlagValues(argv);
  try {
    const { values, positionals } = nodeUtil.parseArgs({
      args: [...argv],
      options: nodeOptions(),
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedValues, positionals };
  } catch (err) {
    // node:util's messages are precise but long; keep the first sentence and point at --help.
    const text = err instanceof Error ? err.message : String(err);
    const first = text.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '').replace(/\.$/, '');
    throw usage(`${first} (see multiget --help)`);
  }
}

function str(values: ParsedValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function flag(values: ParsedValues, name: string): boolean {
  return values[name] === true;
}

function conflict(values: ParsedValues, a: string, b: string): void {
  if (values[a] !== undefined && values[b] !== undefined) throw usage(`--${a} and --${b} cannot be used together`);
}

function parseUser(raw: string): Credentials {
  const colon = raw.indexOf(':');
  if (colon < 0) {
    // curl would prompt; a download manager runs unattended, so ask for the full form instead.
    throw usage('Invalid value for --user: expected USER:PASSWORD');
  }
  return { username: raw.slice(0, colon), password: raw.slice(colon + 1) };
}

/** Levels of `-v`, `-vv` and `-vvv` (more v's say no more). */
const VERBOSE_LEVELS: readonly LogSetting[] = ['info', 'debug', 'trace'];

/**
 * `--log-level` wins; else each `-v` adds a level; else `--log FILE` alone logs at debug (what a
 * log file is for, as aria2's `-l`); else nothing is logged.
 */
function readLogging(values: ParsedValues, options: CliOptions): void {
  const file = str(values, 'log');
  if (file !== undefined) {
    if (file === '') throw usage('Invalid value for --log: empty');
    if (file !== '-') options.logFile = file;
  }
  const verbose = values['verbose'];
  const count = Array.isArray(verbose) ? verbose.length : 0;
  const level = str(values, 'log-level');
  if (level !== undefined) {
    if (!isLogSetting(level)) throw usage(`Invalid value for --log-level: "${level}" (error, warn, info, debug, trace or off)`);
    options.logLevel = level;
  } else if (count > 0) {
    options.logLevel = VERBOSE_LEVELS[Math.min(count, VERBOSE_LEVELS.length) - 1]!;
  } else if (file !== undefined) {
    options.logLevel = 'debug';
  }
}

/**
 * Parses and validates `multiget`'s command line (without the node and script paths). Checks
 * every value (sizes, counts, durations, header syntax, checksum syntax) and every conflict
 * between flags; what depends on the URL count (`-o`, `--checksum` with several URLs) is checked
 * once the input file is read. Throws a UsageError (exit code 2) on any problem.
 */
export function parseArgs(argv: readonly string[]): CliCommand {
  const { values, positionals } = readArgv(argv);
  if (flag(values, 'help')) return { kind: 'help' };
  if (flag(values, 'version')) return { kind: 'version' };
  const shell = str(values, 'completion');
  if (shell !== undefined) {
    if (!(COMPLETION_SHELLS as readonly string[]).includes(shell)) {
      throw usage(`Invalid value for --completion: "${shell}" (${COMPLETION_SHELLS.join(', ')})`);
    }
    return { kind: 'completion', shell: shell as CompletionShell };
  }

  conflict(values, 'json', 'quiet');
  conflict(values, 'user', 'bearer');
  conflict(values, 'proxy', 'no-proxy');
  conflict(values, 'connections', 'max-connection-per-server');

  const options: CliOptions = {
    urls: positionals,
    overwrite: flag(values, 'overwrite'),
    sameFile: flag(values, 'same-file'),
    jobs: DEFAULT_JOBS,
    headers: [],
    noProxy: flag(values, 'no-proxy'),
    locationTrusted: flag(values, 'location-trusted'),
    insecure: flag(values, 'insecure'),
    sslReqd: flag(values, 'ssl-reqd'),
    mode: flag(values, 'json') ? 'json' : flag(values, 'quiet') ? 'quiet' : 'human',
    color: !flag(values, 'no-color'),
    logLevel: 'off',
    segmentMap: !flag(values, 'no-segment-map'),
    recursive: flag(values, 'recursive'),
    include: [],
    exclude: [],
    noCache: flag(values, 'no-cache'),
    fixedConnections: flag(values, 'fixed-connections'),
  };
  readLogging(values, options);

  const trace = str(values, 'trace');
  if (trace !== undefined) {
    if (trace === '') throw usage('Invalid value for --trace: empty');
    options.trace = trace;
  }

  for (const key of ['include', 'exclude'] as const) {
    const globs = values[key];
    if (!Array.isArray(globs)) continue;
    if (!options.recursive) throw usage(`--${key} applies to folders: add -r`);
    for (const glob of globs) {
      if (glob === '') throw usage(`Invalid value for --${key}: empty`);
      try {
        new GlobPattern(glob);
      } catch (err) {
        throw usage(`Invalid value for --${key}: ${(err as Error).message}`);
      }
    }
    options[key] = globs;
  }
  const depth = str(values, 'depth');
  if (depth !== undefined) {
    if (!options.recursive) throw usage('--depth applies to folders: add -r');
    options.depth = parseCount(depth, '--depth', { min: 0, max: MAX_TREE_DEPTH });
  }

  const sshKey = str(values, 'ssh-key');
  if (sshKey !== undefined) options.sshKey = sshKey;
  const pass = str(values, 'pass');
  if (pass !== undefined) options.sshPassphrase = pass;
  const knownHosts = str(values, 'known-hosts');
  if (knownHosts !== undefined) options.knownHosts = knownHosts;
  const fingerprint = str(values, 'ssh-fingerprint');
  if (fingerprint !== undefined) {
    if (!/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(fingerprint)) {
      throw usage(`Invalid --ssh-fingerprint "${fingerprint}": expected SHA256:... as ssh-keygen -l prints it`);
    }
    options.sshFingerprint = fingerprint;
  }

  const output = str(values, 'output');
  if (output !== undefined) {
    if (output === '-') throw usage('Writing to stdout (-o -) is not supported: name a file');
    if (output === '') throw usage('Invalid value for --output: empty');
    options.output = output;
  }
  const dir = str(values, 'dir');
  if (dir !== undefined) {
    if (dir === '') throw usage('Invalid value for --dir: empty');
    options.dir = dir;
  }

  const connections = str(values, 'connections') ?? str(values, 'max-connection-per-server');
  if (connections !== undefined) options.connections = parseCount(connections, str(values, 'connections') !== undefined ? '--connections' : '--max-connection-per-server', 'connections');
  const perHost = str(values, 'max-connections-per-host');
  if (perHost !== undefined) options.maxConnectionsPerHost = parseCount(perHost, '--max-connections-per-host', 'maxConnectionsPerHost');
  const minSplit = str(values, 'min-split-size');
  if (minSplit !== undefined) options.minSplitSize = parseSize(minSplit, '--min-split-size', 'minSplitSize');
  const jobs = str(values, 'max-concurrent');
  if (jobs !== undefined) options.jobs = parseCount(jobs, '--max-concurrent', 'maxConcurrent');

  const limit = str(values, 'limit-rate');
  if (limit !== undefined) options.rateLimit = parseSize(limit, '--limit-rate', 'rateLimit');
  const overall = str(values, 'max-overall-download-limit');
  if (overall !== undefined) options.overallRateLimit = parseSize(overall, '--max-overall-download-limit', 'rateLimit');
  const retries = str(values, 'retries');
  if (retries !== undefined) options.retries = parseCount(retries, '--retries', 'retries');
  const timeout = str(values, 'timeout');
  if (timeout !== undefined) options.stallTimeoutMs = parseSeconds(timeout, '--timeout', 'stallTimeoutMs');
  const connectTimeout = str(values, 'connect-timeout');
  if (connectTimeout !== undefined) options.connectTimeoutMs = parseSeconds(connectTimeout, '--connect-timeout', 'connectTimeoutMs');
  const lowest = str(values, 'lowest-speed-limit');
  if (lowest !== undefined) options.lowestSpeed = parseSize(lowest, '--lowest-speed-limit', 'lowestSpeed');
  const speedTime = str(values, 'speed-time');
  if (speedTime !== undefined) options.lowestSpeedTimeMs = parseSeconds(speedTime, '--speed-time', 'lowestSpeedTimeMs');

  const printChecksum = str(values, 'print-checksum');
  if (printChecksum !== undefined) {
    const algorithm = normalizeAlgorithm(printChecksum);
    if (!algorithm) throw usage(`Invalid value for --print-checksum: "${printChecksum}" (sha256, sha512, sha1 or md5)`);
    options.printChecksum = algorithm;
  }
  const checksum = str(values, 'checksum');
  if (checksum !== undefined) {
    if (checksum !== 'auto') parseChecksum(checksum);
    options.checksum = checksum;
  }

  const headers = values['header'];
  if (Array.isArray(headers)) options.headers = headers.map((h) => parseHeader(h));
  const user = str(values, 'user');
  if (user !== undefined) options.credentials = parseUser(user);
  const bearer = str(values, 'bearer');
  if (bearer !== undefined) {
    if (bearer === '' || /[\r\n\0]/.test(bearer)) throw usage('Invalid value for --bearer');
    options.credentials = { bearer };
  }
  const userAgent = str(values, 'user-agent');
  if (userAgent !== undefined) {
    if (/[\r\n\0]/.test(userAgent)) throw usage('Invalid value for --user-agent: line breaks are not allowed');
    options.userAgent = userAgent;
  }
  const redirects = str(values, 'max-redirs');
  if (redirects !== undefined) options.maxRedirects = parseCount(redirects, '--max-redirs', { min: 0, max: 1000 });

  const proxy = str(values, 'proxy');
  if (proxy !== undefined) {
    // Checked here, not only by the plugins: those are loaded only when a URL needs them. The
    // proxy URL may carry credentials: core's parser never echoes it.
    parseProxyUrl(proxy, '--proxy');
    options.proxy = proxy;
  }
  const cacert = str(values, 'cacert');
  if (cacert !== undefined) options.cacert = cacert;
  const input = str(values, 'input-file');
  if (input !== undefined) options.inputFile = input;

  if (options.recursive && options.checksum !== undefined && options.checksum !== 'auto') {
    throw usage('--checksum ALGO=HEX names one file; with -r use --checksum auto');
  }
  return { kind: 'download', options };
}
