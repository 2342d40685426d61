import { type EntrySnapshot, type HistoryEntry, type Manager, type ManagerEvents, type ResourceUsage, redactText, resourceUsage } from '@multiget/core';
import { type Connection, ErrorCodes, ResponseError } from 'vscode-languageserver';
import type { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import { toDownloadInfo, toHistoryInfo, toSettings } from './dto.js';
import {
  type PathRules,
  parseAddManyParams,
  parseAddParams,
  parseIdParams,
  parseResumeParams,
  parseMoveParams,
  parseNoParams,
  parseRemoveParams,
  parseSetPriorityParams,
  parseSetRateLimitParams,
  parseSetSettingsParams,
} from './params.js';
import {
  AddManyRequest,
  AddRequest,
  CancelRequest,
  ChangedNotification,
  ClearHistoryRequest,
  GetRequest,
  GetSettingsRequest,
  HistoryAddedNotification,
  HistoryRequest,
  InfoRequest,
  ListRequest,
  MoveRequest,
  MultigetErrorCodes,
  type MultigetErrorData,
  type MultigetInitializeResult,
  PauseAllRequest,
  PauseRequest,
  ProgressNotification,
  RemoveRequest,
  RemovedNotification,
  ResumeAllRequest,
  ResumeRequest,
  RetryRequest,
  type ServiceInfo,
  SetPriorityRequest,
  SetRateLimitRequest,
  SetSettingsRequest,
  StopServiceRequest,
} from './protocol.js';
import { toResponseError } from './responseError.js';
import { parseSetConnectionsParams, parseUpdateUrlParams } from './params.js';
import { ClearCompletedRequest, SetConnectionsRequest, UpdateUrlRequest } from './protocol.js';
import { formatLogMessage } from '@multiget/core';
import { LogHub, type LogSubscription, parseSetLogLevelParams } from './logForwarding.js';
import { LogNotification, SetLogLevelRequest } from './protocol.js';
import { ExportTraceRequest, type ResourceInfo, StatusRequest } from './protocol.js';
import { TraceKeeper, segmentMapsOf } from './traceKeeper.js';
import { parseAddFolderParams, resolveUserPath } from './params.js';
import { AddFolderRequest } from './protocol.js';

/** Options of a {@link Service}. */
export interface ServiceOptions {
  /** What `initialize` and `multiget/info` tell about the service. */
  info: ServiceInfo;
  /** Where diagnostics go; never stdout, which may be the transport. */
  log: (line: string) => void;
  /**
   * What the client's `shutdown` ends: `manager` (the default: the client owns the service, as
   * over stdio or Node IPC) closes the manager; `session` (one of several clients of a shared
   * service) only stops this connection's notifications and requests.
   */
  shutdown?: 'manager' | 'session';
  /**
   * Runs on `multiget/stopService`, after the answer is sent: the owner of the process stops the
   * service in order. Absent, the request closes the manager like `shutdown`.
   */
  stopService?: () => void;
  /**
   * Where the manager's events come from; default the manager itself. A shared service passes one
   * relay for all its sessions, so that many clients do not pile listeners onto the manager.
   */
  events?: ManagerEventSource;
  /** The service's log, which `multiget/setLogLevel` subscribes this client to. Absent: the request is refused. */
  logs?: LogHub;
}

/** The manager's event subscription, or a relay of it. */
export interface ManagerEventSource {
  on<K extends keyof ManagerEvents & string>(event: K, listener: (...args: ManagerEvents[K]) => void): unknown;
  off<K extends keyof ManagerEvents & string>(event: K, listener: (...args: ManagerEvents[K]) => void): unknown;
}

type Handler<R> = (params: unknown) => R | Promise<R>;

/**
 * Serves a {@link Manager} over a vscode-languageserver connection: answers `initialize` (no LSP
 * capabilities, `serverInfo`, and a `multiget` block), the `multiget/*` requests of
 * `protocol.ts`, and forwards the manager's events as notifications.
 *
 * Every request's params are checked before the manager is touched, and every failure becomes a
 * JSON-RPC error with `data.code`: no request can take the service down. The service does not own
 * the process: whoever created it decides when to exit (see `runServer`).
 */
export class Service {
  readonly #manager: Manager;
  readonly #connection: Connection;
  readonly #options: ServiceOptions;
  /** Notifications wait for the client's `initialized`, as LSP asks (or its first request). */
  #notifying = false;
  #closing: Promise<void> | undefined;
  #detached = false;
  readonly #unsubscribe: Array<() => void> = [];
  #logSubscription: LogSubscription | undefined;

  /** Registers every handler on `connection`; the caller then calls `connection.listen()`. */
  constructor(manager: Manager, connection: Connection, options: ServiceOptions) {
    this.#manager = manager;
    this.#connection = connection;
    this.#options = options;
    this.#registerLifecycle();
    this.#registerRequests();
    this.#registerInsightRequests();
    this.#forwardEvents();
  }

  /** Whether {@link close} or {@link detach} has begun (after `shutdown`, a signal, or the client going away). */
  get closing(): boolean {
    return this.#closing !== undefined || this.#detached;
  }

  /**
   * Ends this client's session without touching the manager: no more notifications, later
   * requests get MG_ERR_INVALID_STATE. For one client of a shared service leaving. Idempotent.
   */
  detach(): void {
    this.#detached = true;
    this.#notifying = false;
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  /**
   * Stops forwarding events and closes the manager: running downloads stop with their partial
   * data kept (they resume on the next start), the queue is written and the lock released.
   * Idempotent; later requests get MG_ERR_INVALID_STATE.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#notifying = false;
      for (const off of this.#unsubscribe.splice(0)) off();
      await this.#manager.close();
    })();
    return this.#closing;
  }

  #registerLifecycle(): void {
    const info = this.#options.info;
    this.#connection.onInitialize((): MultigetInitializeResult => ({
      capabilities: {},
      serverInfo: { name: info.name, version: info.version },
      multiget: { ...info, schemes: [...info.schemes] },
    }));
    this.#connection.onInitialized(() => {
      if (!this.closing) this.#notifying = true;
    });
    this.#connection.onShutdown(async () => {
      if (this.#options.shutdown === 'session') this.detach();
      else await this.close();
    });
  }

  #registerRequests(): void {
    const m = this.#manager;
    const rules = (): PathRules => ({ dir: m.settings.dir, stateDir: this.#options.info.stateDir });
    const schemes = (): string[] => m.schemes;

    this.#handle(InfoRequest.type, (raw) => {
      parseNoParams(raw);
      return { ...this.#options.info, schemes: [...this.#options.info.schemes] };
    });
    this.#handle(AddRequest.type, async (raw) => {
      const { url, options } = parseAddParams(raw, schemes(), rules());
      const entry = await m.add(url, options);
      return { id: entry.id, download: toDownloadInfo(entry) };
    });
    this.#handle(AddManyRequest.type, async (raw) => {
      const items = parseAddManyParams(raw, schemes(), rules());
      // One write of the queue for the whole list (a write per item rewrote the growing queue each time).
      return { ids: (await m.addMany(items)).map((e) => e.id) };
    });
    this.#handle(StopServiceRequest.type, (raw) => {
      parseNoParams(raw);
      const stop = this.#options.stopService;
      // After the answer is on its way: the client learns that the stop was accepted.
      setImmediate(() => (stop !== undefined ? stop() : void this.close()));
      return null;
    });
    this.#handle(ListRequest.type, (raw) => {
      parseNoParams(raw);
      return { downloads: m.list().map(toDownloadInfo) };
    });
    this.#handle(GetRequest.type, (raw) => ({ download: toDownloadInfo(m.get(parseIdParams(raw).id)) }));
    this.#handle(PauseRequest.type, async (raw) => ({ download: toDownloadInfo(await m.pause(parseIdParams(raw).id)) }));
    this.#handle(ResumeRequest.type, async (raw) => {
      const p = parseResumeParams(raw);
      return { download: toDownloadInfo(await m.resume(p.id, p.credentials ? { credentials: p.credentials } : undefined)) };
    });
    this.#handle(CancelRequest.type, async (raw) => ({ download: toDownloadInfo(await m.cancel(parseIdParams(raw).id)) }));
    this.#handle(RetryRequest.type, async (raw) => {
      const p = parseResumeParams(raw);
      return { download: toDownloadInfo(await m.retry(p.id, p.credentials ? { credentials: p.credentials } : undefined)) };
    });
    this.#handle(UpdateUrlRequest.type, async (raw) => {
      const { id, url } = parseUpdateUrlParams(raw);
      return { download: toDownloadInfo(await m.updateUrl(id, url)) };
    });
    this.#handle(RemoveRequest.type, async (raw) => {
      const { id, deleteData } = parseRemoveParams(raw);
      await m.remove(id, { deleteData });
      return null;
    });
    this.#handle(PauseAllRequest.type, async (raw) => {
      parseNoParams(raw);
      await m.pauseAll();
      return null;
    });
    this.#handle(ResumeAllRequest.type, async (raw) => {
      parseNoParams(raw);
      await m.resumeAll();
      return null;
    });
    this.#handle(SetPriorityRequest.type, async (raw) => {
      const { id, priority } = parseSetPriorityParams(raw);
      return { download: toDownloadInfo(await m.setPriority(id, priority)) };
    });
    this.#handle(MoveRequest.type, async (raw) => {
      const { id, index } = parseMoveParams(raw);
      return { downloads: (await m.move(id, index)).map(toDownloadInfo) };
    });
    this.#handle(SetRateLimitRequest.type, async (raw) => {
      const { id, rateLimit } = parseSetRateLimitParams(raw);
      return { download: toDownloadInfo(await m.setRateLimit(id, rateLimit ?? undefined)) };
    });
    this.#handle(HistoryRequest.type, (raw) => {
      parseNoParams(raw);
      return { entries: m.history().map(toHistoryInfo) };
    });
    this.#handle(ClearHistoryRequest.type, async (raw) => {
      parseNoParams(raw);
      await m.clearHistory();
      return null;
    });
    this.#handle(GetSettingsRequest.type, (raw) => {
      parseNoParams(raw);
      return { settings: toSettings(m.settings) };
    });
    this.#handle(SetSettingsRequest.type, async (raw) => {
      const patch = parseSetSettingsParams(raw, this.#options.info.stateDir);
      return { settings: toSettings(await m.setSettings(patch)) };
    });
    this.#registerPanelRequests();
    this.#registerLogRequests();
    this.#registerFolderRequests();
  }

  /**
   * `multiget/addFolder`: the manager's `addFolder`, with the service's path rule as its check of
   * every file, made before any is queued: the tree names the files, and one named like the state
   * directory's path below the chosen folder must not land there. Nothing is queued when one would.
   */
  #registerFolderRequests(): void {
    const m = this.#manager;
    this.#handle(AddFolderRequest.type, async (raw) => {
      const rules: PathRules = { dir: m.settings.dir, stateDir: this.#options.info.stateDir };
      const { url, folder, each } = parseAddFolderParams(raw, m.schemes, rules);
      const added = await m.addFolder(url.href, { ...each, ...folder }, (f) => resolveUserPath(f.output, `The folder's file "${f.remotePath}"`, rules));
      return {
        folder: added.folder,
        downloads: added.entries.map(toDownloadInfo),
        complete: added.complete.map((f) => ({ remotePath: f.remotePath, file: f.output, size: f.size ?? null })),
        skipped: added.skipped.map((s) => ({ remotePath: s.remotePath, reason: redactText(s.reason) })),
      };
    });
  }

  /** `multiget/setLogLevel`: this client's share of the service's log, as `multiget/log` notifications. */
  #registerLogRequests(): void {
    this.#handle(SetLogLevelRequest.type, (raw) => {
      const { level } = parseSetLogLevelParams(raw);
      // A service given no log (tests, embedders) has nothing to forward: a hub that never hears a line.
      const hub = (this.#options.logs ??= new LogHub());
      if (this.#logSubscription !== undefined) {
        this.#logSubscription.setLevel(level);
      } else {
        const subscription = hub.subscribe(level, (lineLevel, msg, fields) =>
          this.#notify(LogNotification.type, { level: lineLevel, message: formatLogMessage(msg, fields), ...(fields ? { fields } : {}) }),
        );
        this.#logSubscription = subscription;
        this.#unsubscribe.push(() => {
          subscription.dispose();
          this.#logSubscription = undefined;
        });
      }
      return null;
    });
  }

  /** The Downloads panel's requests: per-download connections, and clearing finished rows. */
  #registerPanelRequests(): void {
    const m = this.#manager;
    this.#handle(SetConnectionsRequest.type, async (raw) => {
      const { id, connections } = parseSetConnectionsParams(raw);
      return { download: toDownloadInfo(await m.setConnections(id, connections)) };
    });
    this.#handle(ClearCompletedRequest.type, async (raw) => {
      parseNoParams(raw);
      return { ids: await m.clearCompleted() };
    });
  }

  /** Segment maps, resource use and traces (see traceKeeper.ts). */
  #registerInsightRequests(): void {
    const m = this.#manager;
    const traces = TraceKeeper.of(m);
    this.#handle(StatusRequest.type, (raw) => {
      parseNoParams(raw);
      const active = m.list().filter((e) => m.running(e.id) !== undefined);
      return { downloads: active.map(toDownloadInfo), segmentMaps: segmentMapsOf(m, active), resources: toResourceInfo(resourceUsage()) };
    });
    this.#handle(ExportTraceRequest.type, (raw) => {
      const { id } = parseIdParams(raw);
      m.get(id);
      const trace = traces.trace(id);
      if (!trace) {
        throw new ResponseError(ErrorCodes.InvalidRequest, 'No trace of this download: it has not run since the service started', {
          code: MultigetErrorCodes.INVALID_STATE,
        });
      }
      return { trace: trace.text, fileName: trace.fileName };
    });
  }

  /**
   * Registers a request by its method name rather than its typed signature: vscode-jsonrpc would
   * otherwise answer missing params itself, without our `data.code`. Params arrive as the handler's
   * arguments followed by a cancellation token (an array is spread), so one object, none, or a
   * one-element array all reach `run` as that object; anything else is refused.
   */
  #handle<R>(type: RequestType<unknown, R, MultigetErrorData> | RequestType0<R, MultigetErrorData>, run: Handler<R>): void {
    const method = type.method;
    this.#connection.onRequest(method, async (...args: unknown[]): Promise<R | ResponseError<MultigetErrorData>> => {
      args.pop();
      try {
        if (this.closing) {
          throw new ResponseError(ErrorCodes.InvalidRequest, 'The service is shutting down', { code: MultigetErrorCodes.INVALID_STATE });
        }
        // A client that skipped the LSP handshake still gets notifications once it talks to us.
        this.#notifying = true;
        if (args.length > 1) {
          throw new ResponseError(ErrorCodes.InvalidParams, `${method} takes one params object, not ${args.length} positional params`, {
            code: MultigetErrorCodes.INVALID_OPTION,
          });
        }
        return await run(args[0]);
      } catch (err) {
        return toResponseError(method, err, (where, e) => this.#logError(where, e));
      }
    });
  }

  #forwardEvents(): void {
    const m = this.#options.events ?? this.#manager;
    const changed = (entry: EntrySnapshot): void => this.#notify(ChangedNotification.type, { download: toDownloadInfo(entry) });
    const removed = (id: string): void => this.#notify(RemovedNotification.type, { id });
    // The manager already coalesces progress (one event per interval for all active downloads),
    // so forwarding each event keeps the promise of a few notifications per second in total.
    const progress = (entries: EntrySnapshot[], resources: ResourceUsage): void =>
      this.#notify(ProgressNotification.type, {
        downloads: entries.map(toDownloadInfo),
        segmentMaps: segmentMapsOf(this.#manager, entries),
        resources: toResourceInfo(resources),
      });
    const history = (entry: HistoryEntry): void => this.#notify(HistoryAddedNotification.type, { entry: toHistoryInfo(entry) });
    m.on('changed', changed);
    m.on('removed', removed);
    m.on('progress', progress);
    m.on('history', history);
    this.#unsubscribe.push(
      () => m.off('changed', changed),
      () => m.off('removed', removed),
      () => m.off('progress', progress),
      () => m.off('history', history),
    );
  }

  #notify<P>(type: NotificationType<P>, params: P): void {
    if (!this.#notifying) return;
    // A client that went away makes the write fail; the close of the transport ends the service.
    this.#connection.sendNotification(type.method, params).catch(() => undefined);
  }

  #logError(method: string, err: unknown): void {
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    this.#options.log(`${method} failed: ${detail}`);
  }
}

/** The core's figures as the protocol shows them. */
function toResourceInfo(u: ResourceUsage): ResourceInfo {
  return {
    cpuUserMs: u.cpuUserMs,
    cpuSystemMs: u.cpuSystemMs,
    rssBytes: u.rssBytes,
    heapUsedBytes: u.heapUsedBytes,
    heapTotalBytes: u.heapTotalBytes,
    externalBytes: u.externalBytes,
  };
}
