/**
 * Errors of the service's requests, for the user. The requests themselves are sent with the
 * `RequestType` objects of `@multiget/server/protocol` (one vscode-jsonrpc for the service and the
 * language client), so nothing here re-declares them.
 */
/** The `error.data.code` of a refused request (`MG_ERR_…`), or `undefined`. */
export function errorCodeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const data: unknown = (err as { data?: unknown }).data;
  if (typeof data !== 'object' || data === null) return undefined;
  const code: unknown = (data as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** A message for the user about a refused request: `message (MG_ERR_…)`. */
export function describeRequestError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = errorCodeOf(err);
  return code === undefined || message.includes(code) ? message : `${message} (${code})`;
}

/**
 * vscode-jsonrpc's codes for a request that never reached a live connection: -32097 (pending
 * response rejected: the connection was disposed) and -32096 (connection inactive), plus the
 * message/stream errors. They say nothing about the request, only that the connection is gone.
 */
const CONNECTION_ERROR_CODES = new Set([-32096, -32097, -32098, -32099]);

/** Whether a request failed because the connection was not there, not because the service refused it. */
export function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code: unknown = (err as { code?: unknown }).code;
  if (typeof code === 'number' && CONNECTION_ERROR_CODES.has(code)) return true;
  const message = err instanceof Error ? err.message : '';
  return /connection (got disposed|is closed|is disposed)|Client is not running|write after end|EPIPE/i.test(message);
}

/**
 * True when the service answered the request with an error (a JSON-RPC error response: it was
 * reached, and refused what was asked); false when the request got no answer (the service could
 * not be reached, or the connection was lost while it handled the request).
 */
export function answeredByService(err: unknown): boolean {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number' && !isConnectionError(err);
}
