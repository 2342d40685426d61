import {
  AbortError,
  ErrorCodes,
  NetworkError,
  ProtocolError,
  isDownloadError,
  networkErrorFromSystem,
  type DownloadError,
} from '@multiget/core';

/** SFTP status codes (draft-ietf-secsh-filexfer-02, the version OpenSSH speaks). */
export const SftpStatus = {
  /** SSH_FX_OK: success. */
  OK: 0,
  /** SSH_FX_EOF: read past the end of the file. */
  EOF: 1,
  /** SSH_FX_NO_SUCH_FILE. */
  NO_SUCH_FILE: 2,
  /** SSH_FX_PERMISSION_DENIED. */
  PERMISSION_DENIED: 3,
  /** SSH_FX_FAILURE: a failure the server does not name. */
  FAILURE: 4,
  /** SSH_FX_BAD_MESSAGE: the server could not parse a request. */
  BAD_MESSAGE: 5,
  /** SSH_FX_NO_CONNECTION (client-side status). */
  NO_CONNECTION: 6,
  /** SSH_FX_CONNECTION_LOST (client-side status). */
  CONNECTION_LOST: 7,
  /** SSH_FX_OP_UNSUPPORTED: the server does not implement the request. */
  OP_UNSUPPORTED: 8,
} as const;

const STATUS_TEXT: Record<number, string> = {
  1: 'end of file',
  2: 'no such file',
  3: 'permission denied',
  4: 'failure',
  5: 'bad message',
  6: 'no connection',
  7: 'connection lost',
  8: 'operation unsupported',
};

/** The SFTP status code carried by an ssh2 SFTP error, if it is one. */
export function sftpStatusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 0xffff ? code : undefined;
}

/**
 * The DownloadError for an SFTP request the server answered with a status: 2 MG_ERR_NOT_FOUND,
 * 3 MG_ERR_FORBIDDEN, 6 and 7 MG_ERR_CONNECTION_RESET, 4 (a server-side failure, often transient
 * I/O) MG_ERR_SERVER, anything else MG_ERR_PROTOCOL. The status is kept in `sftpCode`.
 *
 * @param what - The operation, for the message (`open /data/file.iso`).
 * @param where - The URL without credentials.
 */
export function sftpStatusError(status: number, what: string, where: string): DownloadError {
  const text = STATUS_TEXT[status] ?? `status ${status}`;
  const message = `SFTP ${what} failed on ${where}: ${text} (SFTP status ${status})`;
  const details = { sftpCode: status, url: where };
  switch (status) {
    case SftpStatus.NO_SUCH_FILE:
      return new ProtocolError(ErrorCodes.NOT_FOUND, message, details);
    case SftpStatus.PERMISSION_DENIED:
      return new ProtocolError(ErrorCodes.FORBIDDEN, message, details);
    case SftpStatus.NO_CONNECTION:
    case SftpStatus.CONNECTION_LOST:
      return new NetworkError(ErrorCodes.CONNECTION_RESET, message, details);
    case SftpStatus.FAILURE:
      return new ProtocolError(ErrorCodes.SERVER, message, details);
    default:
      return new ProtocolError(ErrorCodes.PROTOCOL, message, details);
  }
}

/**
 * Maps what an SFTP request failed with: a status reply, the channel or connection going away
 * (`lost`, when known, is the connection's own error), or an abort.
 */
export function requestError(err: unknown, what: string, where: string, lost?: DownloadError, signal?: AbortSignal): DownloadError {
  if (signal?.aborted === true) return abortError(signal.reason, where);
  if (isDownloadError(err)) return err;
  const status = sftpStatusOf(err);
  if (status !== undefined) return sftpStatusError(status, what, where);
  if (lost !== undefined) return lost;
  const message = err instanceof Error ? err.message : String(err);
  return new NetworkError(ErrorCodes.CONNECTION_RESET, `SFTP ${what} failed on ${where}: the connection was lost (${message})`, {
    cause: err,
    url: where,
  });
}

/** The error for work stopped by a signal: its reason when that is a DownloadError. */
export function abortError(reason: unknown, where: string): DownloadError {
  if (isDownloadError(reason)) return reason;
  return new AbortError(`The SFTP transfer of ${where} was aborted`, { cause: reason, url: where });
}

/** What is known about a failed connection attempt, besides ssh2's error. */
export interface ConnectContext {
  /** `user@host:port`, for messages. */
  readonly target: string;
  /** The URL without credentials. */
  readonly where: string;
  /** Labels of the authentication methods tried (never secrets). */
  readonly tried: readonly string[];
  /** Default keys that were skipped, with the reason. */
  readonly skipped: ReadonlyArray<{ label: string; reason: string }>;
  /** The host key verdict, when the handshake stopped on it. */
  readonly hostKeyFailure: DownloadError | undefined;
  readonly connectTimeoutMs: number;
}

/**
 * Maps the failure of an SSH connection attempt from ssh2's error `level`: `client-authentication`
 * MG_ERR_AUTH (listing what was tried), `client-timeout` MG_ERR_CONNECT_TIMEOUT, `client-socket`
 * through core's system error mapping (refused, unreachable, reset), a refused host key its
 * HOST_KEY_* error, other handshake or protocol failures MG_ERR_PROTOCOL.
 */
export function connectError(err: unknown, ctx: ConnectContext): DownloadError {
  if (ctx.hostKeyFailure !== undefined) return ctx.hostKeyFailure;
  if (isDownloadError(err)) return err;
  const level = (err as { level?: unknown } | null | undefined)?.level;
  const message = err instanceof Error ? err.message : String(err);
  const details = { cause: err, url: ctx.where };
  switch (level) {
    case 'client-authentication': {
      const tried = ctx.tried.length > 0 ? ctx.tried.join(', ') : 'nothing (no key, agent or password was available)';
      const skipped =
        ctx.skipped.length > 0 ? ` Skipped: ${ctx.skipped.map((s) => `${s.label} (${s.reason})`).join(', ')}.` : '';
      const hint = ctx.tried.includes('password')
        ? 'Check the user name and password, or give a key (--ssh-key).'
        : 'Give a key (--ssh-key), load one into ssh-agent, or give a password.';
      return new ProtocolError(ErrorCodes.AUTH, `SSH authentication failed for ${ctx.target}; tried ${tried}.${skipped} ${hint}`, details);
    }
    case 'client-timeout':
      return new NetworkError(
        ErrorCodes.CONNECT_TIMEOUT,
        `Connecting to ${ctx.target} timed out: no SSH session within ${Math.round(ctx.connectTimeoutMs / 1000)} s`,
        details,
      );
    case 'client-socket':
    case 'client-dns':
      return networkErrorFromSystem(err, ctx.where);
    case 'handshake':
    case 'protocol':
      return new ProtocolError(ErrorCodes.PROTOCOL, `The SSH handshake with ${ctx.target} failed: ${message}`, details);
    default:
      if (typeof (err as { code?: unknown } | null)?.code === 'string') return networkErrorFromSystem(err, ctx.where);
      return new NetworkError(ErrorCodes.CONNECTION_RESET, `The SSH connection to ${ctx.target} failed: ${message}`, details);
  }
}
