import { format } from 'node:util';
import { ErrorCodes as CoreCodes, Manager, UsageError, isAlive } from '@multiget/core';
import { type Connection, ProposedFeatures, type WatchDog, createConnection } from 'vscode-languageserver';
import {
  IPCMessageReader,
  IPCMessageWriter,
  type Logger,
  type MessageReader,
  type MessageWriter,
  StreamMessageReader,
  StreamMessageWriter,
  createProtocolConnection,
} from 'vscode-languageserver/node';
import { resolveDownloadDir, resolveStateDir } from './paths.js';
import { type PluginOptions, defaultPlugins } from './plugins.js';
import { PROTOCOL_VERSION, type ServiceInfo } from './protocol.js';
import { Service } from './Service.js';
import { serverVersion } from './version.js';

/** Options of {@link runServer}. */
export interface ServerOptions extends PluginOptions {
  /**
   * `stdio`: LSP framing over stdin/stdout (nothing else is written to stdout then).
   * `node-ipc`: Node's IPC channel; the process must have been started with `child_process.fork`.
   */
  transport: 'stdio' | 'node-ipc';
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
 * and a framing error on stdio that no later message could recover from (1). A bad request, a
 * body that is not JSON, or a message that is not JSON-RPC is answered or dropped, never fatal.
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
  if (options.transport !== 'stdio' && options.transport !== 'node-ipc') {
    throw new UsageError(CoreCodes.INVALID_OPTION, `Unknown transport ${String(options.transport)} (stdio or node-ipc)`);
  }
  if (options.transport === 'stdio') keepStdoutForProtocol();

  const stateDir = resolveStateDir(options.stateDir);
  const manager = await Manager.open({
    stateDir,
    settings: { dir: resolveDownloadDir(options.dir) },
    restore: options.restore ?? 'queued',
    plugins: defaultPlugins(options),
    ...(options.progressIntervalMs !== undefined ? { progressIntervalMs: options.progressIntervalMs } : {}),
  });
  try {
    if (options.dir !== undefined && options.dir !== '') await manager.setSettings({ dir: resolveDownloadDir(options.dir) });
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
  const live: { service?: Service; connection?: Connection } = {};
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
      const closing = (live.service ? live.service.close() : manager.close()).catch((err: unknown) => log(`closing the manager failed: ${format(err)}`));
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
  if (options.clientProcessId !== undefined) watchParent(options.clientProcessId);

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

  const { reader, writer } = openTransport(options.transport, () => stop(watchDog.shutdownReceived ? 0 : 1, 'the client closed the connection'), cleanups);
  reader.onError((err) => {
    // A body that is not JSON is dropped and the next frame reads fine. Anything else (a header
    // without Content-Length, a broken stream) leaves the framing out of step for good: every
    // later message would be misread, so stop rather than sit there deaf; the client sees the
    // exit and can start a fresh service.
    if (!(err instanceof SyntaxError)) stop(1, `the transport is broken: ${err.message.split('\n')[0]}`);
  });
  const logger: Logger = {
    error: (m) => log(m),
    warn: (m) => log(m),
    info: () => undefined,
    log: () => undefined,
  };
  const connection = createConnection(() => createProtocolConnection(reader, writer, logger), watchDog, ProposedFeatures.all);
  live.connection = connection;
  live.service = new Service(manager, connection, { info, log });
  connection.listen();
  log(`serving ${stateDir} over ${options.transport} (pid ${process.pid})`);
  return finished;
}

/** The message reader and writer of a transport; `onGone` runs when the client closes its end. */
function openTransport(
  transport: ServerOptions['transport'],
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
  return { reader: new StreamMessageReader(process.stdin), writer: new StreamMessageWriter(process.stdout) };
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
