import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  IPCMessageReader,
  IPCMessageWriter,
  type MessageConnection,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  createMessageConnection,
} from 'vscode-jsonrpc/node';
import type { DownloadInfo, MultigetInitializeResult, ProgressParams } from '../src/protocol.js';

/** The built executable; the test task depends on the build. */
export const BIN = fileURLToPath(new URL('../bin/multiget-server.js', import.meta.url));

/** A notification as the client saw it, with the time it arrived (performance.now()). */
export interface Received {
  method: string;
  params: unknown;
  at: number;
}

/**
 * The environment for a service: the caller's, without proxy variables (local test traffic must
 * not go through whatever proxy this machine has) and without MULTIGET_STATE_DIR.
 */
export function serviceEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^([a-z0-9]+_proxy|multiget_state_dir)$/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

const live = new Set<ServiceProcess>();

/** Kills every service a test started and still running (for afterEach). */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((s) => s.kill('SIGKILL')));
}

/** How the test talks to the service. */
export type Transport = 'stdio' | 'node-ipc';

/**
 * A real `multiget-server` process and a real vscode-jsonrpc client connection to it. Every
 * notification is recorded; `waitFor` polls a condition with a deadline so no test waits forever.
 */
export class ServiceProcess {
  readonly child: ChildProcess;
  readonly connection: MessageConnection;
  readonly notifications: Received[] = [];
  /** Errors the client's reader saw: anything on stdout that is not a protocol frame. */
  readonly readerErrors: Error[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: readonly string[], options: { transport?: Transport; env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
    const transport = options.transport ?? 'stdio';
    const env = options.env ?? serviceEnv();
    if (transport === 'stdio') {
      this.child = spawn(process.execPath, [BIN, '--stdio', ...args], { env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
      this.connection = createMessageConnection(new StreamMessageReader(this.child.stdout!), new StreamMessageWriter(this.child.stdin!));
    } else {
      this.child = fork(BIN, ['--node-ipc', ...args], { env, cwd: options.cwd, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      this.connection = createMessageConnection(new IPCMessageReader(this.child), new IPCMessageWriter(this.child));
    }
    live.add(this);
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        live.delete(this);
        this.connection.dispose();
        resolve({ code, signal });
      });
    });
    this.connection.onNotification((method, params: unknown) => {
      this.notifications.push({ method, params, at: performance.now() });
    });
    this.connection.onError(([err]) => this.readerErrors.push(err));
    // A broken pipe after a kill is expected; without a listener it would crash the test worker.
    this.child.stdin?.on('error', () => undefined);
    this.connection.listen();
  }

  /** Sends `initialize` and `initialized`, as vscode-languageclient does. */
  async initialize(): Promise<MultigetInitializeResult> {
    const result = await this.request<MultigetInitializeResult>('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
    await this.connection.sendNotification('initialized', {});
    return result;
  }

  /** A request with a deadline: a hung service fails the test instead of hanging it. */
  async request<R>(method: string, params?: unknown, timeoutMs = 15_000): Promise<R> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${method} got no answer within ${timeoutMs} ms\nstderr: ${this.stderr}`)), timeoutMs);
    });
    try {
      const sent = params === undefined ? this.connection.sendRequest<R>(method) : this.connection.sendRequest<R>(method, params);
      return await Promise.race([sent, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The JSON-RPC error a request fails with (fails the test if it succeeds). */
  async requestError(method: string, params?: unknown): Promise<ResponseError<{ code?: string } | undefined>> {
    try {
      await this.request(method, params);
    } catch (err) {
      if (err instanceof ResponseError) return err as ResponseError<{ code?: string } | undefined>;
      throw err;
    }
    throw new Error(`${method} ${JSON.stringify(params)} succeeded, but an error was expected`);
  }

  /** Notifications of one method, in order of arrival. */
  received<P>(method: string): Array<{ params: P; at: number }> {
    return this.notifications.filter((n) => n.method === method).map((n) => ({ params: n.params as P, at: n.at }));
  }

  /** The last state each download was seen in through `multiget/changed` and `multiget/progress`. */
  latest(): Map<string, DownloadInfo> {
    const out = new Map<string, DownloadInfo>();
    for (const n of this.notifications) {
      if (n.method === 'multiget/changed') {
        const d = (n.params as { download: DownloadInfo }).download;
        out.set(d.id, d);
      } else if (n.method === 'multiget/progress') {
        for (const d of (n.params as ProgressParams).downloads) out.set(d.id, d);
      }
    }
    return out;
  }

  /** Polls `predicate` every 50 ms until it holds; throws after `timeoutMs` or if the service exits. */
  async waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!(await predicate())) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`The service exited before ${what}\nstderr: ${this.stderr}`);
      }
      if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}\nstderr: ${this.stderr}`);
      await sleep(50);
    }
  }

  /** Sends a signal (if still running) and waits for the exit, at most 15 s. */
  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return waitExit(this, 15_000);
  }

  /** `shutdown` then `exit`, as vscode-languageclient stops a server; resolves with the exit. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    await this.request('shutdown');
    await this.connection.sendNotification('exit');
    return waitExit(this, 15_000);
  }
}

/** Waits for the process to exit, killing it (and failing) after `timeoutMs`. */
export async function waitExit(s: ServiceProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      s.child.kill('SIGKILL');
      reject(new Error(`The service did not exit within ${timeoutMs} ms\nstderr: ${s.stderr}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([s.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A fresh temporary directory; `cleanup` removes every one made. */
const made: string[] = [];
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `mg-server-${prefix}-`));
  made.push(dir);
  return dir;
}

/** Removes the temporary directories made since the last call. */
export async function cleanupTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Hex SHA-256 of a file on disk, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Active states, as the protocol defines them. */
export const ACTIVE_STATES: ReadonlySet<string> = new Set(['probing', 'downloading', 'verifying']);
