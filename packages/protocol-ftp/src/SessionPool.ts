import { AbortError } from '@multiget/core';
import { FtpSession, type SessionSettings } from './FtpSession.js';
import type { FtpTarget } from './ftpTarget.js';

/** Idle sessions kept per key; more are closed at once. */
const MAX_IDLE_PER_KEY = 16;

/**
 * Logged-in control connections, kept per target key (security, host, port, user, password) so a
 * connection that finished a segment serves the next one without a new login. Only sessions in
 * step with their server (no transfer reply outstanding) are ever put back; idle ones are closed
 * after `idleMs`.
 */
export class SessionPool {
  private readonly idle = new Map<string, FtpSession[]>();
  private readonly all = new Set<FtpSession>();
  private closed = false;

  /** @param idleMs - Milliseconds a session may sit idle before it is closed. */
  constructor(private readonly idleMs: number) {}

  /**
   * An idle session for `target` when one is healthy, else a new one.
   * @returns the session, and whether it had been used before (and so may have gone stale).
   */
  async acquire(target: FtpTarget, settings: SessionSettings, signal: AbortSignal): Promise<{ session: FtpSession; reused: boolean }> {
    if (this.closed) throw new AbortError('The FTP plugin is closed', { url: target.url.href });
    const list = this.idle.get(target.poolKey);
    while (list !== undefined && list.length > 0) {
      const session = list.pop()!;
      clearTimeout(session.idleTimer);
      if (!session.closed) return { session, reused: true };
      this.all.delete(session);
    }
    const session = await FtpSession.open(target, settings, signal);
    if (this.closed) {
      session.close();
      throw new AbortError('The FTP plugin is closed', { url: target.url.href });
    }
    this.all.add(session);
    return { session, reused: false };
  }

  /** Takes back a session that is in step with its server; a closed one is forgotten. */
  release(session: FtpSession): void {
    if (this.closed || session.closed) {
      this.discard(session);
      return;
    }
    const list = this.idle.get(session.key) ?? [];
    if (list.includes(session)) return;
    if (list.length >= MAX_IDLE_PER_KEY) {
      this.discard(session);
      return;
    }
    list.push(session);
    this.idle.set(session.key, list);
    session.idleTimer = setTimeout(() => {
      const at = list.indexOf(session);
      if (at !== -1) list.splice(at, 1);
      this.discard(session);
    }, this.idleMs);
    session.idleTimer.unref();
  }

  /** Closes a session that is out of step or no longer wanted. */
  discard(session: FtpSession): void {
    this.all.delete(session);
    session.close();
  }

  /** Control connections open now (idle and in use); ones the server closed no longer count. */
  get open(): number {
    let n = 0;
    for (const session of this.all) if (!session.closed) n++;
    return n;
  }

  /** Healthy control connections waiting in the pool. */
  get idleCount(): number {
    let n = 0;
    for (const list of this.idle.values()) for (const session of list) if (!session.closed) n++;
    return n;
  }

  /** Closes every session, idle or in use; later `acquire` calls fail with MG_ERR_ABORTED. */
  close(): void {
    this.closed = true;
    for (const session of this.all) session.close();
    this.all.clear();
    this.idle.clear();
  }
}
