import type { DownloadError } from './errors.js';

/** Hash algorithms Multiget verifies. */
export type DigestAlgorithm = 'sha512' | 'sha256' | 'sha1' | 'md5';

/** An expected digest of the whole file. */
export interface Digest {
  /** The hash function. */
  algorithm: DigestAlgorithm;
  /** Lower-case hex. */
  hex: string;
  /**
   * Who vouched for it: the caller (`--checksum`), the server (Repr-Digest, Digest, Content-MD5), or
   * a checksum file found beside the URL (`checksum: 'auto'`; `url` says which).
   */
  source: 'user' | 'server' | 'file';
  /** For `source: 'file'`: the URL of the checksum file, without credentials. */
  url?: string;
}

/** Where the digest a file was verified against came from (see {@link DownloadResult.checksum}). */
export interface ChecksumOrigin {
  /** The hash function. */
  algorithm: DigestAlgorithm;
  /**
   * The URL of the checksum file it was read from (without credentials), or `'user'` (the
   * `checksum` option) or `'server'` (a digest header).
   */
  source: string;
}

/**
 * What identifies one version of a remote file. On resume, the saved validators are compared with
 * the server's: any difference means the partial data belongs to another version.
 */
export interface Validators {
  /** HTTP entity tag, exactly as sent (quotes and `W/` included). */
  etag?: string;
  /** HTTP Last-Modified, exactly as sent. */
  lastModified?: string;
  /** Modification time in milliseconds since the epoch (FTP MDTM, SFTP stat). */
  mtime?: number;
  /** Size in bytes. */
  size?: number;
}

/** What a probe learned about the remote file. */
export interface RemoteInfo {
  /** The URL every connection uses: the final one after redirects. */
  url: URL;
  /** Size in bytes, or undefined when the server does not say (chunked, no SIZE). */
  size: number | undefined;
  /** True when the server was seen to honour byte ranges correctly. */
  ranges: boolean;
  /** What identifies this version of the file; saved with partial data and compared on resume. */
  validators: Validators;
  /** A file name suggested by the server or the URL (not yet sanitised). */
  fileName?: string;
  /** Digests announced by the server. */
  digests: Digest[];
  /** The media type the server announced (HTTP Content-Type), as sent. */
  contentType?: string;
  /**
   * Other URLs of the same file the server named (RFC 6249 `Link: <…>; rel=duplicate`), most
   * preferred first. MirrorPlugin reads from them only when a digest can check the result.
   */
  duplicates?: URL[];
  /**
   * A stream already open at offset 0 (the probe's own response), which the engine adopts for the
   * first segment or cancels. Saves a round trip per download.
   */
  initialSource?: ByteSource;
}

/** A request for the bytes [start, end] of the remote file. */
export interface RangeRequest {
  /** First byte offset. */
  start: number;
  /** Last byte offset, inclusive; undefined means "to the end of the file". */
  end: number | undefined;
  /** The validators the bytes must match; a driver that sees another version throws REMOTE_CHANGED. */
  validators: Validators;
  /** Expected total size, when known; a driver that sees another size throws REMOTE_CHANGED. */
  size: number | undefined;
  /** Aborted when the engine no longer wants the bytes (pause, split, stall, cancel). */
  signal: AbortSignal;
}

/** A stream of remote bytes starting at `start`. */
export interface ByteSource {
  /** Offset of the first byte the body yields. */
  start: number;
  /** Inclusive offset of the last byte, or undefined when the length is unknown. */
  end: number | undefined;
  /** The bytes. Breaking out of iteration releases the connection. */
  body: AsyncIterable<Uint8Array>;
  /** Releases the underlying connection without reading the rest. Safe to call more than once. */
  cancel(reason?: unknown): void;
  /**
   * Told of chunks whose bytes the engine has written, or dropped (the part of a chunk past the end
   * of a segment that was split), and that it holds no more, when the storage copies them (a file;
   * see `ByteSink.copiesChunks`). A source whose chunks are socket reads of its
   * own can free their memory now with `releaseBuffer`, instead of leaving dead buffers to the
   * garbage collector, which lets tens of MiB pile up between collections. Only the source knows
   * whether anything below it (a parser that paused mid-read) still refers to a chunk's buffer.
   */
  written?(chunks: readonly Uint8Array[]): void;
  /**
   * Bytes the engine gathers at most before one write, when that is less than it would gather
   * anyway (up to 1 MiB per connection, for 20 ms at most). For a source whose chunks are views of
   * buffers it shares with other sources (the SFTP driver: the replies of several transfers
   * interleaved in one 1 MiB slab), every chunk held back keeps a whole buffer alive: the less a
   * writer gathers, the fewer buffers the process holds.
   */
  readonly gatherBytes?: number;
}

/** A contiguous run of the file owned by at most one connection at a time. */
export interface Segment {
  /** Unique within a download. */
  readonly id: number;
  /** First byte offset. */
  readonly start: number;
  /** Exclusive end offset; `Infinity` while the size is unknown. Shrinks when the segment is split. */
  end: number;
  /** Next offset to write: bytes [start, pos) are on disk. */
  pos: number;
}

/** Why the engine asks the `refreshUrl` hook for a fresh URL. */
export interface UrlRefreshContext {
  /**
   * `start`: a run is about to make its first request (a plugin may sign the URL now);
   * `expired`: the server refused the link mid-download (401/403/410, in `error`).
   */
  reason: 'start' | 'expired';
  /** The refusal, when `reason` is `expired`. */
  error?: DownloadError;
}

/** Where a failure happened, for the retry policy. */
export interface FailureContext {
  /** `probe`: learning about the file failed; `range`: fetching a segment failed. */
  phase: 'probe' | 'range';
  /** The segment being fetched, in the `range` phase. */
  segment?: Segment;
  /** How many times this operation has failed in a row without progress, this one included. */
  attempt: number;
  /** Other connections of this download still transferring. */
  activeConnections: number;
  /** True when this connection received bytes since its previous failure (a drop, not a refusal). */
  progressed?: boolean;
  /**
   * In the `range` phase: this connection stopped reading a response that was still running (its
   * segment ended first, as with the probe's open stream, or was split) less than a second ago. A
   * server that counts its connections may still count that one: a refusal now can be its own.
   */
  afterAbandoned?: boolean;
  /**
   * In the `probe` phase: whether this host (and port) ever answered a probe of this engine. False
   * means nothing there has answered yet, e.g. a wrong port or host name on the first try.
   */
  hostAnsweredBefore?: boolean;
}

/** What the retry policy decided. */
export type RetryDecision =
  | {
      /** Try the same operation again after `delayMs`. */
      action: 'retry';
      /** Milliseconds to wait first (backoff, or the server's Retry-After). */
      delayMs: number;
    }
  | {
      /** Give the segment back to the pool and close this connection (the server wants fewer). */
      action: 'retire';
    }
  | {
      /** Fail the download with the error. */
      action: 'fail';
    };

/** A download's lifecycle. */
export type DownloadState =
  | 'pending'
  | 'probing'
  | 'downloading'
  | 'verifying'
  | 'paused'
  | 'completed'
  | 'failed'
  | 'canceled';

/** A progress snapshot. */
export interface Progress {
  /** Bytes on disk, resumed bytes included. */
  bytesDone: number;
  /** Total size, when known. */
  total: number | undefined;
  /** Bytes per second, smoothed over the last few seconds. */
  speed: number;
  /** Seconds left at the current speed, when it can be told. */
  eta: number | undefined;
  /** Connections transferring right now. */
  connections: number;
}

/** The outcome of a finished download. */
export interface DownloadResult {
  /** Absolute path of the file. */
  file: string;
  /** Size of the file in bytes. */
  size: number;
  /** The final URL (after redirects), without credentials. */
  url: string;
  /** The digest the file was verified against, if any. */
  digest?: Digest;
  /** True when a digest was checked and matched. */
  verified: boolean;
  /** Where the digest the file was verified against came from; absent when it was not verified. */
  checksum?: ChecksumOrigin;
  /** True when partial data of an earlier run was reused. */
  resumed: boolean;
  /** How many times the download started over because the remote file changed. */
  restarts: number;
  /** Wall time of this run, from its start to the file in place, in milliseconds. */
  durationMs: number;
  /**
   * Set when the manager satisfied the download from its content store instead of the network: the
   * stored file that was copied (the copy was checked against the recorded digest).
   */
  fromCache?: {
    /** Absolute path of the stored file that was copied. */
    path: string;
  };
}

/** Events a {@link Download} emits. */
export interface DownloadEvents {
  /** The lifecycle state changed. */
  state: [state: DownloadState];
  /** The remote was probed and the target chosen. */
  start: [
    info: {
      /** Absolute path the file will have once complete. */
      file: string;
      /** Size in bytes, or undefined when the server does not say. */
      size: number | undefined;
      /** Whether the download is segmented (the server honours ranges). */
      ranges: boolean;
      /** Bytes reused from an earlier run (0 for a fresh download). */
      resumedBytes: number;
      /** The final URL, without credentials. */
      url: string;
    },
  ];
  /** A progress snapshot, every `progressIntervalMs` of the engine (default 250 ms) while running. */
  progress: [progress: Progress];
  /** A segment or probe failed and will be retried. */
  retry: [
    info: {
      /** The failure being retried. */
      error: DownloadError;
      /** Failures in a row without progress, this one included (1-based). */
      attempt: number;
      /** Milliseconds until the retry. */
      delayMs: number;
    },
  ];
  /** The download starts over because the remote file is not the one partial data came from. */
  restart: [
    info: {
      /** Why, for the user (which validator differed). */
      reason: string;
    },
  ];
  /** Something worth telling the user that is not a failure. */
  warning: [
    info: {
      /** A stable code for the kind of warning (`MG_WARN_*`). */
      code: string;
      /** The text for the user. */
      message: string;
    },
  ];
  /** A connection asks for a range (a fresh request, or a retry of one). */
  rangeStart: [info: RangeStartInfo];
  /** A connection's request ended; `bytes` is what it wrote. Every `rangeStart` gets one. */
  rangeEnd: [info: RangeEndInfo];
  /** A connection's range was cut at `at`: [at, end) is free for another connection. */
  split: [info: SplitInfo];
  /** The state file now claims `bytesDone` bytes (all of them durable on disk). */
  checkpoint: [
    info: {
      /** Bytes the state file claims. */
      bytesDone: number;
    },
  ];
  /** The transfer decided a number of connections (at its start, on a policy change, after a refusal). */
  connections: [info: ConnectionsInfo];
  /** The file is complete, verified when a digest was known, and in place. */
  done: [result: DownloadResult];
  /** The download failed; partial data is kept unless it was canceled. */
  failed: [error: DownloadError];
}

/** A connection's request for a range (the `rangeStart` event). */
export interface RangeStartInfo {
  /** The connection's id within this run of the download (0, 1, ...). */
  connection: number;
  /** First byte offset asked for. */
  start: number;
  /** Exclusive end offset; undefined means to the end of the file. */
  end?: number;
  /** Failures of this connection in a row before this request (0 for a first try). */
  attempt: number;
  /** The host (and port) the request goes to. */
  host: string;
}

/** How a connection's request ended (the `rangeEnd` event). */
export interface RangeEndInfo {
  /** The connection's id, as in its `rangeStart`. */
  connection: number;
  /** First byte offset the request asked for. */
  start: number;
  /** Bytes this request wrote. */
  bytes: number;
  /**
   * `done`: the range is complete; `split`: it ended early because the rest of its range was given
   * to another connection; `failed`: an error (in `error`); `aborted`: the transfer stopped (pause,
   * cancel, another connection's fatal error) or the connection was retired.
   */
  outcome: 'done' | 'split' | 'failed' | 'aborted';
  /** The failure, when `outcome` is `failed`. */
  error?: DownloadError;
}

/** A connection's range was cut in two (the `split` event). */
export interface SplitInfo {
  /** The connection whose range was cut; it keeps [its position, at). */
  connection: number;
  /** Where the range was cut. */
  at: number;
  /** The end (exclusive) of the new free range [at, end). */
  end: number;
}

/** A connection-count decision (the `connections` event). */
export interface ConnectionsInfo {
  /** Connections open now. */
  active: number;
  /** Connections the policy wants. */
  target: number;
  /** The most the options and the plan allow. */
  ceiling: number;
  /** Why: `initial`, `policy` (the policy changed its target) or `refused` (the server refused one). */
  reason: string;
}

/** What to do when the target file already exists. */
export type ExistingFilePolicy = 'fail' | 'rename' | 'overwrite';

/** Credentials for a download; protocol plugins decide how to send them. */
export type Credentials =
  | {
      /** User name (HTTP Basic, FTP USER, SSH user). */
      username: string;
      /** Password; kept in memory only, never logged or saved. */
      password: string;
    }
  | {
      /** A bearer token (HTTP `Authorization: Bearer`); kept in memory only. */
      bearer: string;
    };

/** One segment in a {@link SegmentMap}. */
export interface SegmentMapEntry {
  /** First byte offset of the segment. */
  start: number;
  /** Exclusive end offset (for a stream of unknown length: `pos`, what is known so far). */
  end: number;
  /** Bytes [start, pos) are on disk. */
  pos: number;
  /** The connection fetching it right now, if any. */
  connection?: number;
}

/** Where the bytes of a download are (`Download.segmentMap()`): a snapshot for drawing what is done, in flight and left. */
export interface SegmentMap {
  /** Size of the file in bytes, when known. */
  size?: number;
  /** The segments, sorted by `start`; empty before the transfer starts. */
  segments: SegmentMapEntry[];
}
