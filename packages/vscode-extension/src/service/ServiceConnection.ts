import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import type { Readable } from 'node:stream';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  TransportKind,
  type CloseHandlerResult,
  type ErrorHandler,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import type { ServiceInfo } from '@multiget/server/protocol';
import { REQUIRED_NODE, nodeVersionSatisfies, proxyLaunch, type HttpProxySettings } from '../model/settings';
import type { NotificationMap, NotificationMethod, ParamsOf, RequestMethod, ResultOf } from './requests';

/** Where the connection to the service stands; the status bar and the panel show it. */
export type ServiceStatus =
  | { kind: 'starting' }
  | { kind: 'running'; info: ServiceInfo }
  /** Another VS Code window's service holds the state directory; retried every few seconds. */
  | { kind: 'locked' }
  | { kind: 'failed'; message: string }
  | { kind: 'stopped' };

/** Crashes tolerated within {@link RESTART_WINDOW_MS} before the extension stops restarting. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 3 * 60_000;
/**
 * How long a window whose state directory is locked waits before trying again: quickly at first
 * (after a window reload the old service may still be writing its queue), then every 30 s, since
 * each try starts a process; a command used in this window tries at once.
 */
const LOCKED_RETRY_MS = [500, 1000, 2000, 4000, 10_000, 30_000] as const;
/** How long a request waits for a starting service before it gives up (see `whenReady`). */
const READY_TIMEOUT_MS = 30_000;
/** How long `stop()` waits for the service's orderly shutdown (it writes its queue) before killing it. */
const STOP_TIMEOUT_MS = 4000;

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
  /** Called each time the service (re)starts and answers, before `status` says running. */
  onReady: (info: ServiceInfo) => Promise<void>;
}

/**
 * The extension's side of the service: starts the bundled service with vscode-languageclient over
 * Node IPC, restarts it when it crashes, and stops it on deactivation. It owns no download logic;
 * requests and notifications are passed through with their protocol types.
 *
 * One state directory per user means one service: a second VS Code window finds it locked
 * (`MG_ERR_STATE_LOCKED`), says so, and takes over when the first window closes.
 */
export class ServiceConnection implements vscode.Disposable {
  #client: LanguageClient | undefined;
  #status: ServiceStatus = { kind: 'stopped' };
  #stopping = false;
  #locked = false;
  #lockedAttempts = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #crashes: number[] = [];
  #generation = 0;
  readonly #statusEmitter = new vscode.EventEmitter<ServiceStatus>();
  readonly #notificationHandlers: Array<{ method: string; handler: (params: unknown) => void }> = [];

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
   * Listens to a notification for the life of this object (across restarts: handlers are
   * registered on every new client).
   */
  onNotification<M extends NotificationMethod>(method: M, handler: (params: NotificationMap[M]) => void): void {
    const entry = { method, handler: handler as (params: unknown) => void };
    this.#notificationHandlers.push(entry);
    this.#client?.onNotification(method, entry.handler);
  }

  /**
   * Sends a request to the running service. Rejects when the service is not running, or with the
   * service's JSON-RPC error (its `data.code` is the `MG_ERR_…` code; see `describeRequestError`).
   */
  async request<M extends RequestMethod>(method: M, ...params: ParamsOf<M> extends void ? [] : [ParamsOf<M>]): Promise<ResultOf<M>> {
    if (this.#status.kind !== 'running' || this.#client === undefined) await this.whenReady();
    const client = this.#client;
    if (client === undefined || this.#status.kind !== 'running') {
      // The user wants this window to work now: try to take the state directory over at once.
      if (this.#status.kind === 'locked') void this.start();
      throw new Error(this.#notRunningMessage());
    }
    const result: unknown = params.length === 0 ? await client.sendRequest(method) : await client.sendRequest(method, params[0]);
    return result as ResultOf<M>;
  }

  /** Starts the service (no-op while one is running or starting). */
  async start(): Promise<void> {
    if (this.#client !== undefined || this.#stopping) return;
    clearTimeout(this.#retryTimer);
    this.#locked = false;
    const generation = ++this.#generation;
    this.#setStatus({ kind: 'starting' });
    let client: LanguageClient;
    try {
      await fs.mkdir(this.options.stateDir, { recursive: true });
      client = new LanguageClient('multiget', 'Multiget service', await this.#serverOptions(), this.#clientOptions());
    } catch (err) {
      this.#setStatus({ kind: 'failed', message: `Cannot start the Multiget service: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    this.#client = client;
    for (const { method, handler } of this.#notificationHandlers) client.onNotification(method, handler);
    client.onDidChangeState(({ newState }) => {
      // A restart after a crash goes Running → Starting → Running; catch up every time it is back.
      if (newState === State.Running && generation === this.#generation) void this.#whenRunning(client, generation);
      if (newState === State.Starting && generation === this.#generation) this.#setStatus({ kind: 'starting' });
    });
    try {
      await client.start();
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#client = undefined;
      void client.dispose().catch(() => undefined);
      if (this.#locked) {
        this.#setStatus({ kind: 'locked' });
        const delay = LOCKED_RETRY_MS[Math.min(this.#lockedAttempts++, LOCKED_RETRY_MS.length - 1)];
        this.#retryTimer = setTimeout(() => void this.start(), delay);
      } else {
        this.#setStatus({ kind: 'failed', message: `The Multiget service did not start: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
  }

  /** Stops the service in order (it keeps partial data and its queue) and forgets the client. */
  async stop(): Promise<void> {
    clearTimeout(this.#retryTimer);
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
      this.options.output.warn(`Stopping the service: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.#stopping = false;
      this.#setStatus({ kind: 'stopped' });
    }
  }

  /** Stops and starts again (new proxy settings, or the user asked). */
  async restart(): Promise<void> {
    await this.stop();
    this.#crashes = [];
    await this.start();
  }

  dispose(): void {
    void this.stop();
    this.#statusEmitter.dispose();
  }

  async #whenRunning(client: LanguageClient, generation: number): Promise<void> {
    try {
      const info = (await client.sendRequest('multiget/info')) as ServiceInfo;
      if (generation !== this.#generation) return;
      this.#lockedAttempts = 0;
      this.#setStatus({ kind: 'running', info });
      await this.options.onReady(info);
    } catch (err) {
      this.options.output.error(`The service started but did not answer: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  #setStatus(status: ServiceStatus): void {
    this.#status = status;
    this.#statusEmitter.fire(status);
  }

  #notRunningMessage(): string {
    switch (this.#status.kind) {
      case 'starting':
        return 'The Multiget service is starting; try again in a moment.';
      case 'locked':
        return 'Multiget runs its downloads in another VS Code window; use that window, or close it to take over.';
      case 'failed':
        return this.#status.message;
      default:
        return 'The Multiget service is not running.';
    }
  }

  async #serverOptions(): Promise<ServerOptions> {
    const launch = proxyLaunch(this.options.httpSettings(), process.env);
    const args = ['--state-dir', this.options.stateDir, '--dir', this.options.downloadDir()];
    if (launch.insecure) args.push('--insecure');
    const runtime = await this.#runtime();
    const module = {
      module: this.options.serverModule,
      transport: TransportKind.ipc,
      args,
      ...(runtime !== undefined ? { runtime } : {}),
      // --max-semi-space-size=1: see packages/cli/bin/multiget.js; without it 16 connections pile up
      // ~100 MiB of socket buffers between young-generation scavenges.
      options: { execArgv: ['--max-semi-space-size=1'], env: launch.env },
    };
    return { run: module, debug: module };
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

  /**
   * Resolves once the service is running. While it starts (the first seconds of a window, a
   * restart) a request waits here, bounded by `timeoutMs`, with a progress notification, instead
   * of failing: what the user asked for then runs. Rejects at once when the service failed, and
   * with the not-running message when the time runs out.
   */
  async whenReady(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    // Running with a client; during stop() (a restart) the status still says running without one.
    const ready = (s: ServiceStatus): boolean => s.kind === 'running' && this.#client !== undefined;
    if (ready(this.#status)) return;
    if (this.#status.kind === 'failed') throw new Error(this.#notRunningMessage());
    // The user wants this window to work now: a locked window tries to take over at once.
    if (this.#status.kind === 'locked') void this.start();
    let sub: vscode.Disposable | undefined;
    let timer: NodeJS.Timeout | undefined;
    const started = new Promise<void>((resolve, reject) => {
      const settle = (s: ServiceStatus): boolean => {
        if (ready(s)) resolve();
        else if (s.kind === 'failed') reject(new Error(s.message));
        else return false;
        return true;
      };
      if (settle(this.#status)) return;
      sub = this.onDidChangeStatus((s) => void settle(s));
      timer = setTimeout(() => reject(new Error(`The Multiget service did not start within ${Math.round(timeoutMs / 1000)} s. ${this.#notRunningMessage()}`)), timeoutMs);
    });
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Waiting for the Multiget service…' }, () => started);
    } finally {
      sub?.dispose();
      clearTimeout(timer);
    }
  }

  #clientOptions(): LanguageClientOptions {
    const output = this.options.output;
    const pipe = (level: 'info' | 'error') => (input: Readable) => {
      let pending = '';
      input.setEncoding('utf8');
      input.on('data', (chunk: string) => {
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl).replace(/\r$/, '');
          pending = pending.slice(nl + 1);
          // The service reports a locked state directory on stderr before it speaks the protocol.
          if (line.includes('MG_ERR_STATE_LOCKED')) this.#locked = true;
          // The service logs everything to stderr; only its errors deserve the error level.
          if (line !== '') output[level === 'error' && /\berror\b|MG_ERR_|exception/i.test(line) ? 'error' : 'info'](line);
        }
      });
    };
    const errorHandler: ErrorHandler = {
      error: (_error, _message, count): ErrorHandlerResult =>
        (count ?? 0) <= 3 ? { action: ErrorAction.Continue } : { action: ErrorAction.Shutdown },
      closed: (): CloseHandlerResult => {
        if (this.#stopping) return { action: CloseAction.DoNotRestart, handled: true };
        if (this.#locked) return { action: CloseAction.DoNotRestart, handled: true };
        const now = Date.now();
        this.#crashes = [...this.#crashes.filter((t) => now - t < RESTART_WINDOW_MS), now];
        if (this.#crashes.length <= MAX_RESTARTS) {
          output.warn(`The service stopped unexpectedly; restarting it (${this.#crashes.length} of ${MAX_RESTARTS}).`);
          return { action: CloseAction.Restart, handled: true };
        }
        const message = `The Multiget service stopped ${MAX_RESTARTS + 1} times in 3 minutes and was not restarted. Run "Multiget: Restart Service" to try again; details are in the "Multiget" output.`;
        this.#client = undefined;
        this.#setStatus({ kind: 'failed', message });
        return { action: CloseAction.DoNotRestart, message };
      },
    };
    return {
      documentSelector: [],
      outputChannel: output,
      errorHandler,
      // The service reports its own problems through the status and notifications.
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      stdioOptions: { stdout: pipe('info'), stderr: pipe('error') },
    };
  }
}
