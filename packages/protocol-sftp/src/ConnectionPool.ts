import type { Socket } from 'node:net';
import { AbortError, ErrorCodes, NetworkError, connectSlabSocket, isDownloadError, openTunnel, type DownloadError, type ProxyEndpoint } from '@multiget/core';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { abortError, connectError } from './sftpErrors.js';
import type { HostKeyCheck } from './hostKeyPolicy.js';
import { SftpSession } from './SftpSession.js';
/** How long a graceful end may take before the socket is destroyed. */
const END_TIMEOUT_MS = 2_000;

/** Where a pool connects, and how to name it in messages. */
export interface PoolTarget {
  /** Host name or address, IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** `user@host:port`, for messages. */
  readonly label: string;
  /** The URL without credentials, for error fields. */
  readonly where: string;
  /** The proxy that carries the SSH connections; undefined to connect directly. */
  readonly proxy?: ProxyEndpoint | undefined;
}

/** Sizes and timers of a pool. */
export interface PoolSettings {
  /** SSH connections to the host at most. */
  readonly connections: number;
  /** SFTP channels per connection at most. */
  readonly channels: number;
  /** An unused connection is closed after this many milliseconds. */
  readonly idleTimeoutMs: number;
  /** SSH keepalive interval in milliseconds (0 for none). */
  readonly keepaliveIntervalMs: number;
}

/** Everything one connection attempt needs, prepared fresh for it (keys, host key check). */
export interface ConnectPlan {
  /** ssh2 settings without timeouts (the pool adds them). Holds secrets: never logged. */
  readonly config: ConnectConfig;
  readonly hostKey: HostKeyCheck;
  /** Filled in by the auth handler as it tries methods (labels only). */
  readonly tried: string[];
  readonly skipped: ReadonlyArray<{ label: string; reason: string }>;
}

/** Prepares a connection attempt. */
export type ConnectPlanner = () => Promise<ConnectPlan>;

/** A channel handed out by {@link ConnectionPool.acquire}, until `release()`. */
export interface ChannelLease {
  /** The SFTP session. */
  readonly session: SftpSession;
  /** Largest READ the server answers in one reply (OpenSSH announces it; others get a safe default). */
  readonly maxReadLen: number;
  /** Why the connection went away, once it did. */
  readonly lost: DownloadError | undefined;
  /** Calls `listener` once if the connection is lost; returns a function that unsubscribes. */
  onLost(listener: (error: DownloadError) => void): () => void;
  /** Gives the channel back. Safe to call more than once. */
  release(): void;
}

/** One SFTP channel of a connection. */
class Channel {
  leases = 0;
  session: SftpSession | undefined;
  closed = false;
  readonly ready: Promise<SftpSession>;

  constructor(
    readonly connection: Connection,
    opening: Promise<SftpSession>,
    /** True for channels beyond a connection's first. */
    readonly extra: boolean,
  ) {
    this.ready = opening.then((session) => {
      this.session = session;
      session.onClose(() => (this.closed = true));
      return session;
    });
    // Failures are reported to whoever awaits `ready`; an opening nobody awaits any more must not crash.
    this.ready.catch(() => undefined);
  }
}

/** One SSH connection (an ssh2 Client) and its SFTP channels. */
class Connection {
  readonly channels: Channel[] = [];
  state: 'connecting' | 'ready' | 'closed' = 'connecting';
  /** Channels the server accepts on it; lowered when it refuses one (OpenSSH's MaxSessions). */
  channelLimit: number;
  lost: DownloadError | undefined;
  readonly ssh = new Client();
  private readonly listeners = new Set<(error: DownloadError) => void>();
  private idleTimer: NodeJS.Timeout | undefined;
  private ending: DownloadError | undefined;
  /** Whether a socket was ever opened (else there is nothing to end). */
  private started = false;
  /** Stops a proxy tunnel still being set up. */
  private readonly tunnelAbort = new AbortController();

  constructor(
    readonly id: number,
    private readonly target: PoolTarget,
    channelLimit: number,
  ) {
    this.channelLimit = channelLimit;
    // Errors reach whoever connects or holds a lease (through 'close'); an unheard 'error' must not crash.
    this.ssh.on('error', (err: unknown) => this.onError?.(err));
    this.ssh.on('close', () =>
      this.markLost(
        this.ending ??
          new NetworkError(ErrorCodes.CONNECTION_RESET, `The SSH connection to ${target.label} was lost`, { url: target.where }),
      ),
    );
  }

  /**
   * The socket for ssh2: a direct one whose reads land in large slabs (see connectSlabSocket; ssh2
   * waits for it to connect), or a tunnel through the target's proxy (a plain socket: the tunnel's
   * handshake must leave the server's banner buffered, which slab reads would hand on at once).
   */
  private async openSocket(timeoutMs: number): Promise<Socket> {
    const proxy = this.target.proxy;
    if (proxy === undefined) return connectSlabSocket(this.target.host, this.target.port);
    return await openTunnel(proxy, this.target.host, this.target.port, { timeoutMs, signal: this.tunnelAbort.signal });
  }

  /** While connecting: sees ssh2's errors (with their `level`). */
  private onError: ((err: unknown) => void) | undefined;

  /** Connects, authenticates and opens the first SFTP channel, all within `timeoutMs`. */
  async connect(planner: ConnectPlanner, timeoutMs: number, settings: PoolSettings): Promise<SftpSession> {
    let plan: ConnectPlan;
    try {
      plan = await planner();
    } catch (err) {
      // Nothing was sent (an unreadable key, say): the connection never existed.
      const error = isDownloadError(err)
        ? err
        : new NetworkError(ErrorCodes.CONNECT, `Cannot prepare the SSH connection to ${this.target.label}`, { cause: err });
      this.markLost(error);
      throw error;
    }
    let raw: unknown;
    let timer: NodeJS.Timeout | undefined;
    try {
      const connecting = this.openSocket(timeoutMs).then((sock) => new Promise<void>((resolve, reject) => {
        this.started = true;
        this.onError = (err) => {
          raw ??= err;
          reject(err instanceof Error ? err : new Error(String(err)));
        };
        this.ssh.once('ready', resolve);
        this.ssh.once('close', () => reject(new Error('The connection closed during the SSH handshake')));
        this.ssh.connect({
          ...plan.config,
          sock,
          host: this.target.host,
          port: this.target.port,
          username: this.target.username,
          readyTimeout: timeoutMs,
          keepaliveInterval: settings.keepaliveIntervalMs,
          keepaliveCountMax: 3,
        });
        // Requests and replies are small and sequential at times (open, stat): no Nagle delays.
        this.ssh.setNoDelay(true);
      })).then(() => this.openChannel());
      const deadline = new Promise<never>((_, reject) => {
        // readyTimeout ends at authentication; this also bounds the SFTP subsystem's start.
        timer = setTimeout(() => {
          const err = Object.assign(new Error('Timed out while waiting for the SFTP session'), { level: 'client-timeout' });
          raw ??= err;
          reject(err);
          this.tunnelAbort.abort(err);
          this.ssh.destroy();
        }, timeoutMs + 1000);
      });
      const session = await Promise.race([connecting, deadline]);
      this.state = 'ready';
      return session;
    } catch (err) {
      const error = connectError(raw ?? err, {
        target: this.target.label,
        where: this.target.where,
        tried: plan.tried,
        skipped: plan.skipped,
        hostKeyFailure: plan.hostKey.failure,
        connectTimeoutMs: timeoutMs,
      });
      this.ending = error;
      this.ssh.destroy();
      this.markLost(error);
      throw error;
    } finally {
      clearTimeout(timer);
      this.onError = undefined;
    }
  }

  /** Opens an SFTP channel on this (authenticated) connection. */
  async openChannel(): Promise<SftpSession> {
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      try {
        this.ssh.subsys('sftp', (err, stream) => (err ? reject(err) : resolve(stream)));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    return await SftpSession.start(channel);
  }

  onLost(listener: (error: DownloadError) => void): () => void {
    if (this.lost !== undefined) {
      queueMicrotask(() => listener(this.lost!));
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts the idle countdown when no channel is leased; stops it while one is. */
  touch(idleTimeoutMs: number, onIdle: () => void): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.state !== 'ready' || this.channels.some((c) => c.leases > 0)) return;
    this.idleTimer = setTimeout(onIdle, idleTimeoutMs);
    // An idle pooled connection must not keep a finished program alive.
    this.idleTimer.unref();
  }

  /** Ends the connection on purpose; channels still leased see `reason`. Resolves once it is closed. */
  async end(reason: DownloadError): Promise<void> {
    clearTimeout(this.idleTimer);
    if (this.state === 'closed') return;
    this.ending = reason;
    this.tunnelAbort.abort(reason);
    if (!this.started) {
      this.markLost(reason);
      return;
    }
    const closed = new Promise<void>((resolve) => this.ssh.once('close', () => resolve()));
    this.ssh.end();
    const timer = setTimeout(() => this.ssh.destroy(), END_TIMEOUT_MS);
    // Bounded even if no 'close' ever comes: closing the plugin must not hang.
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2 * END_TIMEOUT_MS).unref())]);
    clearTimeout(timer);
    this.markLost(reason);
  }

  private markLost(error: DownloadError): void {
    clearTimeout(this.idleTimer);
    this.state = 'closed';
    this.lost ??= error;
    for (const channel of this.channels) channel.closed = true;
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const listener of listeners) listener(this.lost);
  }
}

/**
 * SSH connections to one host as one user, each with several SFTP channels, shared by every
 * download of the plugin. `acquire` hands out an idle channel, else opens a channel on a new
 * connection (up to `connections`), else one more channel on the least busy connection (up to
 * `channels` each), else shares the least busy channel (SFTP multiplexes requests by id).
 * Connections that fail or are lost leave the pool; idle ones close after `idleTimeoutMs`.
 */
export class ConnectionPool {
  private readonly connections: Connection[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly target: PoolTarget,
    private readonly settings: PoolSettings,
    private readonly planner: ConnectPlanner,
  ) {}

  /** SSH connections open or opening. */
  get size(): number {
    return this.connections.filter((c) => c.state !== 'closed').length;
  }

  /**
   * A channel for one transfer or request.
   *
   * @param signal - Aborts the wait (not a connection other requests may share).
   * @param connectTimeoutMs - Bounds a new connection, authentication and SFTP start included.
   * @throws DownloadError - the connection's failure (AUTH, HOST_KEY_*, CONNECT ...), or the abort reason.
   */
  async acquire(signal: AbortSignal, connectTimeoutMs: number): Promise<ChannelLease> {
    for (;;) {
      if (this.closed) throw new AbortError(`The SFTP plugin was closed (${this.target.where})`, { url: this.target.where });
      if (signal.aborted) throw abortError(signal.reason, this.target.where);
      const channel = this.pick(connectTimeoutMs);
      channel.leases++;
      this.idle(channel.connection);
      let session: SftpSession;
      try {
        session = await raceSignal(channel.ready, signal, this.target.where);
      } catch (err) {
        channel.leases--;
        this.idle(channel.connection);
        const connection = channel.connection;
        if (!signal.aborted && channel.extra && connection.state === 'ready') {
          // The server refused one more channel (MaxSessions): share the ones it has instead.
          connection.channelLimit = Math.max(1, connection.channels.filter((c) => c !== channel && !c.closed).length);
          connection.channels.splice(connection.channels.indexOf(channel), 1);
          continue;
        }
        throw err;
      }
      if (channel.closed) {
        channel.leases--;
        continue;
      }
      return this.lease(channel, session);
    }
  }

  /** Ends every connection; leases still out see MG_ERR_ABORTED. Later acquires fail. */
  async close(): Promise<void> {
    this.closed = true;
    const reason = new AbortError(`The SFTP plugin was closed (${this.target.where})`, { url: this.target.where });
    const all = this.connections.splice(0);
    await Promise.all(all.map((c) => c.end(reason)));
  }

  private lease(channel: Channel, session: SftpSession): ChannelLease {
    let released = false;
    const connection = channel.connection;
    return {
      session,
      maxReadLen: session.server.maxReadLen,
      get lost() {
        return connection.lost ?? (channel.closed ? new NetworkError(ErrorCodes.CONNECTION_RESET, 'The SFTP channel closed') : undefined);
      },
      onLost: (listener) => connection.onLost(listener),
      release: () => {
        if (released) return;
        released = true;
        channel.leases--;
        this.idle(connection);
      },
    };
  }

  private idle(connection: Connection): void {
    connection.touch(this.settings.idleTimeoutMs, () => {
      this.forget(connection);
      void connection.end(new AbortError('The idle SFTP connection was closed'));
    });
  }

  private forget(connection: Connection): void {
    const i = this.connections.indexOf(connection);
    if (i >= 0) this.connections.splice(i, 1);
  }

  /** Chooses (or opens) the channel for the next lease; see the class comment for the order. */
  private pick(connectTimeoutMs: number): Channel {
    for (const c of [...this.connections]) if (c.state === 'closed') this.forget(c);
    for (const c of this.connections) {
      for (const ch of [...c.channels]) if (ch.closed) c.channels.splice(c.channels.indexOf(ch), 1);
    }
    const channels = this.connections.flatMap((c) => c.channels);
    const idle = channels.filter((ch) => ch.leases === 0);
    const idleReady = idle.find((ch) => ch.session !== undefined);
    if (idleReady !== undefined) return idleReady;
    if (idle[0] !== undefined) return idle[0];
    if (this.connections.length < this.settings.connections) return this.open(connectTimeoutMs);
    const roomy = this.connections
      .filter((c) => c.channels.length < Math.min(c.channelLimit, this.settings.channels))
      .sort((a, b) => a.channels.length - b.channels.length)[0];
    if (roomy !== undefined) {
      const opening = (roomy.state === 'ready' ? roomy.openChannel() : firstReady(roomy).then(() => roomy.openChannel())).catch(
        (err: unknown) => {
          throw (
            roomy.lost ??
            new NetworkError(
              ErrorCodes.CONNECTION_RESET,
              `Cannot open another SFTP channel to ${this.target.label}: ${err instanceof Error ? err.message : String(err)}`,
              { cause: err, url: this.target.where },
            )
          );
        },
      );
      const channel = new Channel(roomy, opening, true);
      roomy.channels.push(channel);
      return channel;
    }
    return channels.reduce((best, ch) => (ch.leases < best.leases ? ch : best));
  }

  private open(connectTimeoutMs: number): Channel {
    const connection = new Connection(++this.nextId, this.target, this.settings.channels);
    this.connections.push(connection);
    const channel = new Channel(connection, connection.connect(this.planner, connectTimeoutMs, this.settings), false);
    connection.channels.push(channel);
    channel.ready.then(
      () => this.idle(connection),
      () => this.forget(connection),
    );
    return channel;
  }
}

/** Resolves when the connection's first channel is ready (so the connection is). */
function firstReady(connection: Connection): Promise<unknown> {
  return connection.channels[0]?.ready ?? Promise.reject(new Error('no connection'));
}

/** `promise`, unless `signal` aborts first. */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal, where: string): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal.reason, where));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal.reason, where));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
