/**
 * The client's side of the shared service (`@multiget/server/connect`): find the service of a
 * state directory and connect to it, or start it detached and connect once it listens. Imports
 * only Node built-ins, so the VS Code extension bundles it without the engine.
 *
 * ```ts
 * const { socket, endpoint } = await openService({ stateDir, start: () => startDetachedService({ ... }) });
 * const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
 * connection.listen();
 * await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {},
 *   initializationOptions: { token: endpoint.token } });
 * ```
 * @packageDocumentation
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, rename, stat } from 'node:fs/promises';
import { type Socket, connect } from 'node:net';
import { type ServiceEndpoint, readEndpoint } from './endpoint.js';

export { type ServiceEndpoint, readEndpoint, endpointPath, ENDPOINT_FILE } from './endpoint.js';

/** A connected socket and the endpoint it came from (its `token` goes into `initialize`). */
export interface ServiceSocket {
  /** The connected socket, ready for a JSON-RPC connection. */
  socket: Socket;
  /** What the endpoint file said: socket path, token, pid and versions of the service. */
  endpoint: ServiceEndpoint;
}

/** How long one connection attempt may take before it counts as "no service". */
const CONNECT_TIMEOUT_MS = 3000;
/** How often a starting service is looked for. */
const POLL_MS = 100;

/**
 * Connects to the service the endpoint file of `stateDir` names; `undefined` when there is no
 * endpoint file, or nothing listens there any more (a service that died without cleaning up).
 */
export async function connectToService(stateDir: string): Promise<ServiceSocket | undefined> {
  const endpoint = await readEndpoint(stateDir);
  // A file naming a process that is gone is stale even when something listens at its socket: the
  // successor listens there before it writes its own endpoint file, and would refuse the old token.
  if (endpoint === undefined || !processAlive(endpoint.pid)) return undefined;
  const socket = await new Promise<Socket | undefined>((resolve) => {
    const s = connect(endpoint.socket);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(undefined);
    }, CONNECT_TIMEOUT_MS);
    s.once('connect', () => {
      clearTimeout(timer);
      s.off('error', onError);
      resolve(s);
    });
    const onError = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(undefined);
    };
    s.once('error', onError);
  });
  return socket === undefined ? undefined : { socket, endpoint };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A service process started by {@link startDetachedService}. */
export interface StartedService {
  /** Its process id. */
  readonly pid: number | undefined;
  /** Its exit code once it has exited (8: another service holds the state directory), else `null`. */
  readonly exitCode: number | null;
  /** The end of its log file (its stderr), for an error message. */
  logTail(): Promise<string>;
}

/** What {@link startDetachedService} runs. */
export interface DetachedServiceOptions {
  /** The Node.js to run (an Electron binary works too: ELECTRON_RUN_AS_NODE is set). */
  execPath: string;
  /** Node options, the service's script, then its arguments (`--listen` among them). */
  args: readonly string[];
  /** The service's environment. */
  env: NodeJS.ProcessEnv;
  /** Where its stderr goes (appended; the previous log is kept as `.1` once it passes 1 MiB). */
  logFile: string;
}

const MAX_LOG_BYTES = 1024 * 1024;

/**
 * Starts a service in its own process group, detached from the caller: it outlives the process
 * that started it (a VS Code extension host that goes away), and is not killed with its group.
 * stdout is discarded (the service speaks on its socket), stderr goes to `logFile`.
 */
export async function startDetachedService(options: DetachedServiceOptions): Promise<StartedService> {
  const size = await stat(options.logFile).then((s) => s.size, () => 0);
  if (size > MAX_LOG_BYTES) await rename(options.logFile, `${options.logFile}.1`).catch(() => undefined);
  const fd = openSync(options.logFile, 'a', 0o600);
  let exitCode: number | null = null;
  let pid: number | undefined;
  try {
    const child = spawn(options.execPath, [...options.args], {
      detached: true,
      stdio: ['ignore', 'ignore', fd],
      env: { ...options.env, ELECTRON_RUN_AS_NODE: '1' },
      windowsHide: true,
    });
    pid = child.pid;
    child.on('error', () => (exitCode ??= 1));
    child.on('exit', (code, signal) => (exitCode = code ?? (signal !== null ? 1 : 0)));
    child.unref();
  } finally {
    closeSync(fd);
  }
  return {
    get pid() {
      return pid;
    },
    get exitCode() {
      return exitCode;
    },
    logTail: async () => {
      const text = await readFile(options.logFile, 'utf8').catch(() => '');
      return text.split('\n').slice(-20).join('\n').trim();
    },
  };
}

/** What {@link openService} needs. */
export interface OpenServiceOptions {
  /** The state directory whose service to reach (absolute). */
  stateDir: string;
  /** Starts a service when none answers (usually {@link startDetachedService}). */
  start: () => Promise<StartedService>;
  /** How long to wait for a started service to listen. Default 30 s. */
  timeoutMs?: number;
}

/** The service's exit code when another service holds the state directory's lock. */
const EXIT_LOCKED = 8;
/** How long after losing the lock race a service is started again if none listens by then. */
const RESTART_AFTER_LOCKED_MS = 1000;

/**
 * Connects to the service of `stateDir`, starting one if none answers. When several clients do
 * this at once, each may start a service; the state directory's lock lets one of them run and the
 * others exit (code 8), and every client connects to the one that runs.
 *
 * @returns the socket, and whether this call started the service.
 * @throws Error when no service listens within the time limit; its message carries the end of the
 *   started service's log.
 */
export async function openService(options: OpenServiceOptions): Promise<
  ServiceSocket & {
    /** True when this call started the service, false when one was already listening. */
    started: boolean;
  }
> {
  const existing = await connectToService(options.stateDir);
  if (existing !== undefined) return { ...existing, started: false };
  let started = await options.start();
  let startedAt = Date.now();
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const found = await connectToService(options.stateDir);
    if (found !== undefined) return { ...found, started: found.endpoint.pid === started.pid };
    const code = started.exitCode;
    if (code !== null && code !== EXIT_LOCKED) {
      throw new Error(`the Multiget service exited with code ${code}${await tail(started)}`);
    }
    // Exit 8: another service holds the lock. Either it is starting (its endpoint will appear) or
    // it is stopping (it releases the lock, and nobody else may start one): so start again now
    // and then, until one of them listens.
    if (code === EXIT_LOCKED && Date.now() - startedAt >= RESTART_AFTER_LOCKED_MS && Date.now() < deadline) {
      started = await options.start();
      startedAt = Date.now();
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        code === EXIT_LOCKED
          ? `another Multiget process holds ${options.stateDir} but does not accept connections (an older version?); stop it and try again${await tail(started)}`
          : `the Multiget service did not start listening within ${options.timeoutMs ?? 30_000} ms${await tail(started)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function tail(started: StartedService): Promise<string> {
  const text = await started.logTail();
  return text === '' ? '' : `:\n${text}`;
}
