import { join } from 'node:path';
import type { Socket } from 'node:net';
import { type MessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import { type ServiceEndpoint, type StartedService, openService, readEndpoint, startDetachedService } from '../src/connect.js';
import type { DownloadInfo, MultigetInitializeResult } from '../src/protocol.js';
import { BIN, serviceEnv, sleep } from './helpers.js';

/** Services the tests started (by pid), killed in `killSharedServices`. */
const started = new Set<number>();

/** Starts `multiget-server --listen` detached, as the extension does. */
export function starter(stateDir: string, dir: string, extra: readonly string[] = [], env: Record<string, string> = {}): () => Promise<StartedService> {
  return async () => {
    const s = await startDetachedService({
      execPath: process.execPath,
      args: [BIN, '--listen', '--state-dir', stateDir, '--dir', dir, ...extra],
      env: serviceEnv(env),
      logFile: join(stateDir, 'service.log'),
    });
    if (s.pid !== undefined) started.add(s.pid);
    return s;
  };
}

/** Whether a process exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Polls until `predicate` holds, at most `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Stops every service the tests started that still runs: SIGTERM, so that it closes in order and
 * removes its socket file, then SIGKILL for one that does not within 10 s.
 */
export async function killSharedServices(): Promise<void> {
  const running = [...started].filter(alive);
  started.clear();
  for (const pid of running) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (running.some(alive) && Date.now() < deadline) await sleep(50);
  for (const pid of running.filter(alive)) process.kill(pid, 'SIGKILL');
}

/** A vscode-jsonrpc client on a service's socket, recording its notifications. */
export class SocketClient {
  readonly connection: MessageConnection;
  readonly notifications: Array<{ method: string; params: unknown }> = [];
  closed = false;

  constructor(
    readonly socket: Socket,
    readonly endpoint: ServiceEndpoint,
  ) {
    this.connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
    this.connection.onNotification((method, params: unknown) => void this.notifications.push({ method, params }));
    this.connection.onClose(() => (this.closed = true));
    this.connection.onError(() => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
    this.connection.listen();
  }

  /** Connects to the service of `stateDir` (starting it with `start` when none runs). */
  static async open(stateDir: string, start: () => Promise<StartedService>): Promise<SocketClient> {
    const { socket, endpoint } = await openService({ stateDir, start, timeoutMs: 30_000 });
    return new SocketClient(socket, endpoint);
  }

  /** `initialize` with the endpoint's token, then `initialized`. */
  async initialize(token = this.endpoint.token): Promise<MultigetInitializeResult> {
    const result = await this.request<MultigetInitializeResult>('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
      initializationOptions: { token },
    });
    await this.connection.sendNotification('initialized', {});
    return result;
  }

  async request<R>(method: string, params?: unknown, timeoutMs = 15_000): Promise<R> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${method} got no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const sent = params === undefined ? this.connection.sendRequest<R>(method) : this.connection.sendRequest<R>(method, params);
      return await Promise.race([sent, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The JSON-RPC error a request fails with. */
  async requestError(method: string, params?: unknown): Promise<ResponseError<{ code?: string } | undefined>> {
    try {
      await this.request(method, params);
    } catch (err) {
      if (err instanceof ResponseError) return err as ResponseError<{ code?: string } | undefined>;
      throw err;
    }
    throw new Error(`${method} succeeded, but an error was expected`);
  }

  /** The last state of each download seen in notifications. */
  latest(): Map<string, DownloadInfo> {
    const out = new Map<string, DownloadInfo>();
    for (const n of this.notifications) {
      if (n.method === 'multiget/changed') {
        const d = (n.params as { download: DownloadInfo }).download;
        out.set(d.id, d);
      } else if (n.method === 'multiget/progress') {
        for (const d of (n.params as { downloads: DownloadInfo[] }).downloads) out.set(d.id, d);
      }
    }
    return out;
  }

  /** Drops the connection without shutdown, as a crashed or cut-off client does. */
  destroy(): void {
    this.socket.destroy();
  }
}

/** The pid in the endpoint file, or undefined. */
export async function endpointPid(stateDir: string): Promise<number | undefined> {
  return (await readEndpoint(stateDir))?.pid;
}
