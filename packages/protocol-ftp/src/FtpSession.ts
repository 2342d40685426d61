import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { ErrorCodes, NetworkError, type ProxyEndpoint, type Validators, validatorMismatch } from '@multiget/core';
import { Client, type FTPResponse } from 'basic-ftp';
import { ftpFailure, isFtpError, type FtpFailureContext, type FtpStep } from './ftpErrors.js';
import { connectThroughProxy, passiveThroughProxy } from './ftpProxy.js';
import type { FtpTarget } from './ftpTarget.js';
import { parseMdtm } from './parseMdtm.js';
import { parseSizeReply } from './parseSizeReply.js';

/** Replies that mean "this server does not implement that command" (RFC 959 §4.2). */
const NOT_IMPLEMENTED: ReadonlySet<number> = new Set([500, 502, 504]);

/** How sessions are opened. */
export interface SessionSettings {
  /** Milliseconds for TCP connect, implicit TLS handshake, greeting and AUTH TLS together; 0 for no limit. */
  readonly connectTimeoutMs: number;
  /** Milliseconds to wait for any later control reply (basic-ftp's timeout); 0 for no limit. */
  readonly replyTimeoutMs: number;
  /** Trust and verification for TLS (`ca`, `rejectUnauthorized`). */
  readonly tls: ConnectionOptions;
  /** The proxy that carries the control and every data connection; undefined to connect directly. */
  readonly proxy?: ProxyEndpoint | undefined;
}

/** The context of failures of a target, with its secrets to scrub from quoted replies. */
export function failureContext(target: FtpTarget, step: FtpStep): FtpFailureContext {
  return { where: target.url.href, step, secrets: target.anonymous ? [] : [target.password, target.user] };
}

/**
 * One logged-in control connection (a basic-ftp Client) in binary mode, protected when the target
 * asks for TLS. It is used by one operation at a time; the pool hands it from one segment to the
 * next while it stays healthy.
 */
export class FtpSession {
  /** FEAT's answer: feature name to its parameters (empty when FEAT is not supported). */
  features = new Map<string, string>();
  /** Timer that closes the session after it sat idle in the pool. */
  idleTimer: NodeJS.Timeout | undefined;
  private rest: boolean | undefined;

  private constructor(
    /** The underlying basic-ftp client; its `ftp` context carries the sockets. */
    readonly client: Client,
    /** Which targets this session can serve. */
    readonly key: string,
  ) {}

  /**
   * Connects, secures (implicit TLS, or AUTH TLS then PBSZ 0 and PROT P), logs in and switches to
   * binary mode. TLS refused at any step fails with MG_ERR_TLS: there is no fallback to clear text.
   *
   * @throws DownloadError - MG_ERR_CONNECT, MG_ERR_CONNECT_TIMEOUT, MG_ERR_TLS, MG_ERR_AUTH,
   *   MG_ERR_SERVER_BUSY (421 greeting), or the signal's reason.
   */
  static async open(target: FtpTarget, settings: SessionSettings, signal: AbortSignal): Promise<FtpSession> {
    const client = new Client(settings.replyTimeoutMs);
    // basic-ftp's verbose log would print USER lines; it stays off whatever the environment says.
    client.ftp.verbose = false;
    const session = new FtpSession(client, target.poolKey);
    let step: FtpStep = 'connect';
    let timedOut = false;
    const onAbort = (): void => client.close();
    signal.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      // 0 means no limit, as basic-ftp's own timeout does.
      if (settings.connectTimeoutMs <= 0) return;
      timer = setTimeout(() => {
        timedOut = true;
        client.close();
        reject(new Error('Timeout (connect)'));
      }, settings.connectTimeoutMs);
    });
    // Observed through the races below; this only keeps a late rejection from going unhandled.
    deadline.catch(() => undefined);
    const bounded = async <T>(work: Promise<T>): Promise<T> => {
      // The loser of the race rejects later, when the client closes: it must not go unhandled.
      work.catch(() => undefined);
      return await Promise.race([work, deadline]);
    };
    try {
      signal.throwIfAborted();
      // Identity for verification and for binding resumed TLS sessions (data connections resume
      // the control connection's session); SNI only for names, never for addresses (RFC 6066).
      const tls: ConnectionOptions = {
        ...settings.tls,
        host: target.host,
        ...(isIP(target.host) === 0 ? { servername: target.host } : {}),
      };
      if (settings.proxy !== undefined) {
        // The plugin's trust settings apply to an https:// proxy as to the server.
        await bounded(connectThroughProxy(client, target, settings.proxy, tls, settings.tls, settings.connectTimeoutMs, signal));
        // Data connections must take the same way as the control connection, never a direct one.
        client.prepareTransfer = passiveThroughProxy(target, settings.proxy, settings.tls);
      } else if (target.security === 'implicit') {
        await bounded(client.connectImplicitTLS(target.host, target.port, tls));
      } else {
        await bounded(client.connect(target.host, target.port));
      }
      if (target.security === 'explicit') {
        step = 'tls';
        await bounded(client.useTLS(tls));
      }
      clearTimeout(timer);
      step = 'login';
      await client.login(target.user, target.password);
      step = 'command';
      session.features = await client.features();
      await client.send('TYPE I');
      if (target.security !== 'none') {
        step = 'tls';
        await client.send('PBSZ 0');
        await client.send('PROT P');
        step = 'command';
      }
      if (session.features.has('UTF8')) await client.sendIgnoringError('OPTS UTF8 ON');
      return session;
    } catch (err) {
      client.close();
      const context = failureContext(target, step);
      if (timedOut && !signal.aborted) {
        throw new NetworkError(ErrorCodes.CONNECT_TIMEOUT, `Connecting to ${context.where} took more than ${settings.connectTimeoutMs} ms`, {
          url: context.where,
        });
      }
      throw ftpFailure(err, context, signal);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** True once the control connection is gone (closed by either side, or failed). */
  get closed(): boolean {
    return this.client.closed;
  }

  /** Sends QUIT and closes both connections. Safe to call more than once. */
  close(): void {
    clearTimeout(this.idleTimer);
    this.client.close();
  }

  /** Sends one command and returns its reply; a 4xx/5xx reply rejects with basic-ftp's FTPError. */
  async send(command: string): Promise<FTPResponse> {
    return await this.client.send(command);
  }

  /**
   * SIZE of `path` in bytes, or undefined when the server does not implement SIZE (or answers it
   * with something that is not a number).
   *
   * @throws FTPError - for a 550 (no such file, or not a plain file) and other failures.
   */
  async size(path: string): Promise<number | undefined> {
    try {
      return parseSizeReply((await this.send(`SIZE ${path}`)).message);
    } catch (err) {
      if (isFtpError(err) && NOT_IMPLEMENTED.has(err.code)) return undefined;
      throw err;
    }
  }

  /**
   * MDTM of `path` in milliseconds since the epoch, or undefined when the server cannot tell
   * (not implemented, refused for this file, or an unparseable time).
   */
  async mdtm(path: string): Promise<number | undefined> {
    try {
      return parseMdtm((await this.send(`MDTM ${path}`)).message);
    } catch (err) {
      if (isFtpError(err) && (NOT_IMPLEMENTED.has(err.code) || err.code === 550)) return undefined;
      throw err;
    }
  }

  /**
   * Whether REST STREAM works: FEAT lists it (RFC 3659 §5.5), or else `REST 0` is accepted. A
   * `REST 0` left pending is harmless: the next RETR starts at 0 anyway.
   */
  async restSupported(): Promise<boolean> {
    if (this.rest !== undefined) return this.rest;
    if (/\bSTREAM\b/i.test(this.features.get('REST') ?? '')) {
      this.rest = true;
      return true;
    }
    try {
      await this.send('REST 0');
      this.rest = true;
    } catch (err) {
      if (!isFtpError(err)) throw err;
      this.rest = false;
    }
    return this.rest;
  }

  /**
   * Why `path` is not the version `validators` describe, or undefined when SIZE and MDTM agree with
   * them (a validator the server cannot report counts as agreeing).
   */
  async changedSince(path: string, validators: Validators, expectedSize: number | undefined): Promise<string | undefined> {
    const wantSize = expectedSize ?? validators.size;
    try {
      const size = wantSize === undefined ? undefined : await this.size(path);
      const bySize = validatorMismatch({ size: wantSize }, { size });
      if (bySize !== undefined) return bySize;
      const mtime = validators.mtime === undefined ? undefined : await this.mdtm(path);
      return validatorMismatch({ mtime: validators.mtime }, { mtime });
    } catch (err) {
      if (isFtpError(err) && err.code === 550) return 'it is no longer available';
      throw err;
    }
  }
}
