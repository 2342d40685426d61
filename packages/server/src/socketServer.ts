import { createHash, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { ErrorCodes as CoreCodes, FileSystemError, type Manager, type ManagerEvents } from '@multiget/core';
import { type Connection, ProposedFeatures, type WatchDog, createConnection } from 'vscode-languageserver';
import {
  type DataCallback,
  type Disposable,
  type Logger,
  type Message,
  type MessageReader,
  StreamMessageWriter,
  createProtocolConnection,
} from 'vscode-languageserver/node';
import { type ServiceEndpoint, newToken, readEndpoint, removeEndpoint, writeEndpoint } from './endpoint.js';
import { StrictMessageReader } from './frameReader.js';
import { MultigetErrorCodes, type ServiceInfo } from './protocol.js';
import { type ManagerEventSource, Service } from './Service.js';
import type { LogHub } from './logForwarding.js';

/** What the socket path depends on (the process's by default; tests pass their own). */
export interface SocketPathContext {
  /** `process.platform`: `win32` gets a named pipe, every other platform a Unix socket. */
  platform: NodeJS.Platform;
  /** The environment (`XDG_RUNTIME_DIR` is read). */
  env: NodeJS.ProcessEnv;
  /** The user's numeric id, naming the directory under the temp folder (-1 where there is none). */
  uid: number;
  /** The temp folder (`os.tmpdir()`). */
  tmp: string;
  /** The user's name; part of the pipe name on Windows. */
  user: string;
}

function processContext(): SocketPathContext {
  return {
    platform: process.platform,
    env: process.env,
    uid: typeof process.getuid === 'function' ? process.getuid() : -1,
    tmp: tmpdir(),
    user: userInfo().username,
  };
}

/**
 * Where the service of `stateDir` listens. A Unix socket path is limited to about 104 bytes, and
 * a state directory under VS Code's global storage is often longer, so the socket lives in a short
 * private directory instead: `$XDG_RUNTIME_DIR/multiget` (per user, mode 0700, never cleaned while
 * the user is logged in) or else `<tmpdir>/multiget-<uid>`; its name is a hash of the state
 * directory, so each state directory has its own. On Windows it is a named pipe named the same way.
 */
export function socketPathFor(
  stateDir: string,
  context: SocketPathContext = processContext(),
): {
  /** The private directory that holds the socket, or undefined for a Windows pipe. */
  dir: string | undefined;
  /** The socket path or pipe name. */
  path: string;
} {
  const key = context.platform === 'win32' ? `${context.user}\0${stateDir.toLowerCase()}` : stateDir;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 24);
  if (context.platform === 'win32') return { dir: undefined, path: `\\\\.\\pipe\\multiget-${hash}` };
  const runtime = context.env['XDG_RUNTIME_DIR'];
  const dir = runtime !== undefined && isAbsolute(runtime) ? join(runtime, 'multiget') : join(context.tmp, `multiget-${context.uid}`);
  return { dir, path: join(dir, `${hash}.sock`) };
}

/**
 * Creates `dir` (mode 0700) if missing and checks that it is a real directory of this user that no
 * one else can enter: in a shared /tmp another user could have created it first, or put a link
 * there, to catch the socket.
 */
async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new FileSystemError(
      CoreCodes.UNSAFE_PATH,
      `${dir} must be a directory of this user with mode 0700 (it is ${st.isDirectory() ? `mode ${(st.mode & 0o777).toString(8)}, owner ${st.uid}` : 'not a directory'}); remove it and start again`,
    );
  }
}

/** What {@link listenForClients} needs from `runServer`. */
export interface SocketServerOptions {
  /** The manager every client session drives. */
  manager: Manager;
  /** What the service tells about itself (in `initialize` and `multiget/info`). */
  info: ServiceInfo;
  /** The state directory; the endpoint file is written into it. */
  stateDir: string;
  /** Where the service's own log lines go. */
  log: (line: string) => void;
  /** Exit after this long with no client and no active download. */
  idleExitMs: number;
  /** Stops the whole service (idle, `multiget/stopService`). */
  stop: (code: number, why: string) => void;
  /** The socket path; default {@link socketPathFor}. */
  socketPath?: string;
  /** The service's log, shared by the sessions (each subscribes at its own level). */
  logs?: LogHub;
}

/** A listening socket service; `close` stops accepting, ends every session and removes the endpoint. */
export interface SocketServer {
  /** What the endpoint file says: where clients connect and the token they present. */
  readonly endpoint: ServiceEndpoint;
  /** Stops accepting, ends every session and removes the endpoint file. */
  close(): Promise<void>;
}

/**
 * How often the service checks that clients can still find it. A temporary-files cleaner may
 * delete the socket in /tmp, or someone the endpoint file; a service nobody can reach would hold
 * the state directory's lock for nothing, so it stops in order and the next client starts another.
 */
const REACHABLE_CHECK_MS = 5000;

/** States a download can be in that keep the service alive without clients. */
const BUSY = new Set(['queued', 'probing', 'downloading', 'verifying']);

/**
 * Serves the manager to any number of clients on a Unix domain socket (a named pipe on Windows):
 * the one service of this state directory, which every VS Code window and other front-end shares.
 *
 * - Only the user can reach it: the socket is mode 0600 in a 0700 directory, and a client's first
 *   message must be `initialize` with `initializationOptions.token` equal to the token in
 *   `service.json` (mode 0600, in the state directory). Anything else is answered with MG_ERR_AUTH
 *   and the connection closed. There is no TCP port.
 * - Each connection is its own session: it gets every notification, and its `shutdown`/`exit` or
 *   its disappearance ends only that session. Downloads keep running.
 * - With no session and nothing queued or running for `idleExitMs`, the service stops in order;
 *   also when its socket file or its endpoint file is gone (a /tmp cleaner), since no new client
 *   could reach it.
 * - A malformed frame ends that connection only (the others are in step).
 */
export async function listenForClients(options: SocketServerOptions): Promise<SocketServer> {
  const { manager, info, stateDir, log } = options;
  const where = options.socketPath !== undefined ? { dir: undefined, path: options.socketPath } : socketPathFor(stateDir);
  if (where.dir !== undefined) await ensurePrivateDir(where.dir);
  // We hold the state directory's lock, so a socket file left there is a dead service's.
  if (process.platform !== 'win32') await unlink(where.path).catch(() => undefined);

  const token = newToken();
  const sessions = new Set<Session>();
  const relay = relayEvents(manager);
  let closing = false;
  let idleTimer: NodeJS.Timeout | undefined;

  const busy = (): boolean => manager.list().some((d) => BUSY.has(d.state));
  const armIdle = (): void => {
    clearTimeout(idleTimer);
    idleTimer = undefined;
    if (closing || sessions.size > 0 || busy()) return;
    idleTimer = setTimeout(() => {
      if (!closing && sessions.size === 0 && !busy()) options.stop(0, `no client and nothing to do for ${options.idleExitMs} ms`);
    }, options.idleExitMs);
  };
  // A download that finishes while no window is connected may leave the service idle.
  const onChanged = (): void => {
    if (sessions.size === 0) armIdle();
  };
  manager.on('changed', onChanged);
  manager.on('removed', onChanged);

  const server: Server = createServer((socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    clearTimeout(idleTimer);
    idleTimer = undefined;
    const session = new Session(socket, { manager, events: relay.source, info, log, token, stop: options.stop, ...(options.logs ? { logs: options.logs } : {}) });
    sessions.add(session);
    session.ended.then(() => {
      sessions.delete(session);
      armIdle();
    });
  });
  server.on('error', (err) => log(`the socket server failed: ${err.message}`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where.path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // The directory already keeps others out; the mode is the second fence (and the only one if the
  // directory's mode were ever loosened).
  if (process.platform !== 'win32') await chmod(where.path, 0o600);

  const endpoint: ServiceEndpoint = { pid: process.pid, socket: where.path, token, version: info.version, protocolVersion: info.protocolVersion };
  await writeEndpoint(stateDir, endpoint);
  armIdle();
  const reachable = setInterval(() => {
    void (async () => {
      const socketThere = process.platform === 'win32' || (await lstat(where.path).then((st) => st.isSocket(), () => false));
      const announced = (await readEndpoint(stateDir))?.token === token;
      if (!closing && (!socketThere || !announced)) {
        options.stop(0, socketThere ? 'service.json no longer names this service' : `the socket ${where.path} was removed`);
      }
    })();
  }, REACHABLE_CHECK_MS);
  reachable.unref();

  return {
    endpoint,
    close: async () => {
      if (closing) return;
      closing = true;
      clearTimeout(idleTimer);
      clearInterval(reachable);
      manager.off('changed', onChanged);
      manager.off('removed', onChanged);
      // No new clients from here on; a window that connects now finds no endpoint and starts a service
      // once this one has released the lock.
      await removeEndpoint(stateDir, token);
      const listening = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...sessions].map((s) => s.end()));
      relay.dispose();
      await listening;
    },
  };
}

const MANAGER_EVENTS: ReadonlyArray<keyof ManagerEvents & string> = ['changed', 'removed', 'progress', 'history'];

/**
 * One subscription per manager event, relayed to any number of sessions: the manager's emitter
 * warns past ten listeners an event, and a shared service may have more clients than that.
 */
function relayEvents(manager: Manager): { source: ManagerEventSource; dispose: () => void } {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const offs = MANAGER_EVENTS.map((event) => {
    const forward = (...args: unknown[]): void => void emitter.emit(event, ...args);
    manager.on(event, forward);
    return () => manager.off(event, forward);
  });
  const source: ManagerEventSource = {
    on: (event, listener) => emitter.on(event, listener as (...args: unknown[]) => void),
    off: (event, listener) => emitter.off(event, listener as (...args: unknown[]) => void),
  };
  return { source, dispose: () => offs.forEach((off) => off()) };
}

interface SessionOptions {
  manager: Manager;
  events: ManagerEventSource;
  info: ServiceInfo;
  log: (line: string) => void;
  token: string;
  stop: (code: number, why: string) => void;
  logs?: LogHub;
}

/** One client connection: its own JSON-RPC connection and Service, sharing the manager. */
class Session {
  readonly ended: Promise<void>;
  readonly #socket: Socket;
  readonly #service: Service;
  readonly #connection: Connection;
  #end!: () => void;
  #done = false;

  constructor(socket: Socket, options: SessionOptions) {
    this.#socket = socket;
    this.ended = new Promise<void>((resolve) => (this.#end = resolve));
    const { log } = options;
    const reader = new StrictMessageReader(socket);
    const writer = new StreamMessageWriter(socket);
    const gate = new TokenGate(reader, options.token, (message) => {
      log('refused a client that did not present the token in initialize');
      const id = (message as { id?: unknown }).id;
      if (typeof id === 'number' || typeof id === 'string') {
        void writer
          .write({
            jsonrpc: '2.0',
            id,
            error: {
              code: -32600,
              message: 'Present the token from service.json as initializationOptions.token in initialize, the first message',
              data: { code: MultigetErrorCodes.AUTH },
            },
          } as Message)
          .catch(() => undefined)
          .finally(() => void this.end());
      } else {
        void this.end();
      }
    });
    reader.onError((err) => {
      log(`closing a client connection: ${err.message}`);
      void this.end();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => void this.end());
    const watchDog: WatchDog = {
      shutdownReceived: false,
      // A shared service outlives its clients: their process ids are not watched.
      initialize: () => undefined,
      exit: () => void this.end(),
    };
    const logger: Logger = { error: (m) => log(m), warn: (m) => log(m), info: () => undefined, log: () => undefined };
    this.#connection = createConnection(() => createProtocolConnection(gate, writer, logger), watchDog, ProposedFeatures.all);
    this.#service = new Service(options.manager, this.#connection, {
      info: options.info,
      log,
      shutdown: 'session',
      events: options.events,
      ...(options.logs ? { logs: options.logs } : {}),
      stopService: () => options.stop(0, 'multiget/stopService'),
    });
    this.#connection.listen();
  }

  /** Ends this session: no more notifications, the connection closed. Idempotent. */
  end(): Promise<void> {
    if (this.#done) return this.ended;
    this.#done = true;
    void this.#service.detach();
    try {
      this.#connection.dispose();
    } catch {
      // Already gone with its socket.
    }
    this.#socket.end();
    // A client that does not read any more must not keep the socket (and the service) alive.
    setTimeout(() => this.#socket.destroy(), 1000).unref();
    this.#end();
    return this.ended;
  }
}

/**
 * Lets messages through only after a first message that is `initialize` with the right token.
 * The check is on the reader, before vscode-jsonrpc dispatches anything, so no handler of the
 * service ever runs for a client that has not shown the token.
 */
class TokenGate implements MessageReader {
  readonly #inner: MessageReader;
  readonly #token: Buffer;
  readonly #refuse: (message: Message) => void;
  #open = false;
  #refused = false;

  constructor(inner: MessageReader, token: string, refuse: (message: Message) => void) {
    this.#inner = inner;
    this.#token = Buffer.from(token);
    this.#refuse = refuse;
  }

  get onError(): MessageReader['onError'] {
    return this.#inner.onError;
  }

  get onClose(): MessageReader['onClose'] {
    return this.#inner.onClose;
  }

  get onPartialMessage(): MessageReader['onPartialMessage'] {
    return this.#inner.onPartialMessage;
  }

  listen(callback: DataCallback): Disposable {
    return this.#inner.listen((message) => {
      if (this.#open) return callback(message);
      if (this.#refused) return;
      if (this.#admits(message)) {
        this.#open = true;
        callback(message);
      } else {
        this.#refused = true;
        this.#refuse(message);
      }
    });
  }

  #admits(message: Message): boolean {
    const m = message as { method?: unknown; id?: unknown; params?: { initializationOptions?: { token?: unknown } } };
    if (m.method !== 'initialize' || m.id === undefined) return false;
    const given = m.params?.initializationOptions?.token;
    if (typeof given !== 'string') return false;
    const buf = Buffer.from(given);
    return buf.length === this.#token.length && timingSafeEqual(buf, this.#token);
  }

  dispose(): void {
    this.#inner.dispose();
  }
}
