import {
  ErrorCodes,
  ProtocolError,
  ProtocolPlugin,
  ProxyResolver,
  RemoteChangedError,
  UsageError,
  type ByteSource,
  type Job,
  type RangeRequest,
  type RemoteEntry,
  type RemoteInfo,
  type Validators,
} from '@multiget/core';
import { FtpByteSource } from './FtpByteSource.js';
import { ftpFailure } from './ftpErrors.js';
import { failureContext, type FtpSession, type SessionSettings } from './FtpSession.js';
import { ftpTarget, type FtpTarget, type FtpTlsOption } from './ftpTarget.js';
import { FtpTransfer, RestRefused } from './FtpTransfer.js';
import { listFolder } from './list.js';
import { SessionPool } from './SessionPool.js';
import { trustStore, type CaOption } from './trustStore.js';

const PLUGIN_NAME = 'FtpPlugin';

/** Options of {@link FtpPlugin}. */
export interface FtpPluginOptions {
  /**
   * How `ftp://` URLs are secured. `ftps://` URLs always use implicit TLS (default port 990), as in
   * curl. Default `'off'`.
   * - `'off'`: plain FTP.
   * - `'explicit'`: AUTH TLS is required (curl's `--ssl-reqd`); a server that refuses AUTH TLS,
   *   PBSZ or PROT P fails with MG_ERR_TLS, never falling back to clear text.
   * - `'implicit'`: TLS from the first byte on the URL's port (default 21 for `ftp://`).
   */
  tls?: FtpTlsOption;
  /** Extra trusted CA certificates (PEM), in addition to the default trust store (server and `https://` proxy). */
  ca?: CaOption;
  /** Skip TLS certificate verification (server and `https://` proxy). Off by default; only when explicitly asked. */
  insecure?: boolean;
  /**
   * Milliseconds to wait for any control reply (and for a data connection to open); also the
   * connect timeout when a job has none. 0 means no limit. Default 30000. Stalled data is the
   * engine's business (`stallTimeoutMs`), not this timeout's.
   */
  timeoutMs?: number;
  /** Milliseconds an unused control connection stays open in the pool. Default 15000. */
  idleTimeoutMs?: number;
  /**
   * Proxy for the control and every data connection: `socks5://` (names resolved here),
   * `socks5h://` (names resolved by the proxy), or `http://` / `https://` (a CONNECT tunnel per
   * connection: the proxy must allow CONNECT to the FTP ports, else MG_ERR_PROXY). Optional
   * `user:password@`. Overrides the environment.
   */
  proxy?: string;
  /** Hosts reached without the proxy (NO_PROXY syntax). Default: NO_PROXY from the environment. */
  noProxy?: string;
  /**
   * Honour FTP_PROXY (FTPS_PROXY for `ftps://`), then ALL_PROXY, and NO_PROXY (lower-case forms
   * first). Default true. Read when the plugin is constructed.
   */
  useEnvProxy?: boolean;
  /**
   * Milliseconds to wait for the server's reply after a transfer was cut short (the segment ended
   * before the file did); a server that takes longer loses that control connection. Default 5000.
   */
  drainTimeoutMs?: number;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, `${name} must be a non-negative number, got ${value}`);
  }
  return value;
}

/** MG_ERR_RANGE_IGNORED for a REST at `start` the server refused (5xx): the engine goes on in one stream. */
function restRefused(target: FtpTarget, start: number, err: RestRefused, job: Job): ProtocolError {
  job.log.info('REST refused: one stream', () => ({ host: target.host, start, ftpCode: err.ftpCode }));
  return new ProtocolError(ErrorCodes.RANGE_IGNORED, `${target.url.href} refused to restart at byte ${start} (FTP ${err.ftpCode}); downloading in one stream`, {
    ftpCode: err.ftpCode,
    url: target.url.href,
  });
}

/**
 * Whether the server starts a RETR where REST says: a retrieval of a `size`-byte file from its last
 * byte must bring exactly one byte. Some servers answer REST with 350 and then send the whole file
 * from its first byte; every range but the first would then hold the file's beginning, and nothing
 * in FTP shows it (no Content-Range): the bytes would be written where they do not belong, and a
 * range that stops before the end of the file would never notice. Leaves `session` in step (or
 * closed, which the pool then discards).
 */
async function restHonoured(session: FtpSession, path: string, size: number, drainMs: number): Promise<boolean> {
  const transfer = await FtpTransfer.start(session, path, size - 1);
  let received = 0;
  try {
    for (let chunk = await transfer.read(); chunk !== null; chunk = await transfer.read()) {
      received += chunk.byteLength;
      if (received > 1) break;
    }
  } finally {
    if (!transfer.reachedEnd) transfer.closeData();
    await transfer.drain(drainMs);
    if (!transfer.synced) session.close();
  }
  // None: the file is shorter than its SIZE says (the range itself then comes short), not a sign
  // of REST ignored.
  return received <= 1;
}

/**
 * FTP and FTPS through basic-ftp: `ftp://` and `ftps://` URLs.
 *
 * - `probe` logs in (anonymous unless the URL or `credentials` name a user), asks SIZE and MDTM
 *   (the validators: `size`, `mtime`), learns whether REST STREAM works (FEAT, else `REST 0`), and
 *   starts a RETR from byte 0 that the engine adopts as its first stream. Without SIZE the file is
 *   one stream of unknown length, complete only when RETR ends with a 2xx reply.
 * - `fetchRange` takes a control connection from the pool (per security, host, port and
 *   credentials), checks SIZE and MDTM against the validators (MG_ERR_REMOTE_CHANGED), and reads
 *   the range with REST + RETR; REST refused is MG_ERR_RANGE_IGNORED (the engine then falls back to
 *   one stream). The first range mid-file on a server first checks that it honours REST (a RETR
 *   from the last byte brings one byte); one that sends from byte 0 anyway is MG_ERR_RANGE_IGNORED.
 * - Passive mode only: EPSV, then PASV; a PASV reply naming another host than the control
 *   connection's is refused (basic-ftp's default, kept: FTP bounce protection).
 * - Proxies (`proxy`, FTP_PROXY, ALL_PROXY, NO_PROXY): SOCKS5 or an HTTP proxy's CONNECT carries
 *   the control connection and every data connection, which then goes to the control connection's
 *   host at the port of the EPSV/PASV reply. Never a direct connection while a proxy applies.
 * - The path is relative to the login directory (RFC 1738); `%2F` at its start makes it absolute.
 * - Credentials never leave the control connection: not in URLs the engine stores, not in
 *   messages (a server echoing them in a reply is scrubbed), not in logs (basic-ftp's verbose log
 *   stays off).
 *
 * @example
 * const ftp = new FtpPlugin({ tls: 'explicit', ca: fs.readFileSync('corp-root.pem') });
 * const mg = new Multiget({ plugins: [ftp] });
 * await mg.download('ftp://mirror.example.org/pub/file.iso', { connections: 4 }).done;
 * await mg.close();
 */
export class FtpPlugin extends ProtocolPlugin {
  /** Plugin name, used for every tap. */
  readonly name = PLUGIN_NAME;
  /** URL schemes served. */
  readonly schemes: readonly string[] = ['ftp:', 'ftps:'];
  private readonly tls: FtpTlsOption;
  private readonly tlsOptions: SessionSettings['tls'];
  private readonly timeoutMs: number;
  private readonly drainMs: number;
  private readonly pool: SessionPool;
  private readonly proxies: ProxyResolver;
  /**
   * Per server (`host:port`), whether it starts a RETR where REST says ({@link restHonoured}):
   * found out once by the first range that starts mid-file, shared by the ranges that ask meanwhile.
   */
  private readonly restChecks = new Map<string, Promise<boolean>>();

  /**
   * @param options - TLS mode for `ftp://` URLs, trust, timeouts; see {@link FtpPluginOptions}.
   * @throws UsageError (MG_ERR_INVALID_OPTION) for an unknown `tls` value, a negative timeout or an
   *   unusable `proxy`.
   */
  constructor(options: FtpPluginOptions = {}) {
    super();
    const tls = options.tls ?? 'off';
    if (!['off', 'explicit', 'implicit'].includes(tls)) {
      throw new UsageError(ErrorCodes.INVALID_OPTION, `tls must be 'off', 'explicit' or 'implicit', got ${String(tls)}`);
    }
    this.tls = tls;
    this.tlsOptions = {
      rejectUnauthorized: options.insecure !== true,
      ...(options.ca === undefined ? {} : { ca: trustStore(options.ca) }),
    };
    this.timeoutMs = nonNegative('timeoutMs', options.timeoutMs ?? 30_000);
    this.drainMs = nonNegative('drainTimeoutMs', options.drainTimeoutMs ?? 5_000);
    this.pool = new SessionPool(nonNegative('idleTimeoutMs', options.idleTimeoutMs ?? 15_000));
    this.proxies = new ProxyResolver({
      ...(options.proxy === undefined ? {} : { proxy: options.proxy }),
      ...(options.noProxy === undefined ? {} : { noProxy: options.noProxy }),
      useEnv: options.useEnvProxy !== false,
    });
  }

  /**
   * Learns size, modification time, REST support and name of `job.url`, and opens its first stream.
   *
   * @throws DownloadError - MG_ERR_AUTH (530), MG_ERR_NOT_FOUND / MG_ERR_FORBIDDEN (550),
   *   MG_ERR_SERVER_BUSY (421), MG_ERR_TLS, network errors, MG_ERR_INVALID_URL.
   */
  async probe(job: Job): Promise<RemoteInfo> {
    const target = this.target(job);
    const signal = job.signal;
    return await this.withSession(target, job, signal, async (session) => {
      const size = await session.size(target.path);
      const mtime = await session.mdtm(target.path);
      const validators: Validators = {};
      if (size !== undefined) validators.size = size;
      if (mtime !== undefined) validators.mtime = mtime;
      const info: RemoteInfo = {
        url: target.url,
        size,
        // An empty file has no range to ask for: "ranges" then only says resuming is trivial.
        ranges: size === 0 || (size !== undefined && (await session.restSupported())),
        validators,
        digests: [],
        ...(target.fileName === undefined ? {} : { fileName: target.fileName }),
      };
      job.log.debug('probe', () => ({ host: target.host, size, mtime, rest: info.ranges }));
      if (!info.ranges && size !== 0) {
        job.log.info('no ranges: one stream', () => ({ reason: size === undefined ? 'no SIZE reply' : 'REST STREAM not supported' }));
      }
      if (size === 0) return { value: info, owned: false };
      info.initialSource = await this.open(session, target, {
        start: 0,
        end: undefined,
        size,
        validators,
        signal,
      }, job);
      return { value: info, owned: true };
    });
  }

  /**
   * Opens the bytes [req.start, req.end] of `job.url` on a pooled control connection: SIZE and
   * MDTM must still match `req.validators`, then REST and RETR.
   *
   * @throws DownloadError - MG_ERR_REMOTE_CHANGED, MG_ERR_RANGE_IGNORED (REST refused, or a range
   *   asked of a server that does not serve ranges), the reply and network errors of `probe`.
   */
  async fetchRange(req: RangeRequest, job: Job): Promise<ByteSource> {
    const target = this.target(job);
    const ranges = job.remote?.ranges ?? true;
    if (req.start > 0 && !ranges) {
      throw new ProtocolError(ErrorCodes.RANGE_IGNORED, `${target.url.href} cannot restart mid-file (no REST); cannot fetch from byte ${req.start}`, {
        url: target.url.href,
      });
    }
    const signal = req.signal === job.signal ? req.signal : AbortSignal.any([req.signal, job.signal]);
    return await this.withSession(target, job, signal, async (session) => {
      const expectedSize = req.size ?? req.validators.size;
      if (expectedSize !== undefined || req.validators.mtime !== undefined) {
        const change = await session.changedSince(target.path, req.validators, expectedSize);
        if (change !== undefined) {
          throw new RemoteChangedError(`${target.url.href} changed: ${change}`, { url: target.url.href });
        }
      }
      if (req.start > 0 && expectedSize !== undefined && expectedSize > req.start) await this.checkRest(session, target, expectedSize, job);
      const source = await this.open(session, target, {
        start: req.start,
        end: req.end,
        size: expectedSize,
        validators: req.validators,
        signal,
      }, job);
      return { value: source, owned: true };
    });
  }

  /**
   * Lists the folder `job.url` names (MLSD where offered, else LIST; see `list.ts`) on a
   * pooled control connection with the job's login, TLS and proxy, for whole-folder downloads.
   *
   * @throws DownloadError - MG_ERR_NOT_FOUND / MG_ERR_FORBIDDEN (550), and the errors of `probe`.
   */
  async list(job: Job): Promise<RemoteEntry[]> {
    const target = ftpTarget(job.url, job.options.credentials, this.tls, true);
    return await this.withSession(target, job, job.signal, async (session) => ({ value: await listFolder(session, target.path), owned: false }));
  }

  /**
   * Makes sure the server honours REST before a range mid-file is trusted to it: asked once per
   * server (on `session`, which is in step again afterwards), or awaited when another range asks.
   *
   * @throws DownloadError - MG_ERR_RANGE_IGNORED when the server sent more than the last byte
   *   (the engine then starts over in one stream), or the errors of the retrieval.
   */
  private async checkRest(session: FtpSession, target: FtpTarget, size: number, job: Job): Promise<void> {
    const key = `${target.host}:${target.port}`;
    let check = this.restChecks.get(key);
    if (check === undefined) {
      check = restHonoured(session, target.path, size, this.drainMs);
      this.restChecks.set(key, check);
      // A failed check (REST refused, a dropped connection) is not remembered: the next range asks again.
      check.catch(() => this.restChecks.delete(key));
    }
    let honoured: boolean;
    try {
      honoured = await check;
    } catch (err) {
      if (err instanceof RestRefused) throw restRefused(target, size - 1, err, job);
      throw err;
    }
    if (honoured) return;
    job.log.info('REST ignored: one stream', () => ({ host: target.host }));
    throw new ProtocolError(
      ErrorCodes.RANGE_IGNORED,
      `${target.url.href} answers REST but a retrieval of its last byte brought more: it sends from the first byte, so its ranges cannot be used`,
      { url: target.url.href },
    );
  }

  /** Control connections of this plugin: open ones (idle or in use), and idle ones in the pool. */
  get connections(): {
    /** Control connections open, idle or in use. */
    open: number;
    /** Of those, the idle ones waiting in the pool. */
    idle: number;
  } {
    return { open: this.pool.open, idle: this.pool.idleCount };
  }

  /** Closes every control connection of this plugin, idle or in use. */
  override async close(): Promise<void> {
    this.pool.close();
  }

  /** What a log line says of a new control connection: where, how secured, which login (never the password). */
  private describe(target: FtpTarget): Record<string, unknown> {
    return {
      host: target.host,
      port: target.port,
      security: target.security === 'none' ? 'plain FTP' : `${target.security} TLS`,
      ...(target.security !== 'none' ? { certificates: this.tlsOptions.rejectUnauthorized === false ? 'not checked (insecure)' : 'checked' } : {}),
      login: target.anonymous ? 'anonymous' : 'credentials',
    };
  }

  private target(job: Job): FtpTarget {
    // job.url, not job.remote.url: only the caller's URL carries userinfo (FTP has no redirects).
    return ftpTarget(job.url, job.options.credentials, this.tls);
  }

  private settings(job: Job, target: FtpTarget): SessionSettings {
    const connect = job.options.connectTimeoutMs;
    return {
      connectTimeoutMs: Number.isFinite(connect) && connect > 0 ? connect : this.timeoutMs,
      replyTimeoutMs: this.timeoutMs,
      tls: this.tlsOptions,
      proxy: this.proxies.proxyFor(target.url),
    };
  }

  /**
   * Runs `work` on a session of the pool. A session the work keeps (`owned`: a source now reads
   * from it) is the source's to return; any other goes back to the pool when it is still in step,
   * or is closed. A reused session that turns out to have died while idle is replaced once.
   */
  private async withSession<T>(
    target: FtpTarget,
    job: Job,
    signal: AbortSignal,
    work: (session: FtpSession) => Promise<{ value: T; owned: boolean }>,
  ): Promise<T> {
    const context = failureContext(target, 'command');
    for (let attempt = 0; ; attempt++) {
      const { session, reused } = await this.pool.acquire(target, this.settings(job, target), signal);
      if (reused) job.log.trace('control connection reused', () => ({ host: target.host }));
      else job.log.debug('control connection opened', () => this.describe(target));
      // Commands cannot be aborted one by one: closing the connection is how a stop gets through.
      const onAbort = (): void => this.pool.discard(session);
      signal.addEventListener('abort', onAbort, { once: true });
      let owned = false;
      try {
        const result = await work(session);
        owned = result.owned;
        return result.value;
      } catch (err) {
        const error = ftpFailure(err, context, signal);
        const stale = reused && attempt === 0 && session.closed && !signal.aborted;
        if (stale && (error.code === ErrorCodes.CONNECTION_RESET || error.code === ErrorCodes.SERVER_BUSY || error.code === ErrorCodes.TIMEOUT)) {
          job.log.debug('pooled control connection had died; opening another', () => ({ host: target.host, code: error.code }));
          continue;
        }
        throw error;
      } finally {
        signal.removeEventListener('abort', onAbort);
        if (!owned) {
          if (session.closed) this.pool.discard(session);
          else this.pool.release(session);
        }
      }
    }
  }

  /** Starts a RETR at `start` on `session` and wraps it; the source owns the session from then on. */
  private async open(
    session: FtpSession,
    target: FtpTarget,
    range: { start: number; end: number | undefined; size: number | undefined; validators: Validators; signal: AbortSignal },
    job: Job,
  ): Promise<FtpByteSource> {
    const context = failureContext(target, 'transfer');
    let transfer: FtpTransfer;
    try {
      transfer = await FtpTransfer.start(session, target.path, range.start);
    } catch (err) {
      if (err instanceof RestRefused) throw restRefused(target, range.start, err, job);
      throw ftpFailure(err, context, range.signal);
    }
    return new FtpByteSource({
      session,
      transfer,
      pool: this.pool,
      start: range.start,
      end: range.end,
      size: range.size,
      path: target.path,
      validators: range.validators,
      context,
      signal: range.signal,
      drainMs: this.drainMs,
    });
  }
}
