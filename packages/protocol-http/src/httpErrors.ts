import { createRequire } from 'node:module';
import { AbortError, ErrorCodes, redactUrl, NetworkError, ProtocolError, UsageError, isDownloadError, networkErrorFromSystem, type DownloadError, errorCodeOf, tlsCauseOf } from '@multiget/core';
import { firstHeader, parseRetryAfter, type HeaderMap } from './headerValues.js';

/**
 * Reason phrases by status. Taken through `require`: an ESM import of `node:http` builds its whole
 * namespace, whose lazy getters load Node's bundled copy of undici (about 50 ms of start-up for
 * every command), although this package uses its own undici.
 */
const STATUS_CODES = (createRequire(import.meta.url)('node:http') as typeof import('node:http')).STATUS_CODES;

/**
 * The URL as it may appear in messages and error fields: core's `redactUrl` (no userinfo, no
 * fragment, no signature or token values).
 */
export function displayUrl(url: URL): string {
  return redactUrl(url);
}

/**
 * The error for an HTTP status that ends a request: 404/410 NOT_FOUND, 401 AUTH, 407 PROXY_AUTH, 403 FORBIDDEN,
 * 429/503 SERVER_BUSY (with Retry-After), other 5xx SERVER, anything else HTTP_STATUS.
 */
export function statusError(statusCode: number, statusText: string, url: URL, headers: HeaderMap): DownloadError {
  const where = displayUrl(url);
  const reason = statusText.trim() !== '' ? statusText.trim() : (STATUS_CODES[statusCode] ?? 'Unknown');
  const message = `HTTP ${statusCode} ${reason} for ${where}`;
  const details = { statusCode, url: where };
  switch (statusCode) {
    case 404:
    case 410:
      return new ProtocolError(ErrorCodes.NOT_FOUND, message, details);
    case 401:
      return new ProtocolError(ErrorCodes.AUTH, message, details);
    case 407:
      return new ProtocolError(ErrorCodes.PROXY_AUTH, `The proxy wants other credentials: ${message}`, details);
    case 403:
      return new ProtocolError(ErrorCodes.FORBIDDEN, message, details);
    case 429:
    case 503: {
      const retryAfterMs = parseRetryAfter(firstHeader(headers, 'retry-after'));
      return new ProtocolError(ErrorCodes.SERVER_BUSY, message, {
        ...details,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }
    default:
      return new ProtocolError(statusCode >= 500 ? ErrorCodes.SERVER : ErrorCodes.HTTP_STATUS, message, details);
  }
}

/** The error for a request stopped by its signal: the signal's reason when it is a DownloadError. */
export function abortError(reason: unknown, url: URL): DownloadError {
  if (isDownloadError(reason)) return reason;
  return new AbortError(`The request for ${displayUrl(url)} was aborted`, { cause: reason, url: displayUrl(url) });
}

/**
 * True for a failure of undici's HTTP/1.1 parser (llhttp): a forbidden byte in a header (NUL, a bare
 * CR), a bad token, status line or chunk size. Such a response breaks the protocol, so it is not a
 * reset and retrying will not help. Matched by name and by the `HPE_` code prefix, not `instanceof`
 * (another copy of undici may have made it), and because undici leaves `code` unset for most of
 * them. A parser error may also arrive as the cause of another error.
 */
function isParserError(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const { name, code } = current as { name?: unknown; code?: unknown };
    if (name === 'HTTPParserError' || (typeof code === 'string' && code.startsWith('HPE_'))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Maps a failure of undici (before or during a response) to a DownloadError. The signal is checked
 * first because undici destroys with the signal's reason, whatever that is.
 *
 * @param err - What undici threw or the body stream emitted.
 * @param url - The request's URL (userinfo is never shown).
 * @param signal - The request's signal.
 */
export function transportError(err: unknown, url: URL, signal?: AbortSignal): DownloadError {
  if (signal?.aborted === true) return abortError(signal.reason, url);
  if (isDownloadError(err)) return err;
  const where = displayUrl(url);
  const code = errorCodeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const details = { cause: err, url: where };

  const tls = tlsCauseOf(err);
  if (tls !== undefined) {
    const tlsMessage = tls instanceof Error ? tls.message : message;
    const errno = errorCodeOf(tls);
    return new NetworkError(ErrorCodes.TLS, `TLS failed for ${where}: ${tlsMessage}`, {
      ...details,
      ...(errno === undefined ? {} : { errno }),
    });
  }

  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new NetworkError(ErrorCodes.CONNECT_TIMEOUT, `Connecting to ${url.host} timed out`, details);
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new NetworkError(ErrorCodes.TIMEOUT, `No response headers in time from ${where}`, details);
    case 'UND_ERR_BODY_TIMEOUT':
      return new NetworkError(ErrorCodes.TIMEOUT, `The body of ${where} stopped arriving`, details);
    case 'UND_ERR_SOCKET':
      return new NetworkError(ErrorCodes.CONNECTION_RESET, `Connection lost for ${where}: ${message}`, details);
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return new NetworkError(ErrorCodes.SHORT_BODY, `The body of ${where} is shorter than announced`, details);
    case 'UND_ERR_DESTROYED':
    case 'UND_ERR_CLOSED':
      return new AbortError(`The HTTP plugin was closed while fetching ${where}`, details);
    case 'UND_ERR_PRX_TLS':
      return new NetworkError(ErrorCodes.TLS, `TLS to the proxy failed: ${message}`, details);
    case 'UND_ERR_PRX_CONN':
      return new NetworkError(ErrorCodes.CONNECT, `Cannot connect through the proxy: ${message}`, details);
    case 'UND_ERR_HEADERS_OVERFLOW':
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
      return new ProtocolError(ErrorCodes.PROTOCOL, `Malformed response from ${where}: ${message}`, details);
    case 'UND_ERR_ABORTED':
    case 'UND_ERR_INVALID_ARG': {
      // undici reports a proxy's refusal through these codes, with the status only in the message.
      const proxyStatus = /Proxy response \((\d{3})\)|Proxy Authentication Required \((\d{3})\)/.exec(message);
      if (proxyStatus !== null) {
        const status = Number(proxyStatus[1] ?? proxyStatus[2]);
        const errorCode = status === 407 ? ErrorCodes.PROXY_AUTH : status === 502 || status === 504 ? ErrorCodes.CONNECT : ErrorCodes.PROXY;
        return new ProtocolError(errorCode, `The proxy refused ${where} with HTTP ${status}`, {
          ...details,
          statusCode: status,
        });
      }
      if (code === 'UND_ERR_ABORTED') return new AbortError(`The request for ${where} was aborted`, details);
      return new UsageError(ErrorCodes.INVALID_OPTION, `Invalid request for ${where}: ${message}`, details);
    }
    default:
      if (isParserError(err)) {
        return new ProtocolError(ErrorCodes.PROTOCOL, `Malformed response from ${where}: ${message}`, details);
      }
      return networkErrorFromSystem(err, where);
  }
}
