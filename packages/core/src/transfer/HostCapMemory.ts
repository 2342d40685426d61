/**
 * What the adaptive connection policy remembers of servers across the downloads of one engine: the
 * connection cap each host showed by refusing connections.
 */

/** What is remembered about one host: the most connections it accepted before refusing more. */
interface RememberedCap {
  cap: number;
  /** Date.now() after which the memory no longer counts. */
  until: number;
}

/**
 * Per-engine memory of the connection caps servers showed (keyed by host, with port), so that the
 * next download from the same server starts within the cap instead of being refused again. Small
 * by construction: at most `maxHosts` entries, the oldest forgotten first.
 */
export class HostCapMemory {
  readonly #caps = new Map<string, RememberedCap>();
  readonly #ttlMs: number;
  readonly #maxHosts: number;
  readonly #now: () => number;

  /**
   * @param options.ttlMs - How long a cap is remembered, in milliseconds. Default 10 minutes: a server's
   *   limit is usually configuration, but it may be per-load, so it is asked again now and then.
   * @param options.maxHosts - Entries kept. Default 256.
   * @param options.now - Clock in milliseconds, for tests. Default `Date.now`.
   */
  constructor(options: { ttlMs?: number; maxHosts?: number; now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? 10 * 60_000;
    this.#maxHosts = options.maxHosts ?? 256;
    this.#now = options.now ?? Date.now;
  }

  /** The cap remembered for `host`, or undefined when none is (or it expired). */
  get(host: string): number | undefined {
    const entry = this.#caps.get(host);
    if (entry === undefined) return undefined;
    if (entry.until <= this.#now()) {
      this.#caps.delete(host);
      return undefined;
    }
    return entry.cap;
  }

  /** Records that `host` accepts at most `cap` connections (the lower of this and what was known). */
  lower(host: string, cap: number): void {
    const known = this.get(host);
    const value = Math.max(1, Math.min(cap, known ?? cap));
    this.#caps.delete(host); // re-inserted last: Map order is the eviction order
    this.#caps.set(host, { cap: value, until: this.#now() + this.#ttlMs });
    while (this.#caps.size > this.#maxHosts) {
      const oldest = this.#caps.keys().next().value;
      if (oldest === undefined) break;
      this.#caps.delete(oldest);
    }
  }
}
