import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  type NotificationType,
  type RequestParam,
  type RequestType,
  type RequestType0,
  type CloseHandlerResult,
  type ErrorHandler,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type ServerOptions,
  type StreamInfo,
} from 'vscode-languageclient/node';
import { openService, readEndpoint, startDetachedService, type ServiceSocket } from '@multiget/server/connect';
import {
  AddManyRequest,
  AddRequest,
  GetRequest,
  GetSettingsRequest,
  InfoRequest,
  ListRequest,
  PauseAllRequest,
  PauseRequest,
  ResumeAllRequest,
  ResumeRequest,
  SetSettingsRequest,
  StopServiceRequest,
  type ServiceInfo,
} from '@multiget/server/protocol';
import { isConnectionError } from './requests';
import { REQUIRED_NODE, nodeVersionSatisfies, proxyLaunch, serviceEnvironment, type HttpProxySettings } from '../model/settings';

/** Where the connection to the service stands; the status bar and the panel show it. */
export type ServiceStatus =
  /** Connecting to the shared service, or starting it (also while reconnecting after it went away). */
  | { kind: 'starting' }
  | { kind: 'running'; info: ServiceInfo }
  | { kind: 'failed'; message: string }
  | { kind: 'stopped' };

/** Connection losses tolerated within {@link RESTART_WINDOW_MS} before the extension gives up. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 3 * 60_000;
/** Pauses before reconnecting after the connection was lost: at once first, then backing off. */
const RECONNECT_DELAYS_MS = [0, 250, 1000, 2000, 5000] as const;
/** How long a request waits for the service to be connected before it fails. */
const READY_TIMEOUT_MS = 30_000;
/** A request that waits longer than this for the service says so in a progress notification. */
const PROGRESS_DELAY_MS = 400;
/** How long disconnecting (LSP shutdown/exit of this window's session) may take. */
const STOP_TIMEOUT_MS = 3000;
/** How long "Restart Service" waits for the old service to close in order before killing it. */
const SERVICE_EXIT_TIMEOUT_MS = 15_000;

/** Requests that may be sent again after a reconnection without doing anything twice. */
const RESENDABLE: ReadonlySet<string> = new Set([
  InfoRequest.method,
  ListRequest.method,
  GetRequest.method,
  GetSettingsRequest.method,
  SetSettingsRequest.method,
  PauseRequest.method,
  ResumeRequest.method,
  PauseAllRequest.method,
  ResumeAllRequest.method,
  // The same URL to the same target answers the existing download: adding twice adds once.
  AddRequest.method,
  AddManyRequest.method,
]);

/** What {@link ServiceConnection} needs from the extension. */
export interface ServiceConnectionOptions {
  /** Absolute path of the bundled service (dist/server.mjs). */
  serverModule: string;
  /** The service's state directory (under the extension's global storage). */
  stateDir: string;
  /** The download directory to start with (`--dir`). */
  downloadDir: () => string;
  /** VS Code's proxy settings, read at each start. */
  httpSettings: () => HttpProxySettings;
  /** `multiget.serverRuntime`: a Node.js to run the service with when the extension host's is too old. */
  runtimeSetting: () => string;
  output: vscode.LogOutputChannel;
  /** Called each time the connection is (re)established, once `status` says running. */
  onReady: (info: ServiceInfo) => Promise<void>;
}

/**
 * The extension's side of the service. There is one service per user and machine (per state
 * directory), shared by every VS Code window: this connects to it over its private socket, or
 * starts it detached when none runs (it outlives this window and exits by itself when idle), and
 * reconnects when the connection is lost. Two windows starting it at once end with one service
 * (the state directory's lock decides; the other connects). See packages/server/README.md.
 *
 * It owns no download logic; requests and notifications pass through with their protocol types.
 * No error of the language client reaches the user as a raw toast: connection trouble shows as
 * the status (status bar and panel), and requests wait for a reconnection.
 */
export class ServiceConnection implements vscode.Disposable {
  #client: LanguageClient | undefined;
  #status: ServiceStatus = { kind: 'stopped' };
  /** Set while this window stops on purpose (deactivate, restart): no reconnection then. */
  #stopping = false;
  /** Set while "Restart Service" stops the shared service. */
  #restarting = false;
  #disposed = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #losses: number[] = [];
  #generation = 0;
  /** Set while looking for the service or starting it. */
  #connecting = false;
  /** The token of the service the current client talks to, sent in `initialize`. */
  #token = '';
  readonly #statusEmitter = new vscode.EventEmitter<ServiceStatus>();
  readonly #notificationHandlers: Array<(client: LanguageClient) => void> = [];

  /** Fires when {@link status} changes. */
  readonly onDidChangeStatus = this.#statusEmitter.event;

  constructor(private readonly options: ServiceConnectionOptions) {}

  /** Where the connection stands now. */
  get status(): ServiceStatus {
    return this.#status;
  }

  /** The process id of the running service, for diagnostics and the crash test. */
  get processId(): number | undefined {
    return this.#status.kind === 'running' ? this.#status.info.pid : undefined;
  }

  /**
   * Listens to a notification of `@multiget/server/protocol` (its `type`) for the life of this
   * object, across reconnections: handlers are registered on every new client.
   */
  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): void {
    const register = (client: LanguageClient): void => void client.onNotification(type, handler);
    this.#notificationHandlers.push(register);
    if (this.#client !== undefined) register(this.#client);
  }

  /**
   * Sends a request of `@multiget/server/protocol` (its `type`, e.g. `AddRequest.type`). While the
   * service is starting or reconnecting, it waits for it (at most 30 s). Rejects with the service's
   * JSON-RPC error (its `data.code` is the `MG_ERR_…` code; see `describeRequestError`), or with a
   * plain message when the service cannot be reached; never with the language client's own
   * connection errors.
   */
  request<R, E>(type: RequestType0<R, E>): Promise<R>;
  request<P, R, E>(type: RequestType<P, R, E>, params: P): Promise<R>;
  async request<P, R, E>(type: RequestType0<R, E> | RequestType<P, R, E>, ...params: [] | [P]): Promise<R> {
    const lost = 'The connection to the Multiget service was lost while it handled this request; it reconnects by itself. Check the Downloads panel, and try again if needed.';
    for (let attempt = 0; attempt < 2; attempt++) {
      await this.#waitWithProgress();
      const client = this.#client;
      if (client === undefined) continue;
      try {
        return params.length === 0
          ? await client.sendRequest(type as RequestType0<R, E>)
          : // RequestParam<P> is conditional on P, which TypeScript cannot resolve for a generic P.
            await client.sendRequest(type as RequestType<P, R, E>, params[0] as RequestParam<P>);
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        if (!RESENDABLE.has(type.method)) throw new Error(lost, { cause: err });
        // Sent again once the connection is back (see RESENDABLE).
      }
    }
    throw new Error(lost);
  }

  /**
   * {@link whenReady} for a request: what the user asked for waits for a starting service instead of
   * failing, and a wait longer than a moment shows "Waiting for the Multiget service…", so that the
   * first command of a fresh window neither fails nor seems to do nothing.
   */
  async #waitWithProgress(): Promise<void> {
    if (this.#status.kind === 'running' && !this.#restarting && this.#client !== undefined) return;
    const ready = this.whenReady(READY_TIMEOUT_MS);
    const shown = setTimeout(() => {
      void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Waiting for the Multiget service…' }, () =>
        ready.then(
          () => undefined,
          () => undefined,
        ),
      );
    }, PROGRESS_DELAY_MS);
    try {
      await ready;
    } finally {
      clearTimeout(shown);
    }
  }

  /**
   * Resolves with the service's info once connected (at once if it is), starting the connection
   * if nothing is under way. Rejects after `timeoutMs`, or when the connection fails for good or
   * is stopped.
   */
  whenReady(timeoutMs = READY_TIMEOUT_MS): Promise<ServiceInfo> {
    const now = this.#status;
    // Running but restarting (the old service is on its way out): wait for its successor.
    if (now.kind === 'running' && !this.#restarting && this.#client !== undefined) return Promise.resolve(now.info);
    if (now.kind === 'failed') return Promise.reject(new Error(now.message));
    if (now.kind === 'stopped' && !this.#stopping && !this.#restarting && !this.#disposed) void this.start();
    return new Promise<ServiceInfo>((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.dispose();
        reject(new Error(`The Multiget service did not answer within ${Math.round(timeoutMs / 1000)} s; see the "Multiget" output.`));
      }, timeoutMs);
      const sub = this.onDidChangeStatus((s) => {
        if (s.kind === 'starting') return;
        if (s.kind === 'stopped' && (this.#stopping || this.#restarting)) return;
        clearTimeout(timer);
        sub.dispose();
        if (s.kind === 'running') resolve(s.info);
        else reject(new Error(s.kind === 'failed' ? s.message : 'The Multiget service is not running.'));
      });
    });
  }

  /** Connects to the shared service, starting it if none runs (no-op while connected or connecting). */
  async start(): Promise<void> {
    if (this.#client !== undefined || this.#connecting || this.#stopping || this.#disposed) return;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const generation = ++this.#generation;
    this.#setStatus({ kind: 'starting' });
    this.#connecting = true;
    let found: ServiceSocket & { started: boolean };
    try {
      found = await this.#connectOrStart();
    } catch (err) {
      if (generation !== this.#generation) return;
      this.options.output.error(`Cannot reach the Multiget service: ${errorText(err)}`);
      this.#lost(`The Multiget service could not be started: ${errorText(err)}`);
      return;
    } finally {
      this.#connecting = false;
    }
    if (generation !== this.#generation || this.#stopping || this.#disposed) {
      found.socket.destroy();
      return;
    }
    this.options.output.info(
      found.started ? `Started the Multiget service (pid ${found.endpoint.pid}).` : `Connected to the running Multiget service (pid ${found.endpoint.pid}).`,
    );
    this.#token = found.endpoint.token;
    const socket = found.socket;
    const serverOptions: ServerOptions = () => Promise.resolve<StreamInfo>({ reader: socket, writer: socket, detached: true });
    const client = new LanguageClient('multiget', 'Multiget service', serverOptions, this.#clientOptions(generation));
    this.#client = client;
    for (const register of this.#notificationHandlers) register(client);
    try {
      await client.start();
    } catch (err) {
      if (generation !== this.#generation) return;
      this.options.output.error(`The Multiget service did not accept the connection: ${errorText(err)}`);
      this.#dropClient();
      this.#lost(`The Multiget service did not accept the connection: ${errorText(err)}`);
      return;
    }
    if (generation !== this.#generation) return;
    try {
      const info = await client.sendRequest(InfoRequest.type);
      if (generation !== this.#generation) return;
      this.#setStatus({ kind: 'running', info });
      await this.options.onReady(info);
    } catch (err) {
      this.options.output.error(`The service was connected but did not answer: ${errorText(err)}`);
    }
  }

  /**
   * Leaves the service: this window's session ends (LSP shutdown and exit), the service and its
   * downloads go on for the other windows, or until it is idle.
   */
  async stop(): Promise<void> {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const client = this.#client;
    this.#client = undefined;
    this.#generation++;
    if (client === undefined) {
      this.#setStatus({ kind: 'stopped' });
      return;
    }
    this.#stopping = true;
    try {
      if (client.isRunning()) await client.stop(STOP_TIMEOUT_MS);
    } catch (err) {
      this.options.output.warn(`Disconnecting from the service: ${errorText(err)}`);
    } finally {
      void client.dispose().catch(() => undefined);
      this.#stopping = false;
      this.#setStatus({ kind: 'stopped' });
    }
  }

  /**
   * "Restart Service": stops the shared service in order (every window reconnects to its
   * successor; running downloads pause and continue in the new one) and connects again, which
   * starts a new service with this window's settings. A service that does not stop in time is
   * killed: it is this user's, named by its endpoint file.
   */
  async restart(): Promise<void> {
    this.#losses = [];
    // The connection drops when the service stops: that is this restart, not a loss to react to.
    // Until the new service answers, requests wait for it (whenReady) instead of reaching the old one.
    this.#restarting = true;
    try {
      await this.#stopSharedService();
      await this.stop();
    } finally {
      this.#restarting = false;
    }
    await this.start();
  }

  async #stopSharedService(): Promise<void> {
    const endpoint = await readEndpoint(this.options.stateDir);
    const client = this.#client;
    if (client !== undefined && this.#status.kind === 'running') {
      await withTimeout(client.sendRequest(StopServiceRequest.type), 3000).catch((err: unknown) => {
        this.options.output.warn(`Asking the service to stop: ${errorText(err)}`);
      });
    } else if (endpoint !== undefined && isAlive(endpoint.pid)) {
      try {
        process.kill(endpoint.pid, 'SIGTERM');
      } catch {
        // Gone already.
      }
    }
    if (endpoint !== undefined) await this.#waitGone(endpoint.pid);
  }

  dispose(): void {
    this.#disposed = true;
    void this.stop();
    this.#statusEmitter.dispose();
  }

  async #waitGone(pid: number): Promise<void> {
    const deadline = Date.now() + SERVICE_EXIT_TIMEOUT_MS;
    while (isAlive(pid)) {
      if (Date.now() > deadline) {
        this.options.output.warn(`The service (pid ${pid}) did not stop within ${SERVICE_EXIT_TIMEOUT_MS / 1000} s; killing it (partial data is kept).`);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Forgets the current client without waiting for it. */
  #dropClient(): void {
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) void client.dispose().catch(() => undefined);
  }

  /**
   * The connection is gone or could not be made: reconnect after a pause, unless that happened
   * too often, then say so once (the status bar and panel carry the message).
   */
  #lost(failure: string): void {
    if (this.#stopping || this.#restarting || this.#disposed) return;
    const now = Date.now();
    this.#losses = [...this.#losses.filter((t) => now - t < RESTART_WINDOW_MS), now];
    if (this.#losses.length > MAX_RESTARTS) {
      this.#setStatus({
        kind: 'failed',
        message: `${failure} It failed ${MAX_RESTARTS + 1} times in 3 minutes; run "Multiget: Restart Service" to try again (details in the "Multiget" output).`,
      });
      return;
    }
    this.#setStatus({ kind: 'starting' });
    const delay = RECONNECT_DELAYS_MS[Math.min(this.#losses.length - 1, RECONNECT_DELAYS_MS.length - 1)];
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.start();
    }, delay);
  }

  #setStatus(status: ServiceStatus): void {
    this.#status = status;
    if (!this.#disposed) this.#statusEmitter.fire(status);
  }

  async #connectOrStart(): Promise<ServiceSocket & { started: boolean }> {
    const stateDir = this.options.stateDir;
    await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
    return openService({
      stateDir,
      start: async () => {
        const launch = proxyLaunch(this.options.httpSettings(), process.env);
        const runtime = await this.#runtime();
        const args = [
          // --max-semi-space-size=1: see packages/cli/bin/multiget.js; without it 16 connections pile
          // up ~100 MiB of socket buffers between young-generation scavenges.
          '--max-semi-space-size=1',
          this.options.serverModule,
          '--listen',
          '--state-dir',
          stateDir,
          '--dir',
          this.options.downloadDir(),
        ];
        if (launch.insecure) args.push('--insecure');
        this.options.output.info(`Starting the Multiget service (log: ${path.join(stateDir, 'service.log')}).`);
        return startDetachedService({
          execPath: runtime ?? process.execPath,
          args,
          env: serviceEnvironment(process.env, launch),
          logFile: path.join(stateDir, 'service.log'),
        });
      },
    });
  }

  /**
   * The Node.js to run the service with: the extension host's own when it is new enough (the
   * usual case), else `multiget.serverRuntime`, else a `node` on PATH that is new enough.
   */
  async #runtime(): Promise<string | undefined> {
    if (nodeVersionSatisfies(process.versions.node)) return undefined;
    const candidates = [this.options.runtimeSetting().trim(), 'node'].filter((c) => c !== '');
    for (const candidate of candidates) {
      const version = await new Promise<string | undefined>((resolve) => {
        execFile(candidate, ['--version'], { timeout: 5000 }, (err, stdout) => resolve(err ? undefined : stdout));
      });
      if (version !== undefined && nodeVersionSatisfies(version)) return candidate;
    }
    throw new Error(
      `it needs Node.js ${REQUIRED_NODE.join('.')} or later, this VS Code has ${process.versions.node}; ` +
        'install a newer Node.js and set "multiget.serverRuntime" to it (or put it on PATH)',
    );
  }

  #clientOptions(generation: number): LanguageClientOptions {
    const output = this.options.output;
    // Every outcome is handled here and reported through the status: `handled: true` keeps the
    // language client from raising its own toasts.
    const errorHandler: ErrorHandler = {
      error: (error, _message, count): ErrorHandlerResult => {
        output.warn(`The connection to the service reported: ${error.message}`);
        return (count ?? 0) <= 3 ? { action: ErrorAction.Continue, handled: true } : { action: ErrorAction.Shutdown, handled: true };
      },
      closed: (): CloseHandlerResult => {
        if (generation === this.#generation && !this.#stopping && !this.#disposed) {
          // At once, so that requests made from now on wait for the new connection.
          this.#setStatus({ kind: 'starting' });
        }
        if (generation === this.#generation && !this.#stopping && !this.#restarting && !this.#disposed) {
          output.warn('The connection to the Multiget service was lost; reconnecting.');
          // After the client has settled in its stopped state: a new one is made for the new connection.
          setTimeout(() => {
            if (generation !== this.#generation) return;
            this.#dropClient();
            this.#lost('The Multiget service went away.');
          }, 0);
        }
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    };
    return {
      documentSelector: [],
      outputChannel: output,
      errorHandler,
      // The service's token, read with the endpoint for this very connection.
      initializationOptions: () => ({ token: this.#token }),
      // A refused initialize is reported through the status, never as the client's own toast.
      initializationFailedHandler: (error) => {
        output.error(`The service refused the connection: ${errorText(error)}`);
        return false;
      },
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      connectionOptions: { maxRestartCount: 0 },
    };
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
