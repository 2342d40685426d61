import { ErrorCodes as CoreCodes, isDownloadError } from '@multiget/core';
// The connection checks `instanceof ResponseError` against its own copy of vscode-jsonrpc, which
// is vscode-languageserver's: import it from there, never from our direct vscode-jsonrpc dependency.
import { ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver';
import { MultigetErrorCodes, type MultigetErrorData } from './protocol.js';

/** Codes of failures the caller caused and can fix: they answer JSON-RPC InvalidParams. */
const CALLER_CODES: ReadonlySet<string> = new Set<string>([
  CoreCodes.INVALID_URL,
  CoreCodes.UNSUPPORTED_PROTOCOL,
  CoreCodes.INVALID_OPTION,
  CoreCodes.INVALID_CHECKSUM,
  CoreCodes.UNSAFE_PATH,
  CoreCodes.UNKNOWN_DOWNLOAD,
  CoreCodes.INVALID_STATE,
]);

/** What the service does with an error it did not expect (a bug): log it, with its stack. */
export type InternalErrorLogger = (method: string, err: unknown) => void;

/**
 * The JSON-RPC error for anything a request handler threw. Our stable code always travels in
 * `data.code`:
 * - caller errors (bad params, unknown id, wrong state) → InvalidParams (-32602);
 * - other Multiget errors (the state directory cannot be written: MG_ERR_IO, MG_ERR_NO_SPACE) →
 *   LSP's RequestFailed (-32803): the request was fine, the machine was not;
 * - anything else is a bug → InternalError (-32603) with MG_ERR_INTERNAL, logged, never fatal.
 */
export function toResponseError(method: string, err: unknown, log: InternalErrorLogger): ResponseError<MultigetErrorData> {
  if (err instanceof ResponseError) return err as ResponseError<MultigetErrorData>;
  // Match on the code, not instanceof: core's error classes may come from another copy of core.
  if (isDownloadError(err)) {
    const code = CALLER_CODES.has(err.code) ? ErrorCodes.InvalidParams : LSPErrorCodes.RequestFailed;
    if (code !== ErrorCodes.InvalidParams) log(method, err);
    return new ResponseError(code, err.message, { code: err.code });
  }
  log(method, err);
  const message = err instanceof Error ? err.message : String(err);
  return new ResponseError(ErrorCodes.InternalError, `Internal error in ${method}: ${message}`, { code: MultigetErrorCodes.INTERNAL });
}
