/**
 * Caps the connections to one host across every download of an engine. A connection waits for a
 * slot; waiting ends when one frees up or the signal aborts.
 */
export class HostSlots {
  private readonly used = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private limit: number) {}

  /** Changes the cap; waiters are woken if the new cap admits them. */
  setLimit(limit: number): void {
    this.limit = limit;
    for (const host of this.waiting.keys()) this.wake(host);
  }

  /** Connections in use to `host`. */
  inUse(host: string): number {
    return this.used.get(host) ?? 0;
  }

  /** Takes a slot for `host` without waiting; false when the host is at its cap. */
  tryAcquire(host: string): boolean {
    const n = this.used.get(host) ?? 0;
    if (n >= this.limit) return false;
    this.used.set(host, n + 1);
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

  release(host: string): void {
    const n = (this.used.get(host) ?? 1) - 1;
    if (n <= 0) this.used.delete(host);
    else this.used.set(host, n);
    this.wake(host);
  }

  private wake(host: string): void {
    const list = this.waiting.get(host);
    const next = list?.shift();
    if (list && list.length === 0) this.waiting.delete(host);
    next?.();
  }
}
