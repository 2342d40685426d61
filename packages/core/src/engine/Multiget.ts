import { randomUUID } from 'node:crypto';
import { expandHome } from '../util/homePath.js';
import { DownloadError, ErrorCodes, UsageError } from '../errors.js';
import { parseChecksum } from '../util/checksum.js';
import { Download, type EngineContext } from './Download.js';
import { createHooks, type EngineHooks, type HookHost, type Plugin } from './hooks.js';
import { HostSlots } from '../transfer/HostSlots.js';
import { Job, type JobOptions } from './Job.js';
import type { RemoteEntry } from '../listing/types.js';
import { ChecksumFiles } from '../checksums/ChecksumFiles.js';
import { OPTION_LIMITS as LIMITS } from '../options/limits.js';
import { checkNumericOptions, checkOption } from '../options/normalizeOptions.js';
import { ChecksumVerifier } from '../plugins/ChecksumVerifier.js';
import { MirrorPlugin } from '../mirrors/MirrorPlugin.js';
import type { PieceHashes } from '../mirrors/metalink.js';
import { PartialFile } from '../storage/PartialFile.js';
import { RetryPolicy, type RetryPolicyOptions } from '../plugins/RetryPolicy.js';
import { SegmentPlanner } from '../plugins/SegmentPlanner.js';
import { TokenBucket } from '../transfer/TokenBucket.js';
import type { ConnectionPolicyFactory } from '../transfer/policy.js';
import { adaptiveConnections } from '../transfer/AdaptivePolicy.js';
import { Log } from '../log/Log.js';
import type { LogSetting, Logger } from '../log/Logger.js';
import { nodeDebugLogger } from '../log/format.js';
import { redactUrl } from '../log/redact.js';
import { logDownload } from '../log/logDownload.js';
import type { Credentials, Digest, ExistingFilePolicy, RemoteInfo } from '../types.js';

/** Engine-wide options; every one has a default. */
export interface MultigetOptions {
  /** Plugins applied after the defaults: protocol plugins (e.g. `new HttpPlugin()`) and others. */
  plugins?: Plugin[];
  /**
   * The built-in plugins (SegmentPlanner, RetryPolicy, PartialFile, ChecksumFiles, ChecksumVerifier, MirrorPlugin). `false` applies
   * none; a function receives them and returns the list to apply (to drop or replace one).
   */
  defaultPlugins?: boolean | ((defaults: Plugin[]) => Plugin[]);
  /** Connections per download. Default 8. */
  connections?: number;
  /** Connections to one host, across all downloads. Default 16. */
  maxConnectionsPerHost?: number;
  /** Connections in total, across all downloads and hosts (the connection budget). Default: no cap. */
  maxConnections?: number;
  /** Segments are not split below this many bytes, except a slow connection's tail at the end. Default 1 MiB. */
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
   * retire one). Default {@link adaptiveConnections}: `connections` is a ceiling; the transfer starts
   * with a few and opens more while they add throughput (see the package README, "Adaptive
   * connections"). {@link allAtOnce} opens every allowed connection at once.
   */
  connectionPolicy?: ConnectionPolicyFactory;
  /** User-Agent sent by protocols that have one. */
  userAgent?: string;
  /** Default directory for downloads named after the remote file. Default: the working directory. */
  dir?: string;
  /**
   * Where the engine and the protocol plugins log: any object with `error`, `warn`, `info`,
   * `debug` and `trace` methods taking `(message, fields)` (`console`; pino through
   * `fieldsFirst`). Messages and fields never carry a secret. Default: none, unless NODE_DEBUG
   * names `multiget`, which logs everything to stderr through `util.debuglog`. Logging off costs
   * one comparison per call: no message or field is built.
   */
  logger?: Logger;
  /**
   * Level of `logger`: `error`, `warn`, `info`, `debug`, `trace` or `off`. Default: the logger's
   * own `level` property when it has one (pino), else `info`; `trace` for NODE_DEBUG.
   */
  logLevel?: LogSetting;
}

/** Options of one download. Engine options fill in what is not given. */
export interface DownloadOptions {
  /** Exact path of the file to write. */
  output?: string;
  /** Directory to write into, with the name the server or URL suggests. Created if missing. */
  dir?: string;
  /** Connections for this download (capped by the per-host limit). */
  connections?: number;
  /**
   * Expected digest: `sha256=HEX` (sha512, sha1, md5 too) or a Digest object; or `'auto'`: look
   * beside the URL for a checksum file (`NAME.sha256`, `NAME.sha256sum`, `NAME.sha512`,
   * `NAME.sha512sum`, `SHA256SUMS`, `SHA512SUMS`, in that order) and verify against the first that
   * names the file. None found: the download goes on unverified, with an `MG_WARN_NO_CHECKSUM_FILE`
   * warning.
   */
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
  /**
   * Other URLs of the same file, read from at the same time (see MirrorPlugin). Each must serve the
   * same bytes; one that does not, or fails, is left out. Credentials and headers go only to URLs of
   * the download URL's origin.
   */
  mirrors?: Array<string | URL>;
  /** Expected hashes of the file's pieces (from a Metalink), checked as the bytes arrive. */
  pieces?: PieceHashes;
  /** Aborting stops the download and keeps the partial data for a later resume. */
  signal?: AbortSignal;
  /** An id for the download (default: a random UUID). */
  id?: string;
  /**
   * URLs this same download was fetched from before (a link that expired and was replaced): a
   * partial file whose state names one of them is this download's own, resumed when size and
   * validators still match and started over when not.
   */
  previousUrls?: ReadonlyArray<string | URL>;
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
  /** The engine's log (see {@link MultigetOptions.logger}); `log.setLevel()` changes its level at run time. */
  readonly log: Log;
  readonly #plugins: Plugin[] = [];
  readonly #downloads = new Set<Download>();
  readonly #context: EngineContext;
  readonly #options: MultigetOptions;
  readonly #bucket: TokenBucket;
  readonly #targets = new Map<string, string>();

  constructor(options: MultigetOptions = {}) {
    this.#options = options;
    validateEngineOptions(options);
    const debugLogger = options.logger === undefined ? nodeDebugLogger() : undefined;
    this.log = debugLogger ? Log.create(debugLogger, options.logLevel ?? 'trace') : Log.create(options.logger, options.logLevel);
    this.#bucket = new TokenBucket(options.rateLimit);
    this.#context = {
      hooks: this.hooks,
      hostSlots: new HostSlots(options.maxConnectionsPerHost ?? LIMITS.maxConnectionsPerHost.default, options.maxConnections ?? Infinity),
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
      checkpointIntervalMs: options.checkpointIntervalMs ?? LIMITS.checkpointIntervalMs.default,
      progressIntervalMs: options.progressIntervalMs ?? LIMITS.progressIntervalMs.default,
      maxRestarts: options.maxRestarts ?? LIMITS.maxRestarts.default,
      connectionPolicy: options.connectionPolicy ?? adaptiveConnections(),
    };
    const defaults: Plugin[] = [
      new SegmentPlanner(),
      new RetryPolicy(options.retry),
      new PartialFile(),
      new ChecksumFiles(),
      new ChecksumVerifier(),
      new MirrorPlugin(),
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
    checkOption('maxConnectionsPerHost', perHost);
    if (overall !== undefined) checkOption('maxConnections', overall);
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
    const id = options.id ?? randomUUID();
    const log = this.log.child({ download: id });
    const jobOptions: JobOptions = { ...this.#resolveOptions(options), log };
    const dl = new Download(this.#context, parsed, jobOptions, options.signal, id);
    logDownload(dl, log);
    this.#downloads.add(dl);
    // Before the download starts (a microtask later), so observers miss none of its events.
    this.hooks.download.call(dl);
    const forget = (): void => void this.#downloads.delete(dl);
    dl.done.then(forget, forget);
    return dl;
  }

  /**
   * Lists a remote folder through the protocol plugin of its URL (ftp, ftps and sftp have one),
   * with the options a download of it would have (credentials, headers, timeouts).
   *
   * @throws UsageError - MG_ERR_INVALID_URL, MG_ERR_UNSUPPORTED_PROTOCOL (no plugin, or one that
   *   cannot list); the plugin's errors (MG_ERR_NOT_FOUND, MG_ERR_AUTH, ...).
   */
  async list(url: string | URL, options: Omit<DownloadOptions, 'output' | 'dir'> = {}): Promise<RemoteEntry[]> {
    const parsed = parseUrl(url);
    const id = options.id ?? randomUUID();
    const job = new Job(id, parsed, { ...this.#resolveOptions(options), log: this.log.child({ download: id }) }, options.signal ?? new AbortController().signal);
    const driver = await this.hooks.resolve.promise(parsed, job);
    if (!driver?.list) {
      throw new UsageError(
        ErrorCodes.UNSUPPORTED_PROTOCOL,
        `${driver ? driver.name : 'No protocol plugin'} cannot list folders of "${parsed.protocol}" URLs`,
      );
    }
    job.driver = driver;
    return await driver.list(job);
  }

  /**
   * Learns what `url` serves (size, validators, file name, digests) without downloading it: the
   * protocol's probe, whose body (if it opened one) is released at once. The manager asks this
   * before it copies a file from its content store. Fails like a download's probe would.
   */
  async probe(url: string | URL, options: DownloadOptions = {}): Promise<RemoteInfo> {
    const parsed = parseUrl(url);
    const controller = new AbortController();
    const id = options.id ?? randomUUID();
    // Logged like a download's probe: a lookup's connections and trust decisions are seen too.
    const job = new Job(id, parsed, { ...this.#resolveOptions(options), log: this.log.child({ download: id }) }, controller.signal);
    try {
      const driver = await this.hooks.resolve.promise(parsed, job);
      if (!driver) throw new UsageError(ErrorCodes.UNSUPPORTED_PROTOCOL, `No protocol plugin handles "${parsed.protocol}" URLs`);
      job.driver = driver;
      const remote = await this.hooks.probe.promise({ url: parsed, size: undefined, ranges: false, validators: {}, digests: [] }, job);
      remote.initialSource?.cancel();
      delete remote.initialSource;
      return remote;
    } finally {
      controller.abort();
    }
  }

  /** Aborts running downloads (keeping their partial data) and releases every plugin's connections. */
  async close(): Promise<void> {
    await Promise.all([...this.#downloads].map((d) => d.pause()));
    await Promise.all(this.#plugins.map((p) => p.close?.()));
  }

  #resolveOptions(o: DownloadOptions): JobOptions {
    const e = this.#options;
    const checksumFiles = o.checksum === 'auto';
    const checksum = checksumFiles ? undefined : typeof o.checksum === 'string' ? parseChecksum(o.checksum) : o.checksum;
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
      connections: o.connections ?? e.connections ?? LIMITS.connections.default,
      maxConnectionsPerHost: e.maxConnectionsPerHost ?? LIMITS.maxConnectionsPerHost.default,
      minSplitSize: o.minSplitSize ?? e.minSplitSize ?? LIMITS.minSplitSize.default,
      headers,
      credentials: o.credentials,
      checksum,
      checksumFiles,
      existing,
      retries: o.retries ?? e.retries ?? LIMITS.retries.default,
      connectTimeoutMs: o.connectTimeoutMs ?? e.connectTimeoutMs ?? LIMITS.connectTimeoutMs.default,
      stallTimeoutMs: o.stallTimeoutMs ?? e.stallTimeoutMs ?? LIMITS.stallTimeoutMs.default,
      lowestSpeed: o.lowestSpeed ?? e.lowestSpeed ?? LIMITS.lowestSpeed.default,
      lowestSpeedTimeMs: o.lowestSpeedTimeMs ?? e.lowestSpeedTimeMs ?? LIMITS.lowestSpeedTimeMs.default,
      rateLimit: o.rateLimit,
      userAgent: e.userAgent ?? DEFAULT_USER_AGENT,
      mirrors: (o.mirrors ?? []).map((m) => parseUrl(m)),
      pieces: o.pieces,
      previousUrls: (o.previousUrls ?? []).map((u) => redactUrl(parseUrl(u))),
    };
    checkNumericOptions(opts);
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
    // Never echoed whole: an unparsable URL may still carry a password or a signature.
    throw new UsageError(ErrorCodes.INVALID_URL, `Invalid URL "${redactUrl(url)}"`, { cause: err });
  }
}

function validateEngineOptions(o: MultigetOptions): void {
  // Every numeric engine option has its row in OPTION_LIMITS.
  checkNumericOptions(o);
}

export { DownloadError };
