import { ErrorCodes, type ErrorCode } from '@multiget/core';

/**
 * The exit codes of `multiget`. Stable: scripts match on them, so a number is never reused for
 * another meaning. New error codes of the core map onto one of these, never onto a new number
 * without a note in the README.
 */
export const ExitCode = {
  /** Every download completed (and verified, when a digest was known). */
  SUCCESS: 0,
  /** A bug, or an error code this version does not know. */
  INTERNAL: 1,
  /** Bad command line, URL, option value or checksum syntax; unsupported URL scheme; no such download. */
  USAGE: 2,
  /** The network failed: connect, reset, timeout, stall, short body. */
  NETWORK: 3,
  /** The server answered with an error or broke its protocol (HTTP status, ranges, redirects). */
  REMOTE: 4,
  /** The downloaded bytes do not match the expected digest. */
  CHECKSUM: 5,
  /** The remote file kept changing while it was being downloaded. */
  REMOTE_CHANGED: 6,
  /** The target file (named with -o or out=) exists and --overwrite was not given. */
  FILE_EXISTS: 7,
  /** The local file system failed: not writable, no space, unsafe path, I/O error, state locked by another process. */
  FILE_SYSTEM: 8,
  /** TLS failed, or an SSH host key is unknown or changed. */
  TLS: 9,
  /** Interrupted by SIGINT (Ctrl-C); partial data was kept for a resume. */
  SIGINT: 130,
  /** Interrupted by SIGTERM; partial data was kept for a resume. */
  SIGTERM: 143,
} as const;

/** One of the {@link ExitCode} values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

const BY_ERROR_CODE: ReadonlyMap<string, ExitCode> = new Map<ErrorCode, ExitCode>([
  [ErrorCodes.INVALID_URL, ExitCode.USAGE],
  [ErrorCodes.UNSUPPORTED_PROTOCOL, ExitCode.USAGE],
  [ErrorCodes.INVALID_OPTION, ExitCode.USAGE],
  [ErrorCodes.INVALID_CHECKSUM, ExitCode.USAGE],
  [ErrorCodes.INVALID_METALINK, ExitCode.USAGE],
  [ErrorCodes.UNKNOWN_DOWNLOAD, ExitCode.USAGE],
  [ErrorCodes.INVALID_STATE, ExitCode.USAGE],
  [ErrorCodes.CONNECT, ExitCode.NETWORK],
  [ErrorCodes.PROXY, ExitCode.NETWORK],
  [ErrorCodes.CONNECT_TIMEOUT, ExitCode.NETWORK],
  [ErrorCodes.CONNECTION_RESET, ExitCode.NETWORK],
  [ErrorCodes.TIMEOUT, ExitCode.NETWORK],
  [ErrorCodes.STALLED, ExitCode.NETWORK],
  [ErrorCodes.SHORT_BODY, ExitCode.NETWORK],
  [ErrorCodes.MIRROR_FAILED, ExitCode.NETWORK],
  [ErrorCodes.HTTP_STATUS, ExitCode.REMOTE],
  [ErrorCodes.NOT_FOUND, ExitCode.REMOTE],
  [ErrorCodes.AUTH, ExitCode.REMOTE],
  [ErrorCodes.PROXY_AUTH, ExitCode.REMOTE],
  [ErrorCodes.FORBIDDEN, ExitCode.REMOTE],
  [ErrorCodes.LINK_EXPIRED, ExitCode.REMOTE],
  [ErrorCodes.SERVER_BUSY, ExitCode.REMOTE],
  [ErrorCodes.SERVER, ExitCode.REMOTE],
  [ErrorCodes.RANGE_IGNORED, ExitCode.REMOTE],
  [ErrorCodes.RANGE_NOT_SATISFIABLE, ExitCode.REMOTE],
  [ErrorCodes.BAD_CONTENT_RANGE, ExitCode.REMOTE],
  [ErrorCodes.ENCODED_RANGE, ExitCode.REMOTE],
  [ErrorCodes.TOO_MANY_REDIRECTS, ExitCode.REMOTE],
  [ErrorCodes.BAD_REDIRECT, ExitCode.REMOTE],
  [ErrorCodes.PROTOCOL, ExitCode.REMOTE],
  [ErrorCodes.CHECKSUM_MISMATCH, ExitCode.CHECKSUM],
  [ErrorCodes.REMOTE_CHANGED, ExitCode.REMOTE_CHANGED],
  [ErrorCodes.FILE_EXISTS, ExitCode.FILE_EXISTS],
  [ErrorCodes.NOT_WRITABLE, ExitCode.FILE_SYSTEM],
  [ErrorCodes.NO_SPACE, ExitCode.FILE_SYSTEM],
  [ErrorCodes.UNSAFE_PATH, ExitCode.FILE_SYSTEM],
  [ErrorCodes.IO, ExitCode.FILE_SYSTEM],
  [ErrorCodes.STATE_LOCKED, ExitCode.FILE_SYSTEM],
  [ErrorCodes.TLS, ExitCode.TLS],
  [ErrorCodes.HOST_KEY_UNKNOWN, ExitCode.TLS],
  [ErrorCodes.HOST_KEY_CHANGED, ExitCode.TLS],
]);

/**
 * The exit code for a failure with this `MG_ERR_*` code. Unknown codes (a newer core, a third-party
 * plugin), MG_ERR_INTERNAL and MG_ERR_ABORTED give 1: an abort by signal is decided by the caller.
 */
export function exitCodeForError(code: string): ExitCode {
  return BY_ERROR_CODE.get(code) ?? ExitCode.INTERNAL;
}

/** The table printed by `--help` and kept in the README, in numeric order. */
export const EXIT_CODE_TABLE: ReadonlyArray<readonly [ExitCode, string]> = [
  [ExitCode.SUCCESS, 'success'],
  [ExitCode.INTERNAL, 'internal or unknown error'],
  [ExitCode.USAGE, 'usage: bad option, URL, checksum or Metalink; unsupported URL scheme'],
  [ExitCode.NETWORK, 'network: connect, reset, timeout, stall, short body'],
  [ExitCode.REMOTE, 'remote error: HTTP status, not found, auth, ranges, redirects, protocol'],
  [ExitCode.CHECKSUM, 'checksum mismatch'],
  [ExitCode.REMOTE_CHANGED, 'the remote file changed during the download'],
  [ExitCode.FILE_EXISTS, 'the target file exists and --overwrite was not given'],
  [ExitCode.FILE_SYSTEM, 'local file system: not writable, no space, unsafe path, I/O, state locked'],
  [ExitCode.TLS, 'TLS failure, unknown or changed host key'],
  [ExitCode.SIGINT, 'interrupted by SIGINT; run the same command again to resume'],
  [ExitCode.SIGTERM, 'interrupted by SIGTERM; run the same command again to resume'],
];
