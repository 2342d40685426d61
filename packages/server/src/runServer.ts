import { format } from 'node:util';
import { ErrorCodes as CoreCodes, Manager, UsageError, isAlive } from '@multiget/core';
import { type Connection, ProposedFeatures, type WatchDog, createConnection } from 'vscode-languageserver';
import {
  IPCMessageReader,
  IPCMessageWriter,
  type Logger,
  type MessageReader,
  type MessageWriter,
  StreamMessageWriter,
  createProtocolConnection,
} from 'vscode-languageserver/node';
import { StrictMessageReader } from './frameReader.js';
import { resolveUserPath } from './params.js';
import { resolveDownloadDir, resolveStateDir } from './paths.js';
import { type PluginOptions, defaultPlugins } from './plugins.js';
import { PROTOCOL_VERSION, type ServiceInfo } from './protocol.js';
import { Service } from './Service.js';
import { LogHub } from './logForwarding.js';
import { TraceKeeper } from './traceKeeper.js';
import { type SocketServer, listenForClients } from './socketServer.js';
import { serverVersion } from './version.js';

/** Options of {@link runServer}. */
export interface ServerOptions extends PluginOptions {
  /**
   * `stdio`: LSP framing over stdin/stdout (nothing else is written to stdout then); one client.
   * `node-ipc`: Node's IPC channel; the process must have been started with `child_process.fork`.
   * `socket`: the shared service of the state directory: a Unix domain socket (a named pipe on
   * Windows) that any number of clients of this user connect to, announced in `service.json`
   * with the token they must present (see `listenForClients`). It stops on its own when idle.
   */
  transport: 'stdio' | 'node-ipc' | 'socket';
  /** `socket` only: stop after this many milliseconds with no client and nothing queued or running. Default 60 000. */
  idleExitMs?: number;
  /** State directory; see {@link resolveStateDir} for the default. */
  stateDir?: string;
  /**
   * Download directory. Given, it replaces the persisted setting; absent, the persisted setting
   * wins, else `~/Downloads` when it exists, else the working directory.
   */
  dir?: string;
  /** How unfinished downloads come back at start: `queued` (they continue, the default) or `paused`. */
  restore?: 'queued' | 'paused';
  /** Process id of the client (`--clientProcessId`): the service stops when it is gone. */
  clientProcessId?: number;
  /** Milliseconds between coalesced progress notifications. Default 500. */
  progressIntervalMs?: number;
  /** Where diagnostics go. Default: stderr, prefixed `multiget-server:`. */
  log?: (line: string) => void;
}

/** Longest wait for the manager to stop its downloads and write its state before exiting anyway. */
const CLOSE_TIMEOUT_MS = 10_000;
/** How often a client process id is checked for liveness. */
const PARENT_POLL_MS = 1000;
/** How long a shared (socket) service waits with no client and nothing to do before it exits. */
const DEFAULT_IDLE_EXIT_MS = 60_000;

/**
 * Runs the service until it is told to stop, and resolves with the exit code the process should
 * end with. The caller must end the process with it (`process.exit`): stdin or the IPC channel
 * would otherwise keep it alive.
 *
 * The state directory is locked first, so a second service on the same directory fails here, with
 * a UsageError/FileSystemError whose code is MG_ERR_STATE_LOCKED, before it speaks the protocol.
 *
 * It stops, always through `manager.close()` (running downloads stop with partial data kept and
 * resume on the next start), on: the LSP `exit` notification (code 0 after `shutdown`, else 1, as
 * LSP says; `shutdown` itself already closes the manager), SIGTERM or SIGINT (0), the client
 * closing stdin or the IPC channel, or the client process disappearing (0 after `shutdown`, else 1),
 * `multiget/stopService` (0), and a malformed frame on stdio (1; see StrictMessageReader). A bad
 * request, or a well-framed JSON object that is not JSON-RPC, is answered or dropped, never fatal.
 *
 * With `transport: 'socket'` (the shared service, see `listenForClients`) clients come and go:
 * their `shutdown`/`exit` or disappearance ends their session only, and the service stops on a
 * signal, `multiget/stopService`, or when idle (0).
 *
 * This uses vscode-languageserver's `createConnection(factory, watchDog, ProposedFeatures.all)`,
 * the function its Node `createConnection(ProposedFeatures.all)` wraps, because the Node wrapper
 * calls `process.exit` itself on `exit`, on end of input and on parent death, which would skip
 * the manager's orderly close. To a client (vscode-languageclient included) the two are the same.
 */
export async function runServer(options: ServerOptions): Promise<number> {
  const log = options.log ?? ((line: string) => void process.stderr.write(`multiget-server: ${line}\n`));
  if (options.transport === 'node-ipc' && typeof process.send !== 'function') {
    throw new UsageError(CoreCodes.INVALID_OPTION, '--node-ipc needs an IPC channel: start the service with child_process.fork');
  }
  if (options.transport !== 'stdio' && options.transport !== 'node-ipc' && options.transport !== 'socket') {
    throw new UsageError(CoreCodes.INVALID_OPTION, `Unknown transport ${String(options.transport)} (stdio, node-ipc or socket)`);
  }
  const idleExitMs = options.idleExitMs ?? DEFAULT_IDLE_EXIT_MS;
  if (!Number.isSafeInteger(idleExitMs) || idleExitMs < 0) {
    throw new UsageError(CoreCodes.INVALID_OPTION, `idleExitMs must be a whole number of milliseconds, not ${idleExitMs}`);
  }
  if (options.transport === 'stdio') keepStdoutForProtocol();

  const stateDir = resolveStateDir(options.stateDir);
  // The download directory given on the command line obeys the same rule as a client's paths:
  // never into the state directory, compared through links (real paths).
  const givenDir = options.dir !== undefined && options.dir !== '' ? resolveUserPath(resolveDownloadDir(options.dir), '--dir', { dir: resolveDownloadDir(options.dir), stateDir }) : undefined;
  const logs = new LogHub();
  const manager = await Manager.open({
    stateDir,
    settings: { dir: givenDir ?? resolveDownloadDir(undefined) },
    restore: options.restore ?? 'queued',
    plugins: defaultPlugins(options),
    // Off until a client asks for the log (multiget/setLogLevel): then at the level it wants.
    logger: logs,
    logLevel: 'off',
    ...(options.progressIntervalMs !== undefined ? { progressIntervalMs: options.progressIntervalMs } : {}),
  });
  logs.attach(manager.engine.log);
  // Which list entry each engine download id (on every line of the download) stands for.
  manager.on('started', (entry, download) => manager.engine.log.info('download', () => ({ download: download.id, entry: entry.id, url: entry.url })));
  // Traces start with the manager, so that downloads restored and started at once are traced.
  TraceKeeper.of(manager);
  try {
    if (givenDir !== undefined) await manager.setSettings({ dir: givenDir });
  } catch (err) {
    await manager.close();
    throw err;
  }

  const info: ServiceInfo = {
    name: 'multiget-server',
    version: serverVersion(),
    protocolVersion: PROTOCOL_VERSION,
    schemes: manager.schemes.map((s) => s.replace(/:$/, '')),
    stateDir,
    pid: process.pid,
  };

  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const cleanups: Array<() => void> = [];
  // Filled in once the transport is up; `stop` may run before that (a signal during start-up).
  const live: { service?: Service; connection?: Connection; sockets?: SocketServer } = {};
  let stopping = false;

  const stop = (code: number, why: string): void => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${why})`);
    void (async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          log(`the manager did not close within ${CLOSE_TIMEOUT_MS} ms; exiting anyway (partial data is kept)`);
          resolve();
        }, CLOSE_TIMEOUT_MS);
      });
      const closing = (async () => {
        // Clients first (no new ones, the endpoint file gone), so none talks to a closing manager.
        await live.sockets?.close();
        await (live.service ? live.service.close() : manager.close());
      })().catch((err: unknown) => log(`closing the manager failed: ${format(err)}`));
      await Promise.race([closing, timeout]);
      clearTimeout(timer);
      for (const cleanup of cleanups.splice(0)) cleanup();
      try {
        live.connection?.dispose();
      } catch {
        // The transport may already be gone; nothing is left to tell the client.
      }
      finish(code);
    })();
  };

  const watchDog: WatchDog = {
    shutdownReceived: false,
    initialize: (params) => {
      if (typeof params.processId === 'number' && params.processId !== options.clientProcessId) {
        watchParent(params.processId);
      }
    },
    exit: (code) => stop(code, 'exit notification'),
  };
  const watchParent = (pid: number): void => {
    const timer = setInterval(() => {
      if (!isAlive(pid)) stop(watchDog.shutdownReceived ? 0 : 1, `client process ${pid} is gone`);
    }, PARENT_POLL_MS);
    timer.unref();
    cleanups.push(() => clearInterval(timer));
  };
  // A shared service outlives the process that started it; only a private one follows its client.
  if (options.clientProcessId !== undefined && options.transport !== 'socket') watchParent(options.clientProcessId);

  const onSignal = (signal: NodeJS.Signals): void => stop(0, signal);
  // A bug in a handler or the engine is logged, not fatal: the service must outlive bad requests.
  const onRejection = (reason: unknown): void => log(`unhandled rejection: ${format(reason)}`);
  const onException = (err: Error): void => log(`uncaught exception: ${err.stack ?? err.message}`);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  cleanups.push(() => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  });

  if (options.transport === 'socket') {
    try {
      live.sockets = await listenForClients({ manager, info, stateDir, log, idleExitMs, stop, logs });
    } catch (err) {
      for (const cleanup of cleanups.splice(0)) cleanup();
      await manager.close();
      throw err;
    }
    log(`serving ${stateDir} on ${live.sockets.endpoint.socket} (pid ${process.pid})`);
    return finished;
  }

  const { reader, writer } = openTransport(options.transport, () => stop(watchDog.shutdownReceived ? 0 : 1, 'the client closed the connection'), cleanups);
  reader.onError((err) => {
    // Any malformed frame (see StrictMessageReader) leaves the stream out of step or the client
    // broken: every later message could be misread, so stop in order rather than sit there deaf;
    // the client sees the exit and can start a fresh service.
    stop(1, `the transport is broken: ${err.message.split('\n')[0]}`);
  });
  const logger: Logger = {
    error: (m) => log(m),
    warn: (m) => log(m),
    info: () => undefined,
    log: () => undefined,
  };
  const connection = createConnection(() => createProtocolConnection(reader, writer, logger), watchDog, ProposedFeatures.all);
  live.connection = connection;
  live.service = new Service(manager, connection, { info, log, logs, stopService: () => stop(0, 'multiget/stopService') });
  connection.listen();
  log(`serving ${stateDir} over ${options.transport} (pid ${process.pid})`);
  return finished;
}

/** The message reader and writer of a transport; `onGone` runs when the client closes its end. */
function openTransport(
  transport: 'stdio' | 'node-ipc',
  onGone: () => void,
  cleanups: Array<() => void>,
): { reader: MessageReader; writer: MessageWriter } {
  if (transport === 'node-ipc') {
    process.on('disconnect', onGone);
    cleanups.push(() => process.off('disconnect', onGone));
    return { reader: new IPCMessageReader(process), writer: new IPCMessageWriter(process) };
  }
  process.stdin.on('end', onGone);
  process.stdin.on('close', onGone);
  cleanups.push(() => {
    process.stdin.off('end', onGone);
    process.stdin.off('close', onGone);
  });
  return { reader: new StrictMessageReader(process.stdin), writer: new StreamMessageWriter(process.stdout) };
}

/**
 * On stdio, stdout carries the protocol: a stray `console.log` (ours, a plugin's, a dependency's)
 * would corrupt the framing and kill the session, so console output goes to stderr instead.
 */
function keepStdoutForProtocol(): void {
  const toStderr = (...args: unknown[]): void => void process.stderr.write(`${format(...args)}\n`);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  console.dir = (item: unknown) => toStderr(item);
}
