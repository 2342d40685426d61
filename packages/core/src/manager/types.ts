import type { PieceHashes } from '../mirrors/metalink.js';
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

/**
 * Why a download is paused, when not by the user: `linkExpired` — its server started refusing the
 * link (HTTP 401/403/410) mid-download, or the engine said MG_ERR_LINK_EXPIRED; its bytes are kept
 * and `Manager.updateUrl` gives it a new link.
 */
export type PauseReason = 'linkExpired';

/** What a front-end may ask for when adding a download. Everything here is serialisable. */
export interface AddOptions {
  /** Exact path of the file. */
  output?: string;
  /** Directory for a file named after the remote one. Default: the manager's `dir`. */
  dir?: string;
  /** Connections for this download. Default: the manager's `connections` setting. */
  connections?: number;
  /**
   * `sha256=HEX` (sha512, sha1, md5 too), or `auto`: verify against a checksum file found beside
   * the URL (`NAME.sha256`, `SHA256SUMS`, ...; see `DownloadOptions.checksum`).
   */
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
  /** What to do when the target exists. Default: `'fail'` with `output`, `'rename'` otherwise. */
  existing?: ExistingFilePolicy;
  /** Failures in a row without progress before the download fails. Default: the manager's setting. */
  retries?: number;
  /** Milliseconds without data before a connection counts as stalled. */
  stallTimeoutMs?: number;
  /** Milliseconds to open a connection. */
  connectTimeoutMs?: number;
  /** Bytes below which a segment is never split. */
  minSplitSize?: number;
  /**
   * Other URLs of the same file, read from at the same time (see MirrorPlugin); at most 64. Their
   * userinfo is kept in memory only, like credentials.
   */
  mirrors?: string[];
  /** Expected piece hashes (from a Metalink), checked as the bytes arrive. */
  pieces?: PieceHashes;
  /** Credentials, kept in memory only. */
  credentials?:
    | {
        /** User name. */
        username: string;
        /** Password. */
        password: string;
      }
    | {
        /** A bearer token (HTTP `Authorization: Bearer`). */
        bearer: string;
      };
}

/** A snapshot of one managed download, as front-ends see it. */
export interface EntrySnapshot {
  /** The download's id (a UUID), stable across restarts of the manager. */
  id: string;
  /** The URL without credentials. */
  url: string;
  /** The target file, once known. */
  file: string | undefined;
  /** Where the download stands. */
  state: EntryState;
  /** Higher runs first. */
  priority: number;
  /** Bytes on disk so far, resumed bytes included. */
  bytes: number;
  /** Size in bytes, when known. */
  total: number | undefined;
  /** Bytes per second. */
  speed: number;
  /** Seconds left, when it can be told. */
  eta: number | undefined;
  /** Connections transferring right now. */
  connections: number;
  /** Why the download is paused, when the manager paused it (state `paused`); otherwise undefined. */
  reason: PauseReason | undefined;
  /** Why the download failed, while it is `failed`; what expired its link, while paused with `linkExpired`. */
  error:
    | {
        /** The `MG_ERR_*` code. */
        code: string;
        /** The text for the user. */
        message: string;
      }
    | undefined;
  /** When the download was added, as an ISO 8601 UTC timestamp. */
  addedAt: string;
  /** This download's own limit in bytes per second, or undefined for none (the global one applies). */
  rateLimit: number | undefined;
  /**
   * Restored after a restart without the credentials (or secret headers) it was added with, which
   * are never written to disk: it stays paused until `resume(id, secrets)` gives them again.
   */
  awaitingCredentials: boolean;
}

/** A finished or failed download, kept in the history. */
export interface HistoryEntry {
  /** The download's id, as it had in the queue. */
  id: string;
  /** The URL without credentials. */
  url: string;
  /** The file, when one was chosen. */
  file: string | undefined;
  /** Size in bytes, when known. */
  size: number | undefined;
  /** The digest the file was verified against, if any. */
  digest:
    | {
        /** The hash function (`sha256`, ...). */
        algorithm: string;
        /** Lower-case hex. */
        hex: string;
      }
    | undefined;
  /** How it ended. */
  state: 'completed' | 'failed' | 'canceled';
  /** The `MG_ERR_*` code, when it failed. */
  errorCode: string | undefined;
  /** The failure's message, when it failed. */
  errorMessage: string | undefined;
  /** Wall time of the last run, in milliseconds. */
  durationMs: number;
  /** Bytes per second over the whole download. */
  averageSpeed: number;
  /** When it ended, as an ISO 8601 UTC timestamp. */
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
  /** Failures in a row without progress before a download fails. */
  retries: number;
  /** Default directory for downloads. */
  dir: string;
}
