import type { PieceHashes } from '../mirrors/metalink.js';
import type { ExistingFilePolicy } from '../types.js';

/**
 * What a front-end may ask for when adding a download: the one shape download options have from a
 * front-end (CLI flags, service params) through the manager to the engine. Everything here is
 * serialisable. Numeric fields follow `OPTION_LIMITS`; `normalizeOptions` checks them.
 */
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
  /** Bytes below which a segment is not split, except a slow connection's tail at the end (see the core README). */
  minSplitSize?: number;
  /**
   * Do not satisfy this download from the manager's content store (a copy of a file it downloaded
   * before), and do not record the finished file there. Default false.
   */
  noCache?: boolean;
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
