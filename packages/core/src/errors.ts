/**
 * Every failure Multiget reports is a {@link DownloadError} with a stable string `code`.
 * Match on `code`, not on `instanceof`: two copies of this library can coexist in one process.
 */

import { printable } from './util/printable.js';

/** Stable error codes. Never renamed once released; new ones may be added. */
export const ErrorCodes = {
  /** The URL cannot be parsed. */
  INVALID_URL: 'MG_ERR_INVALID_URL',
  /** No protocol plugin serves the URL's scheme. */
  UNSUPPORTED_PROTOCOL: 'MG_ERR_UNSUPPORTED_PROTOCOL',
  /** An option has a bad value (message says which). */
  INVALID_OPTION: 'MG_ERR_INVALID_OPTION',
  /** A checksum option is malformed (`algo=hex`). */
  INVALID_CHECKSUM: 'MG_ERR_INVALID_CHECKSUM',
  /** A Metalink document is malformed, not Metalink 4, or names a file unsafely. */
  INVALID_METALINK: 'MG_ERR_INVALID_METALINK',
  /** The connection could not be opened (refused, unreachable, DNS). */
  CONNECT: 'MG_ERR_CONNECT',
  /** Opening the connection took longer than the connect timeout. */
  CONNECT_TIMEOUT: 'MG_ERR_CONNECT_TIMEOUT',
  /** The peer closed or reset the connection mid-transfer. */
  CONNECTION_RESET: 'MG_ERR_CONNECTION_RESET',
  /** The server did not answer in time (headers, control replies). */
  TIMEOUT: 'MG_ERR_TIMEOUT',
  /** No bytes arrived for the stall timeout while a body was being read. */
  STALLED: 'MG_ERR_STALLED',
  /** The body ended before the announced length. */
  SHORT_BODY: 'MG_ERR_SHORT_BODY',
  /** TLS failed: bad certificate, hostname mismatch, handshake error. */
  TLS: 'MG_ERR_TLS',
  /** An HTTP status without a more specific code (see `statusCode`). */
  HTTP_STATUS: 'MG_ERR_HTTP_STATUS',
  /** The remote file does not exist (HTTP 404/410, FTP 550, SFTP no such file). */
  NOT_FOUND: 'MG_ERR_NOT_FOUND',
  /** Credentials are missing or wrong (HTTP 401/407, FTP 530, SSH auth). */
  AUTH: 'MG_ERR_AUTH',
  /** Access is denied (HTTP 403, permission denied). */
  FORBIDDEN: 'MG_ERR_FORBIDDEN',
  /** The server is overloaded or rate limits us (HTTP 503/429, FTP 421). Retryable. */
  SERVER_BUSY: 'MG_ERR_SERVER_BUSY',
  /** A server-side failure (HTTP 5xx other than 503). Retryable. */
  SERVER: 'MG_ERR_SERVER',
  /** The server did not honour a range request: it answered with the whole file, or refused (416) a range inside it. */
  RANGE_IGNORED: 'MG_ERR_RANGE_IGNORED',
  /** A 206 whose Content-Range is not the range that was asked for. */
  BAD_CONTENT_RANGE: 'MG_ERR_BAD_CONTENT_RANGE',
  /** HTTP 416: the requested range is outside the file. */
  RANGE_NOT_SATISFIABLE: 'MG_ERR_RANGE_NOT_SATISFIABLE',
  /** A ranged response came with a Content-Encoding, so offsets would be wrong. */
  ENCODED_RANGE: 'MG_ERR_ENCODED_RANGE',
  /** More redirects than allowed. */
  TOO_MANY_REDIRECTS: 'MG_ERR_TOO_MANY_REDIRECTS',
  /** A redirect without a usable Location, or to a scheme other than http/https. */
  BAD_REDIRECT: 'MG_ERR_BAD_REDIRECT',
  /** The server broke its protocol in a way no other code describes. */
  PROTOCOL: 'MG_ERR_PROTOCOL',
  /**
   * A mirror failed or served other bytes than the download's other sources (size, piece hash,
   * sample); it is dropped and its range goes to another source. Retryable.
   */
  MIRROR_FAILED: 'MG_ERR_MIRROR_FAILED',
  /** The remote file changed (validators differ) and could not be downloaded consistently. */
  REMOTE_CHANGED: 'MG_ERR_REMOTE_CHANGED',
  /**
   * The server refused the link mid-download (HTTP 401, 403 or 410: a signed URL or a token that
   * expired) and no plugin gave a fresh one (`refreshUrl`). Not retryable with the same link: the
   * partial data and its state are kept, and the same download with a fresh link resumes.
   */
  LINK_EXPIRED: 'MG_ERR_LINK_EXPIRED',
  /** The downloaded bytes do not match the expected digest. */
  CHECKSUM_MISMATCH: 'MG_ERR_CHECKSUM_MISMATCH',
  /** The target file exists and overwriting was not asked for. */
  FILE_EXISTS: 'MG_ERR_FILE_EXISTS',
  /** The target directory cannot be written. */
  NOT_WRITABLE: 'MG_ERR_NOT_WRITABLE',
  /** Not enough free space for the file. */
  NO_SPACE: 'MG_ERR_NO_SPACE',
  /** A symlink (or other non-regular file) stands where Multiget would write. */
  UNSAFE_PATH: 'MG_ERR_UNSAFE_PATH',
  /** A local file-system operation failed (see `errno`). */
  IO: 'MG_ERR_IO',
  /** The download was aborted by its signal, `pause()` or `cancel()`. */
  ABORTED: 'MG_ERR_ABORTED',
  /** The server's host key is not known (SFTP). */
  HOST_KEY_UNKNOWN: 'MG_ERR_HOST_KEY_UNKNOWN',
  /** The server's host key differs from the known one (SFTP). */
  HOST_KEY_CHANGED: 'MG_ERR_HOST_KEY_CHANGED',
  /** Another process manages the same state directory. */
  STATE_LOCKED: 'MG_ERR_STATE_LOCKED',
  /** No download with that id. */
  UNKNOWN_DOWNLOAD: 'MG_ERR_UNKNOWN_DOWNLOAD',
  /** The operation does not apply in the download's current state (e.g. retry a running one). */
  INVALID_STATE: 'MG_ERR_INVALID_STATE',
  /** The proxy refused to open the tunnel, or broke its protocol (see the message; `statusCode` for HTTP proxies). */
  PROXY: 'MG_ERR_PROXY',
  /** The proxy wants credentials, or refused the ones in the proxy URL (HTTP 407, SOCKS5 authentication). */
  PROXY_AUTH: 'MG_ERR_PROXY_AUTH',
  /** A bug in Multiget or a plugin. */
  INTERNAL: 'MG_ERR_INTERNAL',
} as const;

/** One of the {@link ErrorCodes} values. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.CONNECT,
  ErrorCodes.CONNECT_TIMEOUT,
  ErrorCodes.CONNECTION_RESET,
  ErrorCodes.TIMEOUT,
  ErrorCodes.STALLED,
  ErrorCodes.SHORT_BODY,
  ErrorCodes.SERVER_BUSY,
  ErrorCodes.SERVER,
  ErrorCodes.MIRROR_FAILED,
]);

/** Whether a failure with this code may succeed when tried again. */
export function isRetryableCode(code: string): boolean {
  return RETRYABLE.has(code as ErrorCode);
}

/** Protocol details and links carried by a {@link DownloadError}. */
export interface DownloadErrorDetails {
  /** The underlying error (a socket error, a protocol library's error), kept as the Error's `cause`. */
  cause?: unknown;
  /** HTTP status code of the response that failed. */
  statusCode?: number;
  /** FTP reply code. */
  ftpCode?: number;
  /** SFTP status code. */
  sftpCode?: number;
  /** Node.js system error code (`ECONNRESET`, `ENOSPC`, ...). */
  errno?: string;
  /** Delay the server asked for (Retry-After), in milliseconds. */
  retryAfterMs?: number;
  /** The URL the failure happened on, without credentials. */
  url?: string;
}

/**
 * The base of every Multiget error. Its message is made {@link printable}: control characters and
 * bidirectional marks in it (a server's reason phrase or reply quoted in it) show as escapes.
 */
export class DownloadError extends Error {
  /** The class name, for logs; match on `code` instead. */
  override name = 'DownloadError';
  /** The stable `MG_ERR_*` code: what callers and the retry policy decide on. */
  readonly code: ErrorCode;
  /** HTTP status code of the response that failed, when there was one. */
  readonly statusCode?: number;
  /** FTP reply code (e.g. 550), when the failure was an FTP reply. */
  readonly ftpCode?: number;
  /** SFTP status code (e.g. 2 for no such file), when the failure was an SFTP status. */
  readonly sftpCode?: number;
  /** Node.js system error code (`ECONNRESET`, `ENOSPC`, ...), when the failure came from the system. */
  readonly errno?: string;
  /** Delay the server asked for (Retry-After), in milliseconds; the retry policy waits at least this. */
  readonly retryAfterMs?: number;
  /** The URL the failure happened on, without credentials. */
  readonly url?: string;

  constructor(code: ErrorCode, message: string, details: DownloadErrorDetails = {}) {
    // The message is for a person's screen, and parts of it often come from a server.
    super(printable(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.statusCode !== undefined) this.statusCode = details.statusCode;
    if (details.ftpCode !== undefined) this.ftpCode = details.ftpCode;
    if (details.sftpCode !== undefined) this.sftpCode = details.sftpCode;
    if (details.errno !== undefined) this.errno = details.errno;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    if (details.url !== undefined) this.url = details.url;
  }

  /** True when trying again may help (decided from `code`). */
  get retryable(): boolean {
    return isRetryableCode(this.code);
  }

  /** A plain object for logs, JSON output and JSON-RPC error data. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    for (const key of ['statusCode', 'ftpCode', 'sftpCode', 'errno', 'retryAfterMs', 'url'] as const) {
      if (this[key] !== undefined) out[key] = this[key];
    }
    return out;
  }
}

/** Bad input from the caller: URL, options, checksum syntax. */
export class UsageError extends DownloadError {
  /** The class name, for logs. */
  override name = 'UsageError';
}
/** A connection-level failure: connect, reset, timeout, stall, short body, TLS. */
export class NetworkError extends DownloadError {
  /** The class name, for logs. */
  override name = 'NetworkError';
}
/** The server answered, but not with what we need (status codes, bad ranges, redirects). */
export class ProtocolError extends DownloadError {
  /** The class name, for logs. */
  override name = 'ProtocolError';
}
/** The remote file is not the one the partial data came from. */
export class RemoteChangedError extends DownloadError {
  /** The class name, for logs. */
  override name = 'RemoteChangedError';
  constructor(message: string, details: DownloadErrorDetails = {}) {
    super(ErrorCodes.REMOTE_CHANGED, message, details);
  }
}
/** The bytes on disk do not match the expected digest. */
export class ChecksumError extends DownloadError {
  /** The class name, for logs. */
  override name = 'ChecksumError';
  constructor(
    message: string,
    /** The digest algorithm checked (`sha256`, ...). */
    readonly algorithm: string,
    /** The expected digest, lower-case hex. */
    readonly expected: string,
    /** The digest of the bytes on disk, lower-case hex. */
    readonly actual: string,
  ) {
    super(ErrorCodes.CHECKSUM_MISMATCH, message);
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), algorithm: this.algorithm, expected: this.expected, actual: this.actual };
  }
}
/** A local file-system problem: exists, not writable, no space, unsafe path, I/O. */
export class FileSystemError extends DownloadError {
  /** The class name, for logs. */
  override name = 'FileSystemError';
}
/** The download was stopped on purpose. */
export class AbortError extends DownloadError {
  /** The class name, for logs. */
  override name = 'AbortError';
  constructor(message = 'The download was aborted', details: DownloadErrorDetails = {}) {
    super(ErrorCodes.ABORTED, message, details);
  }
}

/** Duck-typed check that works across copies of the library. */
export function isDownloadError(value: unknown): value is DownloadError {
  return (
    value instanceof Error &&
    typeof (value as { code?: unknown }).code === 'string' &&
    ((value as unknown as { code: string }).code).startsWith('MG_ERR_')
  );
}

/** The string `code` of a thrown value (Node.js system and library errors carry one), if any. */
export function errorCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

const TLS_CODE = /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL|HOSTNAME_MISMATCH)/;

/**
 * Walks `cause` links (bounded: causes can be cyclic) and returns the first TLS failure: an error
 * with a TLS/certificate code, or an OpenSSL error (those carry `library`). Undefined if none.
 */
export function tlsCauseOf(err: unknown): unknown {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    const code = errorCodeOf(current);
    if (code !== undefined && TLS_CODE.test(code)) return current;
    if (typeof (current as { library?: unknown }).library === 'string') return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Maps a Node.js system error from a socket to a {@link NetworkError}. */
export function networkErrorFromSystem(err: unknown, url?: string): DownloadError {
  if (isDownloadError(err)) return err;
  const errno = (err as { code?: unknown } | null)?.code;
  const code = typeof errno === 'string' ? errno : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const details: DownloadErrorDetails = { cause: err, ...(code ? { errno: code } : {}), ...(url ? { url } : {}) };
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return new NetworkError(ErrorCodes.CONNECT, `Cannot connect: ${message}`, details);
    case 'ETIMEDOUT':
      return new NetworkError(ErrorCodes.TIMEOUT, `Timed out: ${message}`, details);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return new NetworkError(ErrorCodes.CONNECTION_RESET, `Connection lost: ${message}`, details);
    default:
      if (code && TLS_CODE.test(code)) {
        return new NetworkError(ErrorCodes.TLS, `TLS failed: ${message}`, details);
      }
      return new NetworkError(ErrorCodes.CONNECTION_RESET, `Connection failed: ${message}`, details);
  }
}

/** Maps a local file-system error to a {@link FileSystemError}. */
export function fileSystemError(err: unknown, what: string): DownloadError {
  if (isDownloadError(err)) return err;
  const errno = (err as { code?: unknown } | null)?.code;
  const code = typeof errno === 'string' ? errno : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const details: DownloadErrorDetails = { cause: err, ...(code ? { errno: code } : {}) };
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new FileSystemError(ErrorCodes.NO_SPACE, `No space left to ${what}`, details);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'ENOENT':
    case 'ENOTDIR':
      return new FileSystemError(ErrorCodes.NOT_WRITABLE, `Cannot ${what}: ${message}`, details);
    case 'ELOOP':
      return new FileSystemError(ErrorCodes.UNSAFE_PATH, `Refusing to follow a symlink to ${what}`, details);
    case 'EEXIST':
      return new FileSystemError(ErrorCodes.FILE_EXISTS, `Cannot ${what}: the file exists`, details);
    default:
      return new FileSystemError(ErrorCodes.IO, `Cannot ${what}: ${message}`, details);
  }
}

/** Converts anything thrown into a DownloadError (an abort reason included). */
export function toDownloadError(err: unknown, signal?: AbortSignal): DownloadError {
  if (isDownloadError(err)) return err;
  if (signal?.aborted && isDownloadError(signal.reason)) return signal.reason;
  if (err instanceof Error && (err.name === 'AbortError' || (err as { code?: unknown }).code === 'ABORT_ERR')) {
    return new AbortError(undefined, { cause: err });
  }
  return new DownloadError(ErrorCodes.INTERNAL, err instanceof Error ? err.message : String(err), { cause: err });
}
