import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A token bucket for byte rates. Consumers ask for the bytes they just received and wait until the
 * bucket allows them; while they wait they do not read, so TCP flow control slows the sender.
 * Buckets chain: a download's bucket has the manager's global bucket as parent.
 */
export class TokenBucket {
  private tokens = 0;
  private last = performance.now();
  private rate: number | undefined;

  /** @param bytesPerSecond undefined or 0 for no limit. */
  constructor(
    bytesPerSecond?: number,
    private readonly parent?: TokenBucket,
  ) {
    this.setRate(bytesPerSecond);
  }

  /** Changes the rate at once, also for consumers that are waiting. */
  setRate(bytesPerSecond: number | undefined): void {
    this.refill();
    this.rate = bytesPerSecond && bytesPerSecond > 0 ? bytesPerSecond : undefined;
    if (this.rate !== undefined) this.tokens = Math.min(this.tokens, this.burst());
  }

  /** This bucket's own rate in bytes per second, or undefined for no limit (parents may still limit). */
  get bytesPerSecond(): number | undefined {
    return this.rate;
  }

  /** True when neither this bucket nor any parent limits the rate (lets hot loops skip `consume`). */
  get unlimited(): boolean {
    return this.rate === undefined && (this.parent?.unlimited ?? true);
  }

  /** Waits until `bytes` may pass (they are taken at once; the debt is paid by waiting). */
  async consume(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.parent) await this.parent.consume(bytes, signal);
    if (this.rate === undefined) return;
    this.refill();
    this.tokens -= bytes;
    // Debt is allowed so that one large chunk never blocks forever; the wait pays it back.
    while (this.tokens < 0 && this.rate !== undefined) {
      const waitMs = Math.min(250, Math.max(1, (-this.tokens / this.rate) * 1000));
      await sleep(waitMs, undefined, signal ? { signal } : undefined);
      this.refill();
    }
  }

  private burst(): number {
    // A tenth of a second of tokens keeps the rate smooth without starving small chunks.
    return Math.max(16 * 1024, (this.rate ?? 0) / 10);
  }

  private refill(): void {
    const now = performance.now();
    if (this.rate !== undefined) {
      this.tokens = Math.min(this.burst(), this.tokens + ((now - this.last) / 1000) * this.rate);
    }
    this.last = now;
  }
}
