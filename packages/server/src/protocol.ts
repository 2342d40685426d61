/**
 * The Multiget service protocol, declared once: the service implements it and front-ends (the VS
 * Code extension, scripts) import the same declarations, so a request and its result cannot drift
 * apart between the two sides.
 *
 * This module imports nothing but `vscode-jsonrpc`, and only for its message types, because the
 * extension bundles it: pulling in `@multiget/core` here would drag the engine into the bundle.
 * For the same reason the types below are plain data (DTOs); the service maps the core's types onto
 * them, and a test checks that the two stay in step.
 *
 * Conventions:
 * - Every request takes one params object (or none) and answers one result object (or `null`).
 * - Params are checked before anything acts. Unknown fields are refused, so a misspelt option
 *   (`ouput`) fails loudly instead of being ignored.
 * - Absent values are `null` in results, never missing, so a front-end can rely on every field.
 * - Errors are JSON-RPC errors: `InvalidParams` (-32602) for anything the caller can fix, with our
 *   stable code in `error.data.code` ({@link MultigetErrorCodes}); `InternalError` (-32603) with
 *   `MG_ERR_INTERNAL` for bugs. Match on `data.code`, not on the message.
 *
 * @packageDocumentation
 * @module @multiget/server/protocol
 */
// The lsp-sample style (a namespace per message) is the point of this module: one name carries
// method, direction and typed message together.
/* eslint-disable @typescript-eslint/no-namespace */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';

/** Version of this protocol; raised when a request or result changes incompatibly. */
export const PROTOCOL_VERSION = 1;

/**
 * Which side sends a message. The same strings as LSP's `MessageDirection` (declared in
 * vscode-languageserver-protocol, which this module must not import).
 */
export const MessageDirection = {
  /** Requests: a client (the extension, a script) sends, the service answers. */
  clientToServer: 'clientToServer',
  /** Notifications: the service sends, clients listen. */
  serverToClient: 'serverToClient',
} as const;

/** One of {@link MessageDirection}. */
export type MessageDirection = (typeof MessageDirection)[keyof typeof MessageDirection];

// ---- data ----

/**
 * Where a download in the service's list stands: {@link DownloadInfo.state}. `probing`,
 * `downloading` and `verifying` count as active. The same values as core's manager `EntryState`
 * (a compile-time check in the service keeps them equal); not core's `DownloadState`, the lifecycle
 * of one engine run, which says `pending` where the list says `queued`.
 */
export type DownloadInfoState =
  | 'queued'
  | 'probing'
  | 'downloading'
  | 'verifying'
  | 'paused'
  | 'completed'
  | 'failed'
  | 'canceled';

/**
 * Why a download is paused when the service paused it: `linkExpired` — its server started refusing
 * the link (HTTP 401/403/410, or the engine's MG_ERR_LINK_EXPIRED) mid-download; the bytes are kept
 * and `multiget/updateUrl` gives it a new link. The same type as core's `PauseReason`, under the
 * same name on purpose (a compile-time check in the service keeps the two equal).
 */
export type PauseReason = 'linkExpired';

/** A failure, as the engine reports it: a stable `MG_ERR_*` code and a human message. */
export interface DownloadFailure {
  /** The stable `MG_ERR_*` code to match on. */
  code: string;
  /** The text for the user (no credentials in it). */
  message: string;
}

/** One download in the list. */
export interface DownloadInfo {
  /** Stable identifier (survives restarts of the service). */
  id: string;
  /** The URL without credentials. */
  url: string;
  /** Absolute path of the target file, once known (after probing when only a directory was given). */
  file: string | null;
  /** Where the download stands. */
  state: DownloadInfoState;
  /** Higher runs first; equal priorities run in order of addition. */
  priority: number;
  /** Bytes on disk so far. */
  bytes: number;
  /** Size of the file, when the server told it. */
  total: number | null;
  /** Bytes per second (0 when not active). */
  speed: number;
  /** Seconds left, when it can be told. */
  eta: number | null;
  /** Connections open for this download now. */
  connections: number;
  /** Why the service paused it (state `paused`), or `null` (running, or paused by a client). */
  reason: PauseReason | null;
  /** Why it failed (state `failed`), or what expired its link (reason `linkExpired`); otherwise `null`. */
  error: DownloadFailure | null;
  /** ISO 8601 time it was added. */
  addedAt: string;
  /** Its own rate limit in bytes per second, or `null` for none (the global limit still applies). */
  rateLimit: number | null;
  /**
   * Restored after the service restarted without the credentials (or secret headers) it was
   * added with, which are kept in memory only: it stays paused until `multiget/resume` gives them.
   */
  awaitingCredentials: boolean;
  /**
   * Present when the file was not downloaded but copied from the service's content store (the same
   * URL with unchanged validators, or a file with the checksum asked for): the stored file copied.
   */
  fromCache?: {
    /** Absolute path of the stored file that was copied. */
    path: string;
  };
}

/** A finished, failed or cancelled download in the history. */
export interface HistoryInfo {
  /** The id the download had in the list. */
  id: string;
  /** The URL without credentials. */
  url: string;
  /** Absolute path of the file, when one was chosen. */
  file: string | null;
  /** Size in bytes, when known. */
  size: number | null;
  /** The digest the file was verified against, or `null` when none was checked. */
  digest: {
    /** The hash function (`sha256`, `sha512`, `sha1`, `md5`). */
    algorithm: string;
    /** Lower-case hex. */
    hex: string;
  } | null;
  /** How it ended. */
  state: 'completed' | 'failed' | 'canceled';
  /** The `MG_ERR_*` code when it failed, otherwise `null`. */
  errorCode: string | null;
  /** The failure's message when it failed, otherwise `null`. */
  errorMessage: string | null;
  /** Wall time of its last run, in milliseconds. */
  durationMs: number;
  /** Bytes per second over the whole download (0 when it did not complete). */
  averageSpeed: number;
  /** ISO 8601 time it ended. */
  finishedAt: string;
  /** Present when the file was copied from the content store: the stored file copied. */
  fromCache?: {
    /** Absolute path of the stored file that was copied. */
    path: string;
  };
}

/** Settings of the manager; they persist in the state directory. */
export interface Settings {
  /** Downloads transferring at once (1..1000); the rest wait in the queue. */
  maxConcurrent: number;
  /** Connections per download unless the download says otherwise (1..256). */
  connections: number;
  /** Connections to one host across all downloads (1..256). */
  maxConnectionsPerHost: number;
  /** Connections in total across all downloads (1..4096). */
  maxConnections: number;
  /** Global rate limit in bytes per second, or `null` for none. */
  rateLimit: number | null;
  /** Retries of a failed range before the download fails (0..1000). */
  retries: number;
  /** Absolute directory that downloads go to by default, and that relative paths are resolved against. */
  dir: string;
}

/** What the service tells about itself (in `initialize`'s result and from `multiget/info`). */
export interface ServiceInfo {
  /** Name of the service package (`@multiget/server`). */
  name: string;
  /** Version of the service package. */
  version: string;
  /** {@link PROTOCOL_VERSION} of the service. */
  protocolVersion: number;
  /** URL schemes it downloads, without the colon (`['http', 'https']`). */
  schemes: string[];
  /** Absolute path of the state directory it locked. */
  stateDir: string;
  /** Process id of the service. */
  pid: number;
}

/** Result of `initialize`: no LSP capabilities, plus who we are. */
export interface MultigetInitializeResult {
  /** Always empty: the service implements no LSP feature. */
  capabilities: Record<string, never>;
  /** LSP's `serverInfo`. */
  serverInfo: {
    /** Name of the service. */
    name: string;
    /** Version of the service package. */
    version: string;
  };
  /** Everything else a front-end needs to know about the service. */
  multiget: ServiceInfo;
}

// ---- errors ----

/**
 * The `MG_ERR_*` codes a request can fail with, in `error.data.code`. The same strings as the
 * core's error codes (a test keeps them equal); a download's own failure codes arrive in
 * {@link DownloadInfo.error}, not as request errors.
 */
export const MultigetErrorCodes = {
  /** The URL cannot be parsed or has no host. */
  INVALID_URL: 'MG_ERR_INVALID_URL',
  /** The URL's scheme is not served (`file:`, `data:`, `javascript:` never are). */
  UNSUPPORTED_PROTOCOL: 'MG_ERR_UNSUPPORTED_PROTOCOL',
  /** A param is missing, of the wrong type, out of range, or unknown (message says which). */
  INVALID_OPTION: 'MG_ERR_INVALID_OPTION',
  /** The checksum is not `algo=hex` with a known algorithm and the right length. */
  INVALID_CHECKSUM: 'MG_ERR_INVALID_CHECKSUM',
  /** A path escapes the download directory or points into the state directory. */
  UNSAFE_PATH: 'MG_ERR_UNSAFE_PATH',
  /** No download with that id. */
  UNKNOWN_DOWNLOAD: 'MG_ERR_UNKNOWN_DOWNLOAD',
  /** The operation does not apply now (retry a running download; any request after `shutdown`). */
  INVALID_STATE: 'MG_ERR_INVALID_STATE',
  /** A bug in the service or the engine; the service keeps running. */
  INTERNAL: 'MG_ERR_INTERNAL',
  /** A socket client's first message was not `initialize` with the token of `service.json`. */
  AUTH: 'MG_ERR_AUTH',
} as const;

/** One of {@link MultigetErrorCodes}, or a code a newer service may add. */
export type MultigetErrorCode = (typeof MultigetErrorCodes)[keyof typeof MultigetErrorCodes];

/** `error.data` of every error the service answers with. */
export interface MultigetErrorData {
  /** Stable code to match on. */
  code: MultigetErrorCode | (string & {});
}

// ---- params and results ----

/** Credentials for a download; kept in memory only, never written to the state directory. */
export type DownloadCredentials =
  | {
      /** User name (HTTP Basic, FTP, SSH). */
      username: string;
      /** Password. */
      password: string;
    }
  | {
      /** A bearer token, sent as `Authorization: Bearer` (HTTP only). */
      bearer: string;
    };

/** One download to add. */
export interface AddParams {
  /** `http:` or `https:` (more with more protocol plugins). Credentials in the URL are kept in memory only. */
  url: string;
  /**
   * Exact target file. Absolute, or relative to the download directory ({@link Settings.dir});
   * a relative path must stay inside it. Not together with `dir`.
   */
  output?: string;
  /** Directory for a file named after the remote one; same path rules as `output`. */
  dir?: string;
  /** Connections for this download (1..256, core's `OPTION_LIMITS.connections`). Default: {@link Settings.connections}. */
  connections?: number;
  /**
   * `sha256=HEX` (also sha512, sha1, md5), or `auto` (verify against a checksum file found beside
   * the URL: `NAME.sha256`, `SHA256SUMS`, ...); the file is verified before it counts as completed.
   */
  checksum?: string;
  /** Extra request headers. Authorization, Cookie and Proxy-Authorization stay in memory only. */
  headers?: Record<string, string>;
  /** Higher runs first (-1000000..1000000). Default 0. */
  priority?: number;
  /** Bytes per second for this download (≥ 1). */
  rateLimit?: number;
  /** When the target file exists: `fail`, `rename` (the default without `output`) or `overwrite`. */
  existing?: 'fail' | 'rename' | 'overwrite';
  /** Credentials for the download, held in memory only. */
  credentials?: DownloadCredentials;
  /**
   * Other URLs of the same file (up to 64), read from at the same time; one that fails or serves
   * other bytes is left out. Credentials and headers go only to URLs of `url`'s origin.
   */
  mirrors?: string[];
  /**
   * `true`: always download; never copy a file the service downloaded before from its content
   * store, and do not record this one there. Default false.
   */
  noCache?: boolean;
}

/** Result of `multiget/add`. The same URL to the same target while unfinished gives the existing id. */
export interface AddResult {
  /** The download's id (an existing one's when the same URL and target are already unfinished). */
  id: string;
  /** The download as it stands now. */
  download: DownloadInfo;
}

/** Several downloads at once; all are checked before any is added (all or nothing for bad params). */
export interface AddManyParams {
  /** 1..1000 downloads (`AddManyRequest.maxItems`). */
  items: AddParams[];
}

/** Result of `multiget/addMany`: ids in the order of `items`. */
export interface AddManyResult {
  /** One id per item, in the order of `items`. */
  ids: string[];
}

/** Names one download. */
export interface IdParams {
  /** The download's id (from `multiget/add` or `multiget/list`). */
  id: string;
}

/**
 * Params of `multiget/resume` and `multiget/retry`. `credentials` are held in memory only: a
 * download restored after the service restarted has none until they are given again this way.
 */
export interface ResumeParams extends IdParams {
  /** Credentials to use from now on; replace any held before. */
  credentials?: DownloadCredentials;
}

/** Params of `multiget/remove`. */
export interface RemoveParams extends IdParams {
  /** Also delete partial data (never a completed file). Default false. */
  deleteData?: boolean;
}

/** Params of `multiget/setPriority`. */
export interface SetPriorityParams extends IdParams {
  /** -1000000..1000000. */
  priority: number;
}

/** Params of `multiget/move`. */
export interface MoveParams extends IdParams {
  /** 0-based position in the queue order; past the end means last. */
  index: number;
}

/** Params of `multiget/setRateLimit`. */
export interface SetRateLimitParams extends IdParams {
  /** Bytes per second (≥ 1), or `null` to remove the download's own limit. */
  rateLimit: number | null;
}

/** Params of `multiget/setSettings`: only the fields to change. */
export type SetSettingsParams = Partial<Settings>;

/**
 * Result of the requests about one download (`multiget/get`, `pause`, `resume`, `cancel`, `retry`,
 * `setPriority`, `setRateLimit`, `setConnections`, `updateUrl`): the download as it stands after
 * the request. Not core's `DownloadResult`, the outcome of a finished engine run.
 */
export interface DownloadInfoResult {
  /** The download as it stands after the request. */
  download: DownloadInfo;
}

/** Every download, in queue order (priority, then order of addition). */
export interface ListResult {
  /** Every download in the list, in queue order. */
  downloads: DownloadInfo[];
}

/** The history, newest first. */
export interface HistoryResult {
  /** The history entries, newest first. */
  entries: HistoryInfo[];
}

/** The settings now in force. */
export interface SettingsResult {
  /** Every setting, as now in force. */
  settings: Settings;
}

/** Payload of `multiget/progress`: every active download, at most a few times per second in total. */
export interface ProgressParams {
  /** The active downloads (probing, downloading, verifying). */
  downloads: DownloadInfo[];
  /** Segment maps of the active downloads whose size is known, by id (see {@link SegmentMapCells}). */
  segmentMaps: Record<string, SegmentMapCells>;
  /** The service's own CPU time and memory now. */
  resources: ResourceInfo;
}

/** Payload of `multiget/changed`: one download that was added or changed state, file, priority or error. */
export interface ChangedParams {
  /** The download as it stands now. */
  download: DownloadInfo;
}

/** Payload of `multiget/removed`. */
export interface RemovedParams {
  /** The id of the download that left the list. */
  id: string;
}

/** Payload of `multiget/historyAdded`. */
export interface HistoryAddedParams {
  /** The new history entry. */
  entry: HistoryInfo;
}

// ---- requests (client → server) ----

/** Who the service is, which schemes it serves and where its state lives. */
export namespace InfoRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/info' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(InfoRequest.type, ...)`. */
  export const type = new RequestType0<ServiceInfo, MultigetErrorData>(method);
}

/** Adds one download to the queue. */
export namespace AddRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/add' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(AddRequest.type, ...)`. */
  export const type = new RequestType<AddParams, AddResult, MultigetErrorData>(method);
}

/** Adds several downloads, each with its own options. */
export namespace AddManyRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/addMany' as const;
  /** The most items one request may carry. */
  export const maxItems = 1000;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(AddManyRequest.type, ...)`. */
  export const type = new RequestType<AddManyParams, AddManyResult, MultigetErrorData>(method);
}

/** Every download. */
export namespace ListRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/list' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(ListRequest.type, ...)`. */
  export const type = new RequestType0<ListResult, MultigetErrorData>(method);
}

/** One download. */
export namespace GetRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/get' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(GetRequest.type, ...)`. */
  export const type = new RequestType<IdParams, DownloadInfoResult, MultigetErrorData>(method);
}

/** Pauses a queued or running download, keeping partial data. No effect in other states. */
export namespace PauseRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/pause' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(PauseRequest.type, ...)`. */
  export const type = new RequestType<IdParams, DownloadInfoResult, MultigetErrorData>(method);
}

/** Puts a paused download back in the queue. No effect in other states. */
export namespace ResumeRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/resume' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(ResumeRequest.type, ...)`. */
  export const type = new RequestType<ResumeParams, DownloadInfoResult, MultigetErrorData>(method);
}

/** Stops a download and deletes its partial data; it stays in the list as `canceled`. */
export namespace CancelRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/cancel' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(CancelRequest.type, ...)`. */
  export const type = new RequestType<IdParams, DownloadInfoResult, MultigetErrorData>(method);
}

/** Removes a download from the list (stopping it first). */
export namespace RemoveRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/remove' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(RemoveRequest.type, ...)`. */
  export const type = new RequestType<RemoveParams, null, MultigetErrorData>(method);
}

/** Queues a failed or cancelled download again (`MG_ERR_INVALID_STATE` otherwise). */
export namespace RetryRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/retry' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(RetryRequest.type, ...)`. */
  export const type = new RequestType<ResumeParams, DownloadInfoResult, MultigetErrorData>(method);
}

/** Pauses every queued and running download. */
export namespace PauseAllRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/pauseAll' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(PauseAllRequest.type, ...)`. */
  export const type = new RequestType0<null, MultigetErrorData>(method);
}

/** Queues every paused download again. */
export namespace ResumeAllRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/resumeAll' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(ResumeAllRequest.type, ...)`. */
  export const type = new RequestType0<null, MultigetErrorData>(method);
}

/** Changes a download's priority. */
export namespace SetPriorityRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/setPriority' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(SetPriorityRequest.type, ...)`. */
  export const type = new RequestType<SetPriorityParams, DownloadInfoResult, MultigetErrorData>(method);
}

/** Moves a download in the queue order (it takes the priority of its new neighbour); answers the new list. */
export namespace MoveRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/move' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(MoveRequest.type, ...)`. */
  export const type = new RequestType<MoveParams, ListResult, MultigetErrorData>(method);
}

/** Changes one download's rate limit, also while it runs. */
export namespace SetRateLimitRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/setRateLimit' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(SetRateLimitRequest.type, ...)`. */
  export const type = new RequestType<SetRateLimitParams, DownloadInfoResult, MultigetErrorData>(method);
}

/** Finished, failed and cancelled downloads, newest first. */
export namespace HistoryRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/history' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(HistoryRequest.type, ...)`. */
  export const type = new RequestType0<HistoryResult, MultigetErrorData>(method);
}

/** Empties the history. */
export namespace ClearHistoryRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/clearHistory' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(ClearHistoryRequest.type, ...)`. */
  export const type = new RequestType0<null, MultigetErrorData>(method);
}

/** The settings. */
export namespace GetSettingsRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/getSettings' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(GetSettingsRequest.type, ...)`. */
  export const type = new RequestType0<SettingsResult, MultigetErrorData>(method);
}

/** Changes some settings (at once, also for running downloads) and answers all of them. */
export namespace SetSettingsRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/setSettings' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(SetSettingsRequest.type, ...)`. */
  export const type = new RequestType<SetSettingsParams, SettingsResult, MultigetErrorData>(method);
}

/**
 * Stops the whole service in order (running downloads pause with their data kept and continue at
 * the next start), for every client at once: how a front-end restarts a shared service. Answered
 * before the service stops.
 */
export namespace StopServiceRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/stopService' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(StopServiceRequest.type, ...)`. */
  export const type = new RequestType0<null, MultigetErrorData>(method);
}

// ---- notifications (server → client) ----
// Sent once the client has sent `initialized` (or, for clients that skip the LSP handshake, made
// any multiget request); a client catches up with `multiget/list` then.

/** Progress of every active download, coalesced: at most a few per second whatever their number. */
export namespace ProgressNotification {
  /** The JSON-RPC method name. */
  export const method = 'multiget/progress' as const;
  /** The service sends it; clients listen for it. */
  export const messageDirection = MessageDirection.serverToClient;
  /** The typed message: `connection.onNotification(ProgressNotification.type, ...)`. */
  export const type = new NotificationType<ProgressParams>(method);
}

/** A download was added, or its state, file, priority, rate limit or error changed. */
export namespace ChangedNotification {
  /** The JSON-RPC method name. */
  export const method = 'multiget/changed' as const;
  /** The service sends it; clients listen for it. */
  export const messageDirection = MessageDirection.serverToClient;
  /** The typed message: `connection.onNotification(ChangedNotification.type, ...)`. */
  export const type = new NotificationType<ChangedParams>(method);
}

/** A download left the list. */
export namespace RemovedNotification {
  /** The JSON-RPC method name. */
  export const method = 'multiget/removed' as const;
  /** The service sends it; clients listen for it. */
  export const messageDirection = MessageDirection.serverToClient;
  /** The typed message: `connection.onNotification(RemovedNotification.type, ...)`. */
  export const type = new NotificationType<RemovedParams>(method);
}

/** A download finished, failed or was cancelled and joined the history. */
export namespace HistoryAddedNotification {
  /** The JSON-RPC method name. */
  export const method = 'multiget/historyAdded' as const;
  /** The service sends it; clients listen for it. */
  export const messageDirection = MessageDirection.serverToClient;
  /** The typed message: `connection.onNotification(HistoryAddedNotification.type, ...)`. */
  export const type = new NotificationType<HistoryAddedParams>(method);
}

// ---- the Downloads panel's requests ----

/** Params of `multiget/setConnections`. */
export interface SetConnectionsParams extends IdParams {
  /** Connections for this download (1..256). */
  connections: number;
}

/**
 * Changes one download's connections. A running transfer keeps the connections it started with:
 * the new number applies from its next start (pause and resume, retry, a restart of the service).
 */
export namespace SetConnectionsRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/setConnections' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(SetConnectionsRequest.type, ...)`. */
  export const type = new RequestType<SetConnectionsParams, DownloadInfoResult, MultigetErrorData>(method);
}

/** Params of `multiget/updateUrl`. */
export interface UpdateUrlParams extends IdParams {
  /** The new URL of the same download (same rules as `multiget/add`'s `url`). */
  url: string;
}

/**
 * Gives a download a new URL, for a link that expired (paused with reason `linkExpired`) or any
 * unfinished or failed download, and queues it. Its partial data resumes when the new URL serves
 * the same file (size and validators match) and starts over when not, never mixing the two.
 * Credentials in the URL are held in memory only, as for `multiget/add`; credentials held for the
 * old URL are kept only when the new one has the same origin. `MG_ERR_INVALID_STATE` for a completed
 * or cancelled download.
 */
export namespace UpdateUrlRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/updateUrl' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(UpdateUrlRequest.type, ...)`. */
  export const type = new RequestType<UpdateUrlParams, DownloadInfoResult, MultigetErrorData>(method);
}

/** Result of `multiget/clearCompleted`. */
export interface ClearCompletedResult {
  /** Downloads removed from the list (each also announced by `multiget/removed`). */
  ids: string[];
}

/**
 * Removes completed and cancelled downloads from the list, and completed and cancelled entries
 * from the history. Files on disk stay; failed downloads stay (their partial data can be retried).
 */
export namespace ClearCompletedRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/clearCompleted' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(ClearCompletedRequest.type, ...)`. */
  export const type = new RequestType0<ClearCompletedResult, MultigetErrorData>(method);
}

// ---- the service's log ----

/** A log level, or `off`: what `multiget/setLogLevel` takes. */
export type LogLevelSetting = 'off' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** Params of `multiget/setLogLevel`. */
export interface SetLogLevelParams {
  /** Lines at this level and below are sent to this client as `multiget/log`; `off` stops them. */
  level: LogLevelSetting;
}

/**
 * Subscribes this client to the service's log at a level (VS Code's LogOutputChannel level), or
 * unsubscribes it (`off`, the default). The engine logs at the most verbose level any client asks
 * for, and not at all when none does.
 */
export namespace SetLogLevelRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/setLogLevel' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(SetLogLevelRequest.type, ...)`. */
  export const type = new RequestType<SetLogLevelParams, null, MultigetErrorData>(method);
}

/** Params of `multiget/log`: one line of the service's log. Never holds a secret (see core's redaction). */
export interface LogParams {
  /** The line's level. */
  level: Exclude<LogLevelSetting, 'off'>;
  /** The message with its fields, as one line: `retry download=… attempt=1 code=MG_ERR_…`. */
  message: string;
  /** The fields alone (download id, connection, range, attempt, host, code, ...), for programs. */
  fields?: Record<string, unknown>;
}

/** One line of the service's log, sent to the clients that asked for it with `multiget/setLogLevel`. */
export namespace LogNotification {
  /** The JSON-RPC method name. */
  export const method = 'multiget/log' as const;
  /** The service sends it; clients listen for it. */
  export const messageDirection = MessageDirection.serverToClient;
  /** The typed message: `connection.onNotification(LogNotification.type, ...)`. */
  export const type = new NotificationType<LogParams>(method);
}

// ---- seeing inside: segment maps, resource use, traces ----

/** Cells in a {@link SegmentMapCells} string. */
export const SEGMENT_MAP_CELLS = 100;

/**
 * A download's segment map in {@link SEGMENT_MAP_CELLS} characters, one per equal slice of the
 * file, so its size is bounded whatever the number of segments: `#` done, `0`-`9` then `a`-`z`
 * written by the running request of connection 0, 1, ... (in flight), `.` left. Each cell takes
 * the kind covering most of its bytes.
 */
export type SegmentMapCells = string;

/** The service process's CPU time and memory (Node's `process.resourceUsage()` and `memoryUsage()`). */
export interface ResourceInfo {
  /** CPU time in user mode since the service started, in milliseconds. */
  cpuUserMs: number;
  /** CPU time in the kernel since the service started, in milliseconds. */
  cpuSystemMs: number;
  /** Resident set size, in bytes. */
  rssBytes: number;
  /** V8 heap in use, in bytes. */
  heapUsedBytes: number;
  /** V8 heap allocated, in bytes. */
  heapTotalBytes: number;
  /** Memory of buffers outside the V8 heap, in bytes. */
  externalBytes: number;
}

/** Result of `multiget/status`. */
export interface StatusResult {
  /** The active downloads (probing, downloading, verifying), in queue order. */
  downloads: DownloadInfo[];
  /** Their segment maps, by id (those whose size is known). */
  segmentMaps: Record<string, SegmentMapCells>;
  /** The service's own CPU time and memory now. */
  resources: ResourceInfo;
}

/** What is going on now: active downloads, their segment maps, and the service's resource use. */
export namespace StatusRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/status' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(StatusRequest.type)`. */
  export const type = new RequestType0<StatusResult, MultigetErrorData>(method);
}

/** Result of `multiget/exportTrace`. */
export interface ExportTraceResult {
  /** The trace as Chrome trace-event JSON text (loads in ui.perfetto.dev and chrome://tracing). */
  trace: string;
  /** A suggested file name (`NAME.trace.json`). */
  fileName: string;
}

/**
 * A download's trace: every run the service saw of it, one track per connection, a span per range
 * request, instants for splits, retries, stalls and checkpoints. The service records every download
 * it runs, keeping a bounded trace (the newest events) for active downloads and the most recent
 * finished ones; `MG_ERR_INVALID_STATE` when it has none (the download has not run since the
 * service started, or its trace was dropped).
 */
export namespace ExportTraceRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/exportTrace' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(ExportTraceRequest.type, { id })`. */
  export const type = new RequestType<IdParams, ExportTraceResult, MultigetErrorData>(method);
}

// ---- whole folders ----

/**
 * Params of `multiget/addFolder`: a remote folder tree (FTP, FTPS, SFTP: schemes whose plugin can
 * list a folder) downloaded through the queue, one download per file.
 */
export interface AddFolderParams {
  /** The folder (`ftp:`, `ftps:`, `sftp:`); a missing trailing `/` is added. Credentials in the URL are kept in memory only. */
  url: string;
  /**
   * The local folder to mirror the tree into, exactly (created when missing). Absolute, or relative
   * to the download directory ({@link Settings.dir}), same path rules as {@link AddParams.output}.
   * Not together with `dir`.
   */
  output?: string;
  /**
   * Directory in which a folder named after the remote one is created (the last segment of its URL,
   * sanitised; the host for a server's root). Default: the download directory. Same path rules as `output`.
   */
  dir?: string;
  /**
   * Globs of files to take (`*`, `**`, `?`, `[...]`, `{a,b}`; without `/` they match the base name,
   * with one the path inside the folder), at most 100. None: every file.
   */
  include?: string[];
  /** Globs of files and folders to leave out (a folder left out is not entered); exclusion wins. At most 100. */
  exclude?: string[];
  /** Levels of subfolders to enter below the folder (0..64): 0 takes only its own files. Default: all (up to 64). */
  depth?: number;
  /** Connections for each file's download (1..256). Default: {@link Settings.connections}. */
  connections?: number;
  /**
   * `auto`: verify each file against a checksum file found beside it (`NAME.sha256`, `SHA256SUMS`,
   * ...). A fixed `ALGO=HEX` names one file and is refused (`MG_ERR_INVALID_OPTION`).
   */
  checksum?: string;
  /** Priority of each file's download (-1000000..1000000). Default 0. */
  priority?: number;
  /** Bytes per second for each file's download (≥ 1). */
  rateLimit?: number;
  /** When a file of the tree exists locally with another size: `fail` (the default), `rename` or `overwrite`. */
  existing?: 'fail' | 'rename' | 'overwrite';
  /** Credentials for the listing and every file (FTP login, SSH user), held in memory only. */
  credentials?: DownloadCredentials;
  /** `true`: always download, never copy from the content store (see {@link AddParams.noCache}). */
  noCache?: boolean;
}

/** A file of the folder that was not queued because it is already complete. */
export interface FolderFileInfo {
  /** Its path on the server below the folder, as listed (`/`-separated). */
  remotePath: string;
  /** Absolute path of the local file. */
  file: string;
  /** Size in bytes, as listed, or `null` when the listing did not tell. */
  size: number | null;
}

/** An entry of the folder that is not downloaded, and why. */
export interface SkippedEntryInfo {
  /** Its path on the server below the folder, as listed. */
  remotePath: string;
  /** Why, for the user (a symbolic link, a device, an unsafe name, a subfolder that could not be listed). */
  reason: string;
}

/** Result of `multiget/addFolder`: what it queued, what was already there, what it left out. */
export interface AddFolderResult {
  /** Absolute path of the local folder. */
  folder: string;
  /**
   * One download per file to fetch (new or partial), in listing order (folder by folder, names
   * sorted); each is also announced by `multiget/changed`. A file whose download is already in the
   * list, unfinished, answers that download.
   */
  downloads: DownloadInfo[];
  /** Files not queued because a regular file of the listed size already stands at their place. */
  complete: FolderFileInfo[];
  /** Entries left out: links (never followed), devices, unsafe or clashing names, subfolders that failed to list. */
  skipped: SkippedEntryInfo[];
}

/**
 * Downloads a remote folder tree through the queue: lists it (the listing happens before the
 * answer, so a folder that cannot be listed fails the request with its error code), creates the
 * local folders, and adds one download per file, so limits, priorities, pause and resume apply
 * per file. Asking again skips complete files and resumes partial ones. Refused with
 * `MG_ERR_UNSUPPORTED_PROTOCOL` for a scheme whose plugin cannot list (`http:`, `https:`), and
 * with `MG_ERR_UNSAFE_PATH` when a file would land in the state directory (nothing is queued then).
 */
export namespace AddFolderRequest {
  /** The JSON-RPC method name. */
  export const method = 'multiget/addFolder' as const;
  /** Clients send it; the service answers. */
  export const messageDirection = MessageDirection.clientToServer;
  /** The typed message: `connection.sendRequest(AddFolderRequest.type, { url, dir })`. */
  export const type = new RequestType<AddFolderParams, AddFolderResult, MultigetErrorData>(method);
}
