import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Paces one response to `bytesPerSec` with timers, never a busy loop.
 *
 * The bucket starts empty, so n bytes take n / rate seconds however they are cut into writes: a
 * short range is as slow as the rate says, which the benchmark's "within a few % of ideal" needs.
 * Its capacity is two writes so that a timer firing late is paid back on the next write instead of
 * being lost; it never lets a stalled client catch up by more than that.
 */
export class TokenBucket {
  /**
   * Largest write the pacing allows: 10 ms of traffic. Small writes keep the flow smooth, and when
   * many paced responses fall due at the same instant each one's share of the work is small, so the
   * last of them is not late (with 1/20 s writes, 16 connections of 1 MiB ran 20 % over ideal).
   */
  readonly maxWrite: number;
  private readonly capacity: number;
  private tokens = 0;
  private last = performance.now();

  /**
   * @param bytesPerSec - positive rate.
   * @param ceiling - upper bound on `maxWrite` (the caller's normal write size).
   */
  constructor(
    private readonly bytesPerSec: number,
    ceiling: number,
  ) {
    if (!(bytesPerSec > 0)) throw new RangeError(`throttle rate must be positive, got ${bytesPerSec}`);
    this.maxWrite = Math.max(1, Math.min(ceiling, Math.floor(bytesPerSec / 100)));
    this.capacity = 2 * this.maxWrite;
  }

  /** Resolves once `bytes` (at most `maxWrite`) may be sent; rejects when `signal` aborts. */
  async take(bytes: number, signal: AbortSignal): Promise<void> {
    this.refill();
    while (this.tokens < bytes) {
      const waitMs = Math.max(1, Math.ceil(((bytes - this.tokens) / this.bytesPerSec) * 1000));
      await sleep(waitMs, undefined, { signal });
      this.refill();
    }
    this.tokens -= bytes;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.bytesPerSec);
    this.last = now;
  }
}
