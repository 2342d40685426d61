/**
 * Params and results of the service's messages, keyed by method, for a typed `request()`.
 *
 * Why not `client.sendRequest(AddRequest.type, …)` directly: the protocol module's `RequestType`
 * objects come from the service's vscode-jsonrpc 9, vscode-languageclient 11 brings vscode-jsonrpc
 * 10, and TypeScript treats the two classes as unrelated (private members). The keys below are the
 * protocol's own `method` constants, so a renamed method fails to compile here; the value types are
 * the protocol's interfaces.
 */
import {
  AddRequest,
  CancelRequest,
  ChangedNotification,
  GetSettingsRequest,
  InfoRequest,
  ListRequest,
  PauseAllRequest,
  PauseRequest,
  ProgressNotification,
  RemoveRequest,
  RemovedNotification,
  ResumeAllRequest,
  ResumeRequest,
  RetryRequest,
  SetSettingsRequest,
  GetRequest,
  type AddParams,
  type AddResult,
  type ChangedParams,
  type DownloadResult,
  type IdParams,
  type ResumeParams,
  type ListResult,
  type ProgressParams,
  type RemoveParams,
  type RemovedParams,
  type ServiceInfo,
  type SetSettingsParams,
  type SettingsResult,
} from '@multiget/server/protocol';
// Segment maps, resource use and traces.
import { ExportTraceRequest, StatusRequest, type ExportTraceResult, type StatusResult } from '@multiget/server/protocol';
// The Downloads panel's requests and notifications.
import {
  ClearCompletedRequest,
  HistoryAddedNotification,
  HistoryRequest,
  SetConnectionsRequest,
  SetRateLimitRequest,
  type ClearCompletedResult,
  type HistoryAddedParams,
  type HistoryResult,
  type SetConnectionsParams,
  type SetRateLimitParams,
} from '@multiget/server/protocol';

/** `[params, result]` of each request the extension sends; `void` params means none. */
export interface RequestMap {
  [InfoRequest.method]: [void, ServiceInfo];
  [AddRequest.method]: [AddParams, AddResult];
  [ListRequest.method]: [void, ListResult];
  [GetRequest.method]: [IdParams, DownloadResult];
  [PauseRequest.method]: [IdParams, DownloadResult];
  [ResumeRequest.method]: [ResumeParams, DownloadResult];
  [CancelRequest.method]: [IdParams, DownloadResult];
  [RemoveRequest.method]: [RemoveParams, null];
  [RetryRequest.method]: [ResumeParams, DownloadResult];
  [PauseAllRequest.method]: [void, null];
  [ResumeAllRequest.method]: [void, null];
  [GetSettingsRequest.method]: [void, SettingsResult];
  [SetSettingsRequest.method]: [SetSettingsParams, SettingsResult];
  [HistoryRequest.method]: [void, HistoryResult];
  [ClearCompletedRequest.method]: [void, ClearCompletedResult];
  [SetRateLimitRequest.method]: [SetRateLimitParams, DownloadResult];
  [SetConnectionsRequest.method]: [SetConnectionsParams, DownloadResult];
  [StatusRequest.method]: [void, StatusResult];
  [ExportTraceRequest.method]: [IdParams, ExportTraceResult];
}

/** A method of {@link RequestMap}. */
export type RequestMethod = keyof RequestMap;

/** Params of a request. */
export type ParamsOf<M extends RequestMethod> = RequestMap[M][0];

/** Result of a request. */
export type ResultOf<M extends RequestMethod> = RequestMap[M][1];

/** Payload of each notification the extension listens to. */
export interface NotificationMap {
  [ProgressNotification.method]: ProgressParams;
  [ChangedNotification.method]: ChangedParams;
  [RemovedNotification.method]: RemovedParams;
  [HistoryAddedNotification.method]: HistoryAddedParams;
}

/** A method of {@link NotificationMap}. */
export type NotificationMethod = keyof NotificationMap;

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
