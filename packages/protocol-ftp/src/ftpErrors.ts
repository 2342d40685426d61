import { AbortError, ErrorCodes, NetworkError, ProtocolError, isDownloadError, networkErrorFromSystem, type DownloadError, errorCodeOf, tlsCauseOf } from '@multiget/core';
import { FTPError } from 'basic-ftp';

/** What was being done when a failure happened; it shapes the message and, for TLS, the code. */
export type FtpStep = 'connect' | 'tls' | 'login' | 'command' | 'transfer';

/**
 * Where a failure happened, for messages. It holds the credentials only in `secrets`, which exist
 * to be removed from every message built here.
 */
export interface FtpFailureContext {
  /** The URL without credentials. */
  readonly where: string;
  /** The step under way; during TLS negotiation every refusal is MG_ERR_TLS. */
  readonly step: FtpStep;
  /** Secrets to scrub from server replies quoted in messages (a server may echo the user name). */
  readonly secrets: readonly string[];
}

/** Replaces every secret of three characters or more in `text` with `***`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 3) out = out.split(secret).join('***');
  }
  return out;
}

/** The reply text without its code, on one line. */
function replyText(message: string): string {
  return message
    .replace(/^\d{3}[ -]?/, '')
    .replace(/\r?\n\d{3}[ -]?/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** True for basic-ftp's FTPError (checked by shape as well, in case two copies of basic-ftp coexist). */
export function isFtpError(err: unknown): err is FTPError {
  return err instanceof FTPError || (err instanceof Error && err.name === 'FTPError' && typeof (err as { code?: unknown }).code === 'number');
}

/**
 * The error for an FTP reply that ends an operation, with the reply code in `ftpCode`.
 *
 * - 530, 332: MG_ERR_AUTH (login failed, or needed).
 * - 550: MG_ERR_FORBIDDEN when the text speaks of permission or access, else MG_ERR_NOT_FOUND.
 * - 421, 450: MG_ERR_SERVER_BUSY (too many connections, file busy); retryable.
 * - 425, 426: MG_ERR_CONNECTION_RESET (the data connection failed); retryable.
 * - 451 and every other 4xx: MG_ERR_SERVER (RFC 959's transient failures); retryable.
 * - During TLS negotiation (AUTH TLS, PBSZ, PROT), anything but 421: MG_ERR_TLS, because TLS was
 *   required and continuing without it would be a silent downgrade.
 * - Other replies: MG_ERR_PROTOCOL (permanent).
 */
export function replyError(code: number, message: string, context: FtpFailureContext): DownloadError {
  const text = scrub(replyText(message), context.secrets);
  const details = { ftpCode: code, url: context.where };
  const described = `FTP ${code} ${text}`.trim();
  if (context.step === 'tls' && code !== 421) {
    return new NetworkError(
      ErrorCodes.TLS,
      `${context.where} refused TLS (${described}); TLS is required, so the connection was not used`,
      details,
    );
  }
  switch (code) {
    case 530:
    case 332:
      return new ProtocolError(ErrorCodes.AUTH, `Login to ${context.where} failed: ${described}`, details);
    case 550:
      if (/permission|denied|access|not allowed|forbidden/i.test(text)) {
        return new ProtocolError(ErrorCodes.FORBIDDEN, `Access to ${context.where} denied: ${described}`, details);
      }
      return new ProtocolError(ErrorCodes.NOT_FOUND, `${context.where} is not available: ${described}`, details);
    case 421:
    case 450:
      return new ProtocolError(ErrorCodes.SERVER_BUSY, `${context.where}: the server is busy (${described})`, details);
    case 425:
    case 426:
      return new NetworkError(ErrorCodes.CONNECTION_RESET, `The data connection for ${context.where} failed: ${described}`, details);
    default:
      if (code >= 400 && code < 500) {
        return new ProtocolError(ErrorCodes.SERVER, `${context.where}: transient server failure (${described})`, details);
      }
      return new ProtocolError(ErrorCodes.PROTOCOL, `${context.where}: unexpected reply ${described}`, details);
  }
}

/** An error's `code` property, if it has a string one. */

/**
 * Maps anything basic-ftp, a socket or TLS threw to a DownloadError. The signal is checked first:
 * a client closed because the download stopped reports "User closed client", which is an abort.
 *
 * basic-ftp reports several failures as plain Errors known only by their text (timeouts, a server
 * that closed the connection, a PASV reply naming another host, a listing past its size limit:
 * MG_ERR_PROTOCOL, not retried); those texts are matched here.
 */
export function ftpFailure(err: unknown, context: FtpFailureContext, signal?: AbortSignal): DownloadError {
  if (signal?.aborted === true) {
    return isDownloadError(signal.reason)
      ? signal.reason
      : new AbortError(`The transfer of ${context.where} was aborted`, { cause: signal.reason, url: context.where });
  }
  if (isDownloadError(err)) return err;
  if (isFtpError(err)) return replyError(err.code, err.message, context);
  const where = context.where;
  const message = scrub(err instanceof Error ? err.message : String(err), context.secrets);
  const details = { cause: err, url: where };

  const tls = tlsCauseOf(err);
  if (tls !== undefined) {
    const errno = errorCodeOf(tls);
    const tlsMessage = scrub(tls instanceof Error ? tls.message : message, context.secrets);
    return new NetworkError(ErrorCodes.TLS, `TLS failed for ${where}: ${tlsMessage}`, {
      ...details,
      ...(errno === undefined ? {} : { errno }),
    });
  }
  const embedded = /FTPError: (\d{3})([^']*)/.exec(message);
  if (/PASV returned another host/.test(message)) {
    const host = /another host \(([^)]*)\)/.exec(message)?.[1] ?? 'another host';
    return new ProtocolError(
      ErrorCodes.PROTOCOL,
      `${where}: the server's PASV reply names ${host}, not the server itself; refused (FTP bounce protection)`,
      details,
    );
  }
  if (embedded?.[1] !== undefined) return replyError(Number(embedded[1]), `${embedded[1]}${embedded[2] ?? ''}`, context);
  if (/Timeout/i.test(message)) {
    if (context.step === 'connect') {
      return new NetworkError(ErrorCodes.CONNECT_TIMEOUT, `Connecting to ${where} timed out`, details);
    }
    return new NetworkError(ErrorCodes.TIMEOUT, `${where} did not answer in time (${message})`, details);
  }
  if (/Server sent FIN packet unexpectedly|Server closed connection unexpectedly|Socket closed due to transmission error/.test(message)) {
    return new NetworkError(ErrorCodes.CONNECTION_RESET, `${where} closed the connection: ${message}`, details);
  }
  if (/User closed client/.test(message)) {
    return new AbortError(`The FTP connection to ${where} was closed`, details);
  }
  const listingCap = /StringWriter: Maximum bytes exceeded, maxByteLength=(\d+)/.exec(message);
  if (listingCap?.[1] !== undefined) {
    // basic-ftp keeps a listing in memory and stops it at this size: a listing that long (hundreds
    // of thousands of entries, or one that never ends) would not be walked anyway.
    const mib = Math.round(Number(listingCap[1]) / (1024 * 1024));
    return new ProtocolError(ErrorCodes.PROTOCOL, `${where}: the folder's listing is longer than ${mib} MiB; download a smaller folder`, details);
  }
  if (/Can't parse|Unexpected FTP response/.test(message)) {
    return new ProtocolError(ErrorCodes.PROTOCOL, `${where}: malformed reply (${message})`, details);
  }
  const errno = errorCodeOf(err);
  if (errno !== undefined && /^E[A-Z]+$/.test(errno)) {
    const mapped = networkErrorFromSystem(err, where);
    return new NetworkError(mapped.code, scrub(mapped.message, context.secrets), { ...details, errno });
  }
  if (/None of the available transfer strategies work|Can't open data connection/.test(message)) {
    return new NetworkError(ErrorCodes.CONNECTION_RESET, `No data connection to ${where}: ${message}`, details);
  }
  return new NetworkError(ErrorCodes.CONNECTION_RESET, `FTP connection to ${where} failed: ${message}`, details);
}
