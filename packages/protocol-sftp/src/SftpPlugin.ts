import { createHash } from 'node:crypto';
import { homedir, userInfo } from 'node:os';
import {
  AbortError,
  ErrorCodes,
  NetworkError,
  ProtocolError,
  ProtocolPlugin,
  ProxyResolver,
  RemoteChangedError,
  UsageError,
  Log,
  redactUrl,
  type ByteSource,
  type Job,
  type RangeRequest,
  type RemoteEntry,
  type RemoteInfo,
  validatorMismatch,
} from '@multiget/core';
import type { Algorithms, ConnectConfig } from 'ssh2';
import { authHandler, expandHome, loadIdentities, usableAgent, type Identities } from './auth.js';
import { ConnectionPool, type ChannelLease, type ConnectPlan, type PoolTarget } from './ConnectionPool.js';
import { HostKeyCheck, type TrustSource } from './hostKeyPolicy.js';
import { listFolder } from './list.js';
import { SftpByteSource } from './SftpByteSource.js';
import type { SftpAttributes } from './SftpSession.js';
import { abortError, requestError } from './sftpErrors.js';
import { fingerprintOf, normalizeFingerprint } from './sshKey.js';
import { parseSftpUrl, type SftpLocation } from './sftpUrl.js';

const PLUGIN_NAME = 'SftpPlugin';

/**
 * Defaults measured against OpenSSH 9.2 on loopback (packages/protocol-sftp/README.md, "Measured
 * defaults"): see there before changing them.
 */
export const SFTP_DEFAULTS = {
  /** SSH connections per host and user. */
  connectionsPerHost: 2,
  /** SFTP channels per SSH connection. */
  channelsPerConnection: 2,
  /** Bytes per READ request (OpenSSH's limit, 255 KiB). */
  readSize: 255 * 1024,
  /** Bytes requested ahead of the reader per transfer (1 MiB). */
  readAheadBytes: 1024 * 1024,
  /** Milliseconds before an unused SSH connection is closed. */
  idleTimeoutMs: 30_000,
  /** Milliseconds between SSH keepalives. */
  keepaliveIntervalMs: 15_000,
} as const;

/** Options of {@link SftpPlugin}. Secrets given here are kept in memory only, never written or logged. */
export interface SftpPluginOptions {
  /** User name when the URL has none and the download's credentials give none. Default: the OS user. */
  username?: string;
  /** Password when neither the URL nor the download's credentials give one. */
  password?: string;
  /**
   * A private key: a file path (`~/` allowed) or the key text (PEM or OpenSSH format). When given it
   * replaces the default keys (`~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`) and is tried before the agent.
   */
  privateKey?: string | Buffer;
  /** Passphrase of an encrypted `privateKey` (also tried on encrypted default keys). */
  passphrase?: string | Buffer;
  /** ssh-agent socket. Default: `SSH_AUTH_SOCK` when the plugin is created; `false` for no agent. */
  agent?: string | false;
  /**
   * known_hosts file(s) to trust, instead of the defaults `~/.ssh/known_hosts`,
   * `~/.ssh/known_hosts2`, `/etc/ssh/ssh_known_hosts` and `/etc/ssh/ssh_known_hosts2`.
   */
  knownHosts?: string | string[];
  /**
   * Pinned host key fingerprint(s), `SHA256:...` as `ssh-keygen -l` prints them. When given, only a
   * key with one of them is accepted and known_hosts is not read.
   */
  fingerprint?: string | string[];
  /** Home directory for `~/.ssh` lookups and `~/` in paths. Default: the OS home (tests use a temporary one). */
  home?: string;
  /** SSH connections per host and user, shared by all downloads of this plugin. Default 2 (measured). */
  connectionsPerHost?: number;
  /**
   * SFTP channels per SSH connection. Default 2 (measured). Beyond connections × channels, transfers
   * share channels. Each channel's flow-control window is 2 MiB (fixed in ssh2), so on a long round
   * trip one channel carries at most about 1.5 MiB per round trip: raise this for distant servers.
   */
  channelsPerConnection?: number;
  /** Bytes per SFTP READ request; capped by the server's limit (OpenSSH: 255 KiB). Default 255 KiB. */
  readSize?: number;
  /**
   * Bytes requested ahead of the reader per transfer: the pipeline depth is this divided by the read
   * size (at least 1 request, at most 256). Deeper pipelines hide more latency; what is in flight
   * when the engine splits a segment is read for nothing. Default 1 MiB (4 requests to OpenSSH).
   */
  readAheadBytes?: number;
  /** An unused SSH connection is closed after this many milliseconds. Default 30000. */
  idleTimeoutMs?: number;
  /** SSH keepalive interval in milliseconds (3 unanswered end the connection); 0 for none. Default 15000. */
  keepaliveIntervalMs?: number;
  /**
   * Ciphers to offer, most preferred first (as `ssh -c`), from what ssh2 supports. Default: ssh2's
   * list (AES-GCM first), which measured fastest.
   */
  ciphers?: string[];
  /** MACs to offer for non-AEAD ciphers, most preferred first (as `ssh -m`). Default: ssh2's list. */
  macs?: string[];
  /**
   * Proxy for the SSH connections: `socks5://` (names resolved here), `socks5h://` (names resolved
   * by the proxy) or `http://` / `https://` (a CONNECT tunnel), with optional `user:password@`.
   * Overrides the environment.
   */
  proxy?: string;
  /** Hosts reached without the proxy (NO_PROXY syntax). Default: NO_PROXY from the environment. */
  noProxy?: string;
  /**
   * Honour SFTP_PROXY, then ALL_PROXY, and NO_PROXY (lower-case forms first). Default true. Read
   * when the plugin is constructed.
   */
  useEnvProxy?: boolean;
}

/** What one download's URL resolves to. */
interface Target extends PoolTarget {
  readonly location: SftpLocation;
  readonly password: string | undefined;
  readonly key: string;
}

function integer(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid ${name}: ${String(value)} (expected an integer ${min}..${max})`);
  }
  return v;
}

/**
 * SFTP downloads (`sftp://[user[:password]@]host[:port]/path`) over ssh2, read with the copy-free {@link SftpSession}.
 *
 * `probe` stats the file: its size and modification time are the validators, and byte ranges always
 * work. `fetchRange` opens the file, checks with an fstat (pipelined with the first reads) that it
 * is still the same size and mtime (else MG_ERR_REMOTE_CHANGED), and streams the range with
 * pipelined READ requests. Transfers share a pool of SSH connections per host and user, several
 * SFTP channels each; `close()` ends them.
 *
 * Authentication is what OpenSSH users expect: the explicit key (or else ssh-agent, then
 * `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`), then the password (URL, the download's credentials,
 * or the option) with `password` and `keyboard-interactive`. Host keys are checked against
 * known_hosts (plain, `[host]:port`, hashed and wildcard entries; `@revoked` refused) or a pinned
 * fingerprint; an unknown key fails with MG_ERR_HOST_KEY_UNKNOWN and a changed one with
 * MG_ERR_HOST_KEY_CHANGED. Nothing is trusted on first use.
 *
 * @example
 * const sftp = new SftpPlugin({ privateKey: '~/.ssh/deploy_ed25519' });
 * const mg = new Multiget({ plugins: [sftp] });
 * await mg.download('sftp://me@files.example.com/srv/big.iso', { dir: 'downloads' }).done;
 * await mg.close();
 */
export class SftpPlugin extends ProtocolPlugin {
  /** Plugin name, used for every tap. */
  readonly name = PLUGIN_NAME;
  /** URL schemes served. */
  readonly schemes: readonly string[] = ['sftp:'];
  private readonly options: SftpPluginOptions;
  private readonly home: string;
  private readonly agentSocket: string | undefined;
  private readonly trust: TrustSource;
  private readonly proxies: ProxyResolver;
  private readonly connections: number;
  private readonly channels: number;
  private readonly readSize: number;
  private readonly readAheadBytes: number;
  private readonly idleTimeoutMs: number;
  private readonly keepaliveIntervalMs: number;
  private readonly pools = new Map<string, ConnectionPool>();
  /** The log of the download that last asked each pool for a channel: new connections log there. */
  private readonly logs = new Map<string, Log>();
  private identities: Promise<Identities> | undefined;
  private closed = false;

  /**
   * @param options - Credentials, host key trust and pool sizes; see {@link SftpPluginOptions}.
   * @throws UsageError (MG_ERR_INVALID_OPTION) for a malformed fingerprint or an out-of-range number.
   */
  constructor(options: SftpPluginOptions = {}) {
    super();
    this.options = options;
    this.home = options.home ?? homedir();
    this.agentSocket = options.agent === false ? undefined : (options.agent ?? process.env.SSH_AUTH_SOCK);
    this.connections = integer('connectionsPerHost', options.connectionsPerHost, SFTP_DEFAULTS.connectionsPerHost, 1, 64);
    this.channels = integer('channelsPerConnection', options.channelsPerConnection, SFTP_DEFAULTS.channelsPerConnection, 1, 64);
    this.readSize = integer('readSize', options.readSize, SFTP_DEFAULTS.readSize, 512, 16 * 1024 * 1024);
    this.readAheadBytes = integer('readAheadBytes', options.readAheadBytes, SFTP_DEFAULTS.readAheadBytes, 1, 256 * 1024 * 1024);
    this.idleTimeoutMs = integer('idleTimeoutMs', options.idleTimeoutMs, SFTP_DEFAULTS.idleTimeoutMs, 1, 2 ** 31 - 1);
    this.keepaliveIntervalMs = integer('keepaliveIntervalMs', options.keepaliveIntervalMs, SFTP_DEFAULTS.keepaliveIntervalMs, 0, 2 ** 31 - 1);
    this.trust = this.trustSource(options);
    this.proxies = new ProxyResolver({
      ...(options.proxy === undefined ? {} : { proxy: options.proxy }),
      ...(options.noProxy === undefined ? {} : { noProxy: options.noProxy }),
      useEnv: options.useEnvProxy !== false,
    });
  }

  /**
   * Stats the file.
   *
   * @returns size, `ranges: true`, validators `{ size, mtime }` (mtime in milliseconds), the file
   *   name from the path, and the URL without credentials.
   * @throws DownloadError - MG_ERR_NOT_FOUND (also for a directory), MG_ERR_FORBIDDEN, MG_ERR_AUTH,
   *   MG_ERR_HOST_KEY_UNKNOWN / CHANGED, network errors.
   */
  async probe(job: Job): Promise<RemoteInfo> {
    const target = this.target(job);
    const lease = await this.acquire(target, job, job.signal);
    let st: SftpAttributes;
    try {
      st = await this.request(lease, () => lease.session.stat(target.location.path), `stat of ${target.location.path}`, target, job, job.signal);
    } finally {
      lease.release();
    }
    if (st.isDirectory()) {
      throw new ProtocolError(ErrorCodes.NOT_FOUND, `${target.where} is a directory, not a file`, { url: target.where });
    }
    if (!st.isFile()) {
      throw new ProtocolError(ErrorCodes.PROTOCOL, `${target.where} is not a regular file`, { url: target.where });
    }
    const info: RemoteInfo = {
      url: new URL(target.where),
      size: st.size,
      ranges: true,
      validators: { ...(st.size === undefined ? {} : { size: st.size }), ...(typeof st.mtime === 'number' ? { mtime: st.mtime * 1000 } : {}) },
      digests: [],
    };
    if (target.location.fileName !== undefined) info.fileName = target.location.fileName;
    return info;
  }

  /**
   * Opens the bytes [req.start, req.end] of the file.
   *
   * The file is opened and fstat'ed; the fstat travels with the first READ requests, and no byte is
   * yielded before it confirmed the size (`req.size`) and mtime (`req.validators.mtime`). A second
   * fstat travels with the last READ and is confirmed before the last bytes are yielded, so a file
   * rewritten in place during the transfer is caught too (to the second: SFTP v3 mtimes are seconds).
   *
   * @throws DownloadError - MG_ERR_REMOTE_CHANGED (from the source when the fstat disagrees),
   *   MG_ERR_NOT_FOUND, MG_ERR_FORBIDDEN, connection and authentication errors.
   */
  async fetchRange(req: RangeRequest, job: Job): Promise<ByteSource> {
    const target = this.target(job);
    const signal = req.signal === job.signal ? req.signal : AbortSignal.any([req.signal, job.signal]);
    const lease = await this.acquire(target, job, signal);
    const path = target.location.path;
    let handle: Buffer | undefined;
    try {
      handle = await this.request(lease, () => lease.session.open(path), `open of ${path}`, target, job, signal);
      const opened = handle;
      // The open file must be the version the request is for: its size and mtime, now and at the end.
      const check = async (): Promise<SftpAttributes> => {
        const st = await this.request(lease, () => lease.session.fstat(opened), `fstat of ${path}`, target, job, signal);
        const reason = changedReason(st, req);
        if (reason !== undefined) throw new RemoteChangedError(`${target.where} changed: ${reason}`, { url: target.where });
        return st;
      };
      const attrs = check();
      const validated = attrs.then(() => undefined);
      // Awaited by the source; until then a failure must not count as unhandled.
      validated.catch(() => undefined);
      let end = req.end;
      if (end === undefined) {
        const size = (await attrs).size;
        if (size === undefined) {
          throw new ProtocolError(ErrorCodes.PROTOCOL, `The SFTP server did not tell the size of ${target.where}`, { url: target.where });
        }
        end = size - 1;
      }
      const readSize = Math.min(this.readSize, lease.maxReadLen);
      return new SftpByteSource({
        lease,
        handle,
        path,
        where: target.where,
        start: req.start,
        end,
        readSize,
        inFlight: Math.min(256, Math.max(1, Math.ceil(this.readAheadBytes / readSize))),
        signal,
        validated,
        recheck: async () => void (await check()),
      });
    } catch (err) {
      if (handle !== undefined && lease.lost === undefined) lease.session.close(handle).catch(() => undefined);
      lease.release();
      throw err;
    }
  }

  /**
   * Lists the folder `job.url` names, for whole-folder downloads: through ssh2-sftp-client (see
   * `list.ts`) on a connection of its own, with the same authentication and host key
   * rules as downloads (the same connect options), the job's connect and stall timeouts.
   *
   * @throws DownloadError - MG_ERR_NOT_FOUND / MG_ERR_FORBIDDEN, MG_ERR_AUTH, MG_ERR_HOST_KEY_UNKNOWN /
   *   CHANGED, network errors.
   */
  async list(job: Job): Promise<RemoteEntry[]> {
    const target = this.target(job);
    if (this.closed) throw new AbortError('The SFTP plugin is closed', { url: target.where });
    return await listFolder({
      target,
      path: target.location.path,
      plan: () => this.plan(target),
      connectTimeoutMs: job.options.connectTimeoutMs,
      stallTimeoutMs: job.options.stallTimeoutMs,
      signal: job.signal,
    });
  }

  /** Ends every pooled SSH connection; transfers still running fail with MG_ERR_ABORTED. */
  override async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.close()));
  }

  private trustSource(options: SftpPluginOptions): TrustSource {
    if (options.fingerprint !== undefined) {
      const given = Array.isArray(options.fingerprint) ? options.fingerprint : [options.fingerprint];
      const fingerprints = given.map((f) => {
        const normal = normalizeFingerprint(f);
        if (normal === undefined) {
          throw new UsageError(
            ErrorCodes.INVALID_OPTION,
            `Invalid host key fingerprint "${f}": expected SHA256:<43 base64 characters>, as ssh-keygen -l prints it`,
          );
        }
        return normal;
      });
      if (fingerprints.length === 0) throw new UsageError(ErrorCodes.INVALID_OPTION, 'The fingerprint option is empty');
      return { kind: 'fingerprint', fingerprints };
    }
    if (options.knownHosts !== undefined) {
      const files = (Array.isArray(options.knownHosts) ? options.knownHosts : [options.knownHosts]).map((f) => expandHome(f, this.home));
      if (files.length === 0) throw new UsageError(ErrorCodes.INVALID_OPTION, 'The knownHosts option is empty');
      return { kind: 'knownHosts', files, hintFile: files[0]! };
    }
    const own = `${this.home}/.ssh/known_hosts`;
    return {
      kind: 'knownHosts',
      files: [own, `${this.home}/.ssh/known_hosts2`, '/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
      hintFile: own,
    };
  }

  private target(job: Job): Target {
    const location = parseSftpUrl(job.url);
    const credentials = job.options.credentials;
    const fromCredentials = credentials !== undefined && 'username' in credentials ? credentials : undefined;
    const username =
      location.username ?? (fromCredentials?.username || undefined) ?? this.options.username ?? userInfo().username;
    const password = location.password ?? fromCredentials?.password ?? this.options.password;
    const hostPart = location.host.includes(':') ? `[${location.host}]` : location.host;
    // The pool key must separate passwords without holding one in clear.
    const secret = createHash('sha256').update(password ?? '').digest('hex').slice(0, 32);
    return {
      host: location.host,
      port: location.port,
      username,
      label: `${username}@${hostPart}:${location.port}`,
      where: redactUrl(job.url),
      proxy: this.proxies.proxyFor(job.url),
      location,
      password,
      key: `${username}\n${location.host.toLowerCase()}\n${location.port}\n${secret}`,
    };
  }

  private async acquire(target: Target, job: Job, signal: AbortSignal): Promise<ChannelLease> {
    if (this.closed) throw new AbortError('The SFTP plugin is closed', { url: target.where });
    let pool = this.pools.get(target.key);
    if (pool === undefined) {
      pool = new ConnectionPool(
        target,
        {
          connections: this.connections,
          channels: this.channels,
          idleTimeoutMs: this.idleTimeoutMs,
          keepaliveIntervalMs: this.keepaliveIntervalMs,
        },
        () => this.plan(target),
      );
      this.pools.set(target.key, pool);
    }
    this.logs.set(target.key, job.log);
    const lease = await pool.acquire(signal, job.options.connectTimeoutMs);
    job.log.trace('channel leased', () => ({ host: target.host, port: target.port }));
    return lease;
  }

  /** Prepares one connection attempt: keys (loaded once), the agent, the host key check. */
  private async plan(target: Target): Promise<ConnectPlan> {
    this.identities ??= loadIdentities(this.options.privateKey, this.options.passphrase, this.home);
    const identities = await this.identities;
    const agent = await usableAgent(this.agentSocket);
    const { handler, tried } = authHandler(
      { username: target.username, password: target.password, identities, agent },
      this.options.privateKey !== undefined,
    );
    const hostKey = await HostKeyCheck.load(this.trust, target.host, target.port, target.where);
    const log = this.logs.get(target.key) ?? Log.silent;
    const trust = this.trust.kind === 'fingerprint' ? 'pinned fingerprint' : `known_hosts (${this.trust.files.join(', ')})`;
    log.debug('ssh connection', () => ({
      host: target.host,
      port: target.port,
      hostKeyTrust: trust,
      // Which ways to log in are on offer, never what they hold.
      logins: [...identities.keys.map((k) => `key ${k.label}`), ...(agent !== undefined ? ['ssh-agent'] : []), ...(target.password !== undefined ? ['password'] : [])],
      skippedKeys: identities.skipped.map((k) => `${k.label}: ${k.reason}`),
      ...(target.proxy ? { proxy: redactUrl(target.proxy.href) } : {}),
    }));
    const config: ConnectConfig = {
      authHandler: handler,
      hostVerifier: (key: Buffer) => {
        const accepted = hostKey.verify(key);
        if (accepted) log.debug('host key accepted', () => ({ host: target.host, port: target.port, fingerprint: fingerprintOf(key), hostKeyTrust: trust }));
        else log.warn('host key refused', () => ({ host: target.host, port: target.port, fingerprint: fingerprintOf(key), hostKeyTrust: trust }));
        return accepted;
      },
      algorithms: {
        serverHostKey: hostKey.algorithms as Algorithms['serverHostKey'],
        ...(this.options.ciphers === undefined ? {} : { cipher: this.options.ciphers as Algorithms['cipher'] }),
        ...(this.options.macs === undefined ? {} : { hmac: this.options.macs as Algorithms['hmac'] }),
      },
    };
    return { config, hostKey, tried, skipped: identities.skipped };
  }

  /**
   * One SFTP request on a leased channel, bounded by the signal, the connection's loss and the
   * stall timeout (a server that stops answering must not hang a probe forever).
   */
  private request<T>(
    lease: ChannelLease,
    send: () => Promise<T>,
    what: string,
    target: Target,
    job: Job,
    signal: AbortSignal,
  ): Promise<T> {
    const where = target.where;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const cleanups: Array<() => void> = [];
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        for (const c of cleanups) c();
        fn();
      };
      if (signal.aborted) return settle(() => reject(abortError(signal.reason, where)));
      const onAbort = (): void => settle(() => reject(abortError(signal.reason, where)));
      signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => signal.removeEventListener('abort', onAbort));
      cleanups.push(lease.onLost((error) => settle(() => reject(error))));
      const timer = setTimeout(
        () =>
          settle(() =>
            reject(
              new NetworkError(
                ErrorCodes.TIMEOUT,
                `No answer to the SFTP ${what} from ${target.label} within ${Math.round(job.options.stallTimeoutMs / 1000)} s`,
                { url: where },
              ),
            ),
          ),
        job.options.stallTimeoutMs,
      );
      cleanups.push(() => clearTimeout(timer));
      send().then(
        (value) => settle(() => resolve(value)),
        (err: unknown) => settle(() => reject(requestError(err, what, where, lease.lost))),
      );
    });
  }
}

/** Why an fstat says the open file is not the version the request is for, or undefined. */
function changedReason(st: SftpAttributes, req: RangeRequest): string | undefined {
  return validatorMismatch(
    { size: req.size ?? req.validators.size, mtime: req.validators.mtime },
    { size: st.size, mtime: typeof st.mtime === 'number' ? st.mtime * 1000 : undefined },
  );
}
