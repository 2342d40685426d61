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
