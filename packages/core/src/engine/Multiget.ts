import { expandHome } from '../util/homePath.js';
import { DownloadError, ErrorCodes, UsageError } from '../errors.js';
import { parseChecksum } from '../util/checksum.js';
import { Download, type EngineContext } from './Download.js';
import { createHooks, type EngineHooks, type HookHost, type Plugin } from './hooks.js';
import { HostSlots } from '../transfer/HostSlots.js';
import type { JobOptions } from './Job.js';
import { ChecksumVerifier } from '../plugins/ChecksumVerifier.js';
import { PartialFile } from '../storage/PartialFile.js';
import { RetryPolicy, type RetryPolicyOptions } from '../plugins/RetryPolicy.js';
import { SegmentPlanner } from '../plugins/SegmentPlanner.js';
import { TokenBucket } from '../transfer/TokenBucket.js';
import { type ConnectionPolicyFactory, allAtOnce } from '../transfer/policy.js';
import type { Credentials, Digest, ExistingFilePolicy } from '../types.js';

/** Engine-wide options; every one has a default. */
export interface MultigetOptions {
  /** Plugins applied after the defaults: protocol plugins (e.g. `new HttpPlugin()`) and others. */
  plugins?: Plugin[];
  /**
   * The built-in plugins (SegmentPlanner, RetryPolicy, PartialFile, ChecksumVerifier). `false` applies
   * none; a function receives them and returns the list to apply (to drop or replace one).
   */
  defaultPlugins?: boolean | ((defaults: Plugin[]) => Plugin[]);
  /** Connections per download. Default 8. */
  connections?: number;
  /** Connections to one host, across all downloads. Default 16. */
  maxConnectionsPerHost?: number;
  /** Connections in total, across all downloads and hosts (the connection budget). Default: no cap. */
  maxConnections?: number;
  /** Segments are never split below this many bytes. Default 1 MiB. */
  minSplitSize?: number;
  /** Failures in a row without progress before a download fails. Default 5. */
  retries?: number;
  /** Options of the built-in retry policy (backoff delays). */
  retry?: RetryPolicyOptions;
  /** Milliseconds to open a connection. Default 15000. */
  connectTimeoutMs?: number;
  /** Milliseconds without data before a connection is abandoned and retried. Default 30000. */
  stallTimeoutMs?: number;
  /**
   * Lowest speed, in bytes per second, of a download: when its connections together receive less
   * than this over `lowestSpeedTimeMs`, each of them counts as stalled (MG_ERR_STALLED) and is
   * restarted, and that counts as a failure without progress (after `retries` of them in a row the
   * download fails): a server that drips a byte every few seconds never trips the stall timeout
   * alone. Speed is measured in network time (time held by the rate limit or the disk is left out),
   * over the sum of the connections, so many connections sharing a slow but real link are not
   * punished. 0 turns the rule off. Default 1024 (1 KiB/s), as aria2's --lowest-speed-limit and
   * curl's --speed-limit.
   */
  lowestSpeed?: number;
  /**
   * Milliseconds of history the lowest-speed rule looks at (curl's --speed-time). The same window
   * serves the slow-connection rule, which restarts a connection running below a tenth of the
   * median speed of at least two siblings (its remaining bytes go back to the pool; this never
   * counts towards `retries`), whatever `lowestSpeed` is. Default 30000.
   */
  lowestSpeedTimeMs?: number;
  /** Global rate limit in bytes per second across all downloads. Default: none. */
  rateLimit?: number;
  /** How often the state file is rewritten, in milliseconds. Default 1000. */
  checkpointIntervalMs?: number;
  /** How often `progress` fires while transferring, in milliseconds. Default 250. */
  progressIntervalMs?: number;
  /** Times a download may start over because the remote file changed. Default 3. */
  maxRestarts?: number;
  /**
   * Makes the connection policy of each transfer (how many connections to open, when to open or
   * retire one). Default {@link allAtOnce}: every allowed connection at once.
   */
  connectionPolicy?: ConnectionPolicyFactory;
  /** User-Agent sent by protocols that have one. */
  userAgent?: string;
  /** Default directory for downloads named after the remote file. Default: the working directory. */
  dir?: string;
}

/** Options of one download. Engine options fill in what is not given. */
export interface DownloadOptions {
  /** Exact path of the file to write. */
  output?: string;
  /** Directory to write into, with the name the server or URL suggests. Created if missing. */
  dir?: string;
  /** Connections for this download (capped by the per-host limit). */
  connections?: number;
  /** Expected digest: `sha256=HEX` (sha512, sha1, md5 too) or a Digest object. */
  checksum?: string | Digest;
  /** Extra request headers. */
  headers?: Record<string, string> | Array<[string, string]>;
  /** Credentials; protocol plugins decide how to send them (HTTP: Basic or Bearer). */
  credentials?: Credentials;
  /**
   * What to do when the target exists. Default: `'fail'` when `output` is given, `'rename'`
   * (pick `name.1.ext`, `name.2.ext`, ...) when the name comes from the server.
   */
  existing?: ExistingFilePolicy;
  /** Shorthand for `existing: 'overwrite'`. */
  overwrite?: boolean;
  /** Rate limit of this download in bytes per second. */
  rateLimit?: number;
  /** Failures in a row without progress (per segment) before the download fails. */
  retries?: number;
  /** Milliseconds to open a connection before it counts as failed (`MG_ERR_CONNECT_TIMEOUT`). */
  connectTimeoutMs?: number;
  /** Milliseconds without a byte before a connection counts as stalled (`MG_ERR_STALLED`). */
  stallTimeoutMs?: number;
  /** See {@link MultigetOptions.lowestSpeed}: bytes per second, 0 for none. */
  lowestSpeed?: number;
  /** See {@link MultigetOptions.lowestSpeedTimeMs}: milliseconds. */
  lowestSpeedTimeMs?: number;
  minSplitSize?: number;
  /** Aborting stops the download and keeps the partial data for a later resume. */
  signal?: AbortSignal;
  /** An id for the download (default: a random UUID). */
  id?: string;
}

const DEFAULT_USER_AGENT = 'multiget/0.1';

/**
 * The engine. Holds the hooks, applies plugins, and starts downloads.
 *
 * @example
 * const mg = new Multiget({ plugins: [new HttpPlugin()] });
 * const dl = mg.download('https://example.com/file.iso', { dir: 'downloads', connections: 8 });
 * dl.on('progress', (p) => console.log(p.bytesDone, p.total));
 * const result = await dl.done;
 */
export class Multiget implements HookHost {
  /** The lifecycle hooks, frozen. */
  readonly hooks: EngineHooks = createHooks();
  readonly #plugins: Plugin[] = [];
  readonly #downloads = new Set<Download>();
  readonly #context: EngineContext;
  readonly #options: MultigetOptions;
  readonly #bucket: TokenBucket;
  readonly #targets = new Map<string, string>();

  constructor(options: MultigetOptions = {}) {
    this.#options = options;
    validateEngineOptions(options);
    this.#bucket = new TokenBucket(options.rateLimit);
    this.#context = {
      hooks: this.hooks,
      hostSlots: new HostSlots(options.maxConnectionsPerHost ?? 16, options.maxConnections ?? Infinity),
      claimTarget: (path, id) => {
        const holder = this.#targets.get(path);
        if (holder !== undefined && holder !== id) return false;
        this.#targets.set(path, id);
        return true;
      },
      releaseTarget: (path, id) => {
        if (this.#targets.get(path) === id) this.#targets.delete(path);
      },
      globalBucket: this.#bucket,
      answeredHosts: new Set(),
      checkpointIntervalMs: options.checkpointIntervalMs ?? 1000,
      progressIntervalMs: options.progressIntervalMs ?? 250,
      maxRestarts: options.maxRestarts ?? 3,
      connectionPolicy: options.connectionPolicy ?? allAtOnce,
    };
    const defaults: Plugin[] = [
      new SegmentPlanner(),
      new RetryPolicy(options.retry),
      new PartialFile(),
      new ChecksumVerifier(),
    ];
    const chosen =
      options.defaultPlugins === false
        ? []
        : typeof options.defaultPlugins === 'function'
          ? options.defaultPlugins(defaults)
          : defaults;
    for (const p of [...chosen, ...(options.plugins ?? [])]) this.use(p);
  }

  /** Applies a plugin. */
  use(plugin: Plugin): this {
    plugin.apply(this);
    this.#plugins.push(plugin);
    return this;
  }

  /** The plugins applied, in order. */
  get plugins(): readonly Plugin[] {
    return this.#plugins;
  }

  /** Downloads not yet finished. */
  get downloads(): readonly Download[] {
    return [...this.#downloads];
  }

  /** Changes the connection caps (per host, and in total) for connections opened from now on. */
  setConnectionLimits(perHost: number, overall?: number): void {
    positive('maxConnectionsPerHost', perHost, 1, 256);
    if (overall !== undefined) positive('maxConnections', overall, 1, 4096);
    this.#context.hostSlots.setLimits(perHost, overall);
  }

  /** Changes the global rate limit (bytes per second; undefined for none), also for running downloads. */
  setRateLimit(bytesPerSecond: number | undefined): void {
    this.#bucket.setRate(bytesPerSecond);
  }

  /**
   * Starts a download. Throws a UsageError at once for a malformed URL or bad options; every other
   * failure arrives through `done` and the `failed` event.
   */
  download(url: string | URL, options: DownloadOptions = {}): Download {
    const parsed = parseUrl(url);
    const jobOptions = this.#resolveOptions(options);
    const dl = new Download(this.#context, parsed, jobOptions, options.signal, options.id);
    this.#downloads.add(dl);
    // Before the download starts (a microtask later), so observers miss none of its events.
    this.hooks.download.call(dl);
    const forget = (): void => void this.#downloads.delete(dl);
    dl.done.then(forget, forget);
    return dl;
  }

  /** Aborts running downloads (keeping their partial data) and releases every plugin's connections. */
  async close(): Promise<void> {
    await Promise.all([...this.#downloads].map((d) => d.pause()));
    await Promise.all(this.#plugins.map((p) => p.close?.()));
  }

  #resolveOptions(o: DownloadOptions): JobOptions {
    const e = this.#options;
    const checksum = typeof o.checksum === 'string' ? parseChecksum(o.checksum) : o.checksum;
    const headers: Record<string, string> = {};
    for (const [k, v] of Array.isArray(o.headers) ? o.headers : Object.entries(o.headers ?? {})) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || /[\r\n\0]/.test(v)) {
        throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid header "${k}"`);
      }
      headers[k.toLowerCase()] = v;
    }
    const existing: ExistingFilePolicy =
      o.existing ?? (o.overwrite ? 'overwrite' : o.output !== undefined ? 'fail' : 'rename');
    const opts: JobOptions = {
      output: o.output === undefined ? undefined : expandHome(o.output, 'output'),
      dir: expandHome(o.dir ?? e.dir ?? process.cwd(), 'dir'),
      connections: o.connections ?? e.connections ?? 8,
      maxConnectionsPerHost: e.maxConnectionsPerHost ?? 16,
      minSplitSize: o.minSplitSize ?? e.minSplitSize ?? 1024 * 1024,
      headers,
      credentials: o.credentials,
      checksum,
      existing,
      retries: o.retries ?? e.retries ?? 5,
      connectTimeoutMs: o.connectTimeoutMs ?? e.connectTimeoutMs ?? 15_000,
      stallTimeoutMs: o.stallTimeoutMs ?? e.stallTimeoutMs ?? 30_000,
      lowestSpeed: o.lowestSpeed ?? e.lowestSpeed ?? 1024,
      lowestSpeedTimeMs: o.lowestSpeedTimeMs ?? e.lowestSpeedTimeMs ?? 30_000,
      rateLimit: o.rateLimit,
      userAgent: e.userAgent ?? DEFAULT_USER_AGENT,
    };
    positive('connections', opts.connections, 1, 256);
    positive('minSplitSize', opts.minSplitSize, 1);
    positive('retries', opts.retries, 0);
    positive('connectTimeoutMs', opts.connectTimeoutMs, 1);
    positive('stallTimeoutMs', opts.stallTimeoutMs, 1);
    positive('lowestSpeed', opts.lowestSpeed, 0);
    positive('lowestSpeedTimeMs', opts.lowestSpeedTimeMs, 1);
    if (opts.rateLimit !== undefined) positive('rateLimit', opts.rateLimit, 1);
    if (o.output !== undefined && (o.output === '' || o.output.endsWith('/'))) {
      throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid output path "${o.output}": name a file`);
    }
    return opts;
  }
}

function parseUrl(url: string | URL): URL {
  if (url instanceof URL) return new URL(url.href);
  try {
    return new URL(url);
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_URL, `Invalid URL "${url}"`, { cause: err });
  }
}

function positive(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isFinite(value) || value < min || value > max || (Number.isInteger(min) && !Number.isInteger(value))) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid ${name}: ${value} (expected ${min}..${max})`);
  }
}

function validateEngineOptions(o: MultigetOptions): void {
  if (o.connections !== undefined) positive('connections', o.connections, 1, 256);
  if (o.maxConnectionsPerHost !== undefined) positive('maxConnectionsPerHost', o.maxConnectionsPerHost, 1, 256);
  if (o.maxConnections !== undefined) positive('maxConnections', o.maxConnections, 1, 4096);
  if (o.rateLimit !== undefined) positive('rateLimit', o.rateLimit, 1);
  if (o.lowestSpeed !== undefined) positive('lowestSpeed', o.lowestSpeed, 0);
  if (o.lowestSpeedTimeMs !== undefined) positive('lowestSpeedTimeMs', o.lowestSpeedTimeMs, 1);
}

export { DownloadError };
