import type { ExistingFilePolicy } from '../types.js';

/** Where a managed download stands. */
export type EntryState =
  | 'queued'
  | 'probing'
  | 'downloading'
  | 'verifying'
  | 'paused'
  | 'completed'
  | 'failed'
  | 'canceled';

/** What a front-end may ask for when adding a download. Everything here is serialisable. */
export interface AddOptions {
  /** Exact path of the file. */
  output?: string;
  /** Directory for a file named after the remote one. Default: the manager's `dir`. */
  dir?: string;
  connections?: number;
  /** `sha256=HEX` (sha512, sha1, md5 too). */
  checksum?: string;
  /**
   * Extra request headers. Headers that carry secrets (Authorization, Cookie, Proxy-Authorization)
   * are kept in memory only, never written to the state directory.
   */
  headers?: Record<string, string>;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** Bytes per second for this download. */
  rateLimit?: number;
  existing?: ExistingFilePolicy;
  /** Failures in a row without progress before the download fails. Default: the manager's setting. */
  retries?: number;
  /** Milliseconds without data before a connection counts as stalled. */
  stallTimeoutMs?: number;
  /** Milliseconds to open a connection. */
  connectTimeoutMs?: number;
  /** Bytes below which a segment is never split. */
  minSplitSize?: number;
  /** Credentials, kept in memory only. */
  credentials?: { username: string; password: string } | { bearer: string };
}

/** A snapshot of one managed download, as front-ends see it. */
export interface EntrySnapshot {
  id: string;
  /** The URL without credentials. */
  url: string;
  /** The target file, once known. */
  file: string | undefined;
  state: EntryState;
  priority: number;
  bytes: number;
  total: number | undefined;
  /** Bytes per second. */
  speed: number;
  /** Seconds left, when it can be told. */
  eta: number | undefined;
  connections: number;
  error: { code: string; message: string } | undefined;
  addedAt: string;
  rateLimit: number | undefined;
  /**
   * Restored after a restart without the credentials (or secret headers) it was added with, which
   * are never written to disk: it stays paused until `resume(id, secrets)` gives them again.
   */
  awaitingCredentials: boolean;
}

/** A finished or failed download, kept in the history. */
export interface HistoryEntry {
  id: string;
  url: string;
  file: string | undefined;
  size: number | undefined;
  digest: { algorithm: string; hex: string } | undefined;
  state: 'completed' | 'failed' | 'canceled';
  errorCode: string | undefined;
  errorMessage: string | undefined;
  durationMs: number;
  /** Bytes per second over the whole download. */
  averageSpeed: number;
  finishedAt: string;
}

/** Settings a front-end can read and change at run time. */
export interface ManagerSettings {
  /** Downloads transferring at once; the rest wait in the queue. */
  maxConcurrent: number;
  /** Connections per download. */
  connections: number;
  /** Connections to one host across all downloads. */
  maxConnectionsPerHost: number;
  /** Connections in total across all downloads. */
  maxConnections: number;
  /** Global rate limit in bytes per second, or undefined for none. */
  rateLimit: number | undefined;
  retries: number;
  /** Default directory for downloads. */
  dir: string;
}
