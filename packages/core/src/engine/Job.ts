import type { ProtocolDriver } from './hooks.js';
import { Log } from '../log/Log.js';
import type { PieceHashes } from '../mirrors/metalink.js';
import type { ByteSink } from '../storage/sink.js';
import type { Storage } from '../storage/Storage.js';
import type { BlockDigests } from '../storage/blockDigests.js';
import type { Credentials, Digest, ExistingFilePolicy, RemoteInfo, Segment } from '../types.js';

/** A download's options after defaults are applied. */
export interface JobOptions {
  /** Exact target path, when the caller named one. */
  output: string | undefined;
  /** Directory for a target named after the remote file. */
  dir: string;
  /** Connections wanted for this download. */
  connections: number;
  /** Upper bound of connections to one host. */
  maxConnectionsPerHost: number;
  /** A segment is not split into parts smaller than this many bytes (except a slow connection's tail). */
  minSplitSize: number;
  /** Extra request headers (HTTP). Lower-case names. */
  headers: Record<string, string>;
  /** Credentials to send, if any; in memory only, never saved in the state file. */
  credentials: Credentials | undefined;
  /** The digest the caller expects. */
  checksum: Digest | undefined;
  /** Look for a checksum file beside the URL (`checksum: 'auto'`) and verify against it. */
  checksumFiles: boolean;
  /** What to do when the target exists. */
  existing: ExistingFilePolicy;
  /** Retries of one segment in a row without progress before the download fails. */
  retries: number;
  /** Milliseconds to open a connection. */
  connectTimeoutMs: number;
  /** Milliseconds without a byte before a connection counts as stalled (headers wait included). */
  stallTimeoutMs: number;
  /** Bytes per second below which the whole download counts as stalled (0: never). See MultigetOptions. */
  lowestSpeed: number;
  /** Milliseconds of history the lowest-speed rule and the slow-connection rule look at. */
  lowestSpeedTimeMs: number;
  /** Bytes per second for this download, or undefined for no limit. */
  rateLimit: number | undefined;
  /** User-Agent for protocols that send one. */
  userAgent: string;
  /** Other sources of the same file (see MirrorPlugin); empty for none. */
  mirrors: URL[];
  /** Expected hashes of the file's pieces (from a Metalink), checked as they arrive. */
  pieces: PieceHashes | undefined;
  /** Earlier URLs of this download, without credentials (see DownloadOptions.previousUrls). */
  previousUrls: readonly string[];
  /** The download's log (its id bound); absent: nothing is logged. Read it as {@link Job.log}. */
  log?: Log;
}

/**
 * The per-download context handed to every hook. Plugins read it; the engine and the built-in
 * plugins fill it in as the download advances.
 */
export class Job {
  /** The protocol driver chosen by `resolve`. */
  driver: ProtocolDriver | undefined;
  /** What `probe` learned; on resume, checked against the saved state. */
  remote: RemoteInfo | undefined;
  /** Where the finished file will be (an absolute path with the built-in storage), once chosen. */
  target: string | undefined;
  /** The download's storage, from the `openStorage` hook. */
  storage: Storage | undefined;
  /** The segments of the file (done, in flight and pending). */
  segments: Segment[] = [];
  /**
   * The most connections this run opens, decided with its segments by the plan step: a `plan` tap
   * may set it with the segments it returns (the built-in planner sets the count it cut the file
   * into); otherwise, and for a resumed run, the plan step derives it from the options and the
   * bytes left. The transfer loop and its connection policy take it as their ceiling.
   */
  connections: number | undefined;
  /** Where bytes are written; opened by the storage. */
  sink: ByteSink | undefined;
  /** The digest that `verify` checked, once it did. */
  verifiedDigest: Digest | undefined;
  /** True when this run continues partial data of an earlier one. */
  resumed = false;
  readonly #warned = new Set<string>();
  /** Digests of the blocks of the temporary file, recorded as they complete (size known only). */
  blocks: BlockDigests | undefined;

  constructor(
    /** Unique id of the download. */
    readonly id: string,
    /**
     * The URL as given (with credentials, if the caller put them there), or the fresh one a
     * `refreshUrl` tap gave since.
     */
    public url: URL,
    /** The download's options, defaults applied. */
    readonly options: JobOptions,
    /** Aborted when the download stops for any reason (pause, cancel, caller's signal). */
    readonly signal: AbortSignal,
    /** Receives {@link warn}'s reports (the download's `warning` event). */
    private readonly onWarning?: (info: { code: string; message: string }) => void,
  ) {
    this.givenUrl = url;
  }

  /**
   * The URL the download was given, before any `refreshUrl` tap: what its partial data is saved
   * under, so that a resume with the same URL finds it whatever signature the last run held.
   */
  readonly givenUrl: URL;

  /**
   * Tells the user something that does not stop the download (the download's `warning` event),
   * e.g. a redirect to plain HTTP. Each code and message is reported once per run, however many
   * requests meet the same situation. Never put a secret in the message.
   *
   * @param code - A stable `MG_WARN_*` code.
   * @param message - One line for a human.
   */
  warn(code: string, message: string): void {
    const key = `${code}\n${message}`;
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.onWarning?.({ code, message });
  }

  /**
   * Where plugins log their decisions (redirects, fallbacks, pool reuse, TLS and host-key checks),
   * with the download's id already in every line. Silent unless the engine was given a logger.
   * Build costly fields lazily: `job.log.debug('redirect', () => ({ to: redactUrl(next) }))`.
   */
  get log(): Log {
    return this.options.log ?? Log.silent;
  }

  /** Total size when known. */
  get size(): number | undefined {
    return this.remote?.size;
  }

  /** Bytes on disk. */
  get bytesDone(): number {
    let done = 0;
    for (const s of this.segments) done += s.pos - s.start;
    return done;
  }
}
