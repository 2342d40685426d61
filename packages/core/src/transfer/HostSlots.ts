/**
 * Caps connections: per host, and in total across every download of an engine (the connection
 * budget). A connection waits for a slot; waiting ends when one frees up or the signal aborts.
 */
export class HostSlots {
  private readonly used = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();
  private total = 0;

  constructor(
    private perHost: number,
    private overall = Infinity,
  ) {}

  /** Changes the caps; waiters are woken if the new caps admit them. */
  setLimits(perHost: number, overall = this.overall): void {
    this.perHost = perHost;
    this.overall = overall;
    this.wakeAll();
  }

  /** Connections in use to `host`. */
  inUse(host?: string): number {
    return host === undefined ? this.total : (this.used.get(host) ?? 0);
  }

  /** Takes a slot for `host` without waiting; false when a cap is reached. */
  tryAcquire(host: string): boolean {
    const n = this.used.get(host) ?? 0;
    if (n >= this.perHost || this.total >= this.overall) return false;
    this.used.set(host, n + 1);
    this.total++;
    return true;
  }

  /** Waits for a slot for `host`. Rejects with the signal's reason if it aborts first. */
  async acquire(host: string, signal: AbortSignal): Promise<void> {
    while (!this.tryAcquire(host)) {
      signal.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const list = this.waiting.get(host) ?? [];
        const onAbort = (): void => {
          const i = list.indexOf(wake);
          if (i >= 0) list.splice(i, 1);
          reject(signal.reason);
        };
        const wake = (): void => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        list.push(wake);
        this.waiting.set(host, list);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  /** Gives back a slot taken for `host`; waiters (of any host, since the total cap may have held them) try again. */
  release(host: string): void {
    const n = (this.used.get(host) ?? 1) - 1;
    if (n <= 0) this.used.delete(host);
    else this.used.set(host, n);
    this.total = Math.max(0, this.total - 1);
    this.wakeAll();
  }

  /** Wakes the first waiter of every host; each re-checks the caps (a spurious wake just waits again). */
  private wakeAll(): void {
    for (const [host, list] of [...this.waiting]) {
      const next = list.shift();
      if (list.length === 0) this.waiting.delete(host);
      next?.();
    }
  }
}
