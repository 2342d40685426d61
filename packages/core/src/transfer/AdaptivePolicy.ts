/**
 * The adaptive connection policy: `connections` is a ceiling, not a count. It starts with a few
 * connections, adds more while the download's total throughput still rises by a meaningful margin,
 * stops when it does not, retires a connection far slower than its siblings, and backs off when a
 * server refuses connections, remembering that host's cap for later downloads of the same engine.
 *
 * Pure decision logic: it sees samples and returns numbers. It owns no timer, no socket and no
 * clock; the transfer loop calls it, opens and closes connections, and emits the `connections`
 * events. See the package README ("Adaptive connections") for how it decides.
 */

import { HostCapMemory } from './HostCapMemory.js';
import type { ConnectionPolicy, ConnectionPolicyFactory, ConnectionSample, ConnectionStart } from './policy.js';

/** Tuning of {@link AdaptivePolicy}; every field has a default. */
export interface AdaptivePolicyOptions {
  /**
   * The host (with port) the download talks to, for the cap memory. Without it (or without `memory`)
   * refusals still lower this download's cap but nothing is remembered.
   */
  host?: string;
  /** The engine's cap memory, shared by its downloads. */
  memory?: HostCapMemory;
  /**
   * Connections opened first by a transfer that runs alone in its process (before the ceiling and
   * any remembered cap); transfers that start while others run share them. Default 4.
   */
  start?: number;
  /**
   * CPU of this process, in cores (the samples' `cpu`), at or above which the client itself is the
   * limit: the policy then stops adding connections and tries fewer, keeping fewer while they carry
   * as much. Default 0.75.
   */
  busyCpu?: number;
  /**
   * Smallest rise in total throughput, as a fraction, that justifies the connections just added.
   * Default 0.1: 10 % more throughput for the added connections, else they go.
   */
  minGain?: number;
  /** Milliseconds a level is measured once all its connections deliver. Default 200. */
  windowMs?: number;
  /** Milliseconds after a change before samples count (new connections' requests, TCP slow start). Default 50. */
  settleMs?: number;
  /**
   * Milliseconds to wait for the connections of a new level to deliver before judging it anyway
   * with what did (the loop may have had no work for them, or the host no free slot). Default 1500.
   */
  levelTimeoutMs?: number;
  /** Milliseconds between re-probes (one more connection) once settled below the cap. Default 5000. */
  reprobeMs?: number;
  /** Milliseconds without growth after a refusal. Default 2000. */
  refusalHoldMs?: number;
  /**
   * A connection below this fraction of its siblings' median throughput, measured over a window, is
   * retired (its range goes back to the pool). Default 0.125 (an eighth).
   */
  slowFraction?: number;
  /** Ranges smaller than this (bytes) are left to finish rather than retired. Default 1 MiB. */
  minRetireBytes?: number;
  /**
   * Bytes per second at or above which one connection is fast: when a connection of the first
   * level carried this much, an idle client doubles instead of jumping to the ceiling. Default
   * 64 MiB/s. A per-connection cap that high is rare, and a link that fast (loopback, a LAN) gains
   * little from more connections, while sixteen of them hold sixteen sets of buffers.
   */
  fastConnection?: number;
}

/** Where the policy is in its search. */
type Phase =
  /** Measuring a level it just moved to. */
  | 'measuring'
  /** At the best level found; re-probes now and then. */
  | 'settled';

/** One level measured: how many connections, and the mean throughput they gave. */
interface Level {
  connections: number;
  bytesPerSecond: number;
}

/**
 * Hill-climbing over the connection count, with multiplicative steps while the link scales, guided
 * by the client's own CPU (the samples' `cpu`).
 *
 * 1. Start at `min(start, ceiling, remembered cap)` connections; a transfer that starts while `k`
 *    others of the process run starts at `start / (k + 1)` instead (at least one): theirs already
 *    share the client's CPU and often its link, and an idle client's first level still jumps to
 *    the ceiling at the first sample (step 2).
 * 2. Measure the level: wait until its connections deliver, skip `settleMs`, average the total
 *    throughput over `windowMs`. The first level is judged at once when the client is idle
 *    (CPU below `busyCpu`) and bytes flow: waiting would only cost time on a per-connection cap.
 *    - An idle client's first level jumps to the ceiling (judged by step 3 like any rise), or
 *      doubles when one of its connections was already fast (`fastConnection`).
 *    - A busy client (CPU at or above `busyCpu`: loopback, a slow machine) never adds connections:
 *      it tries half as many, keeps the half while it carries at least `1 - minGain` of the
 *      throughput, and halves again, down to one. Fewer connections then cost less CPU per byte.
 *    - Without CPU figures, the first level doubles.
 * 3. Compare with the previous level. With `n` connections after `m`, the ideal rise is `n/m - 1`.
 *    - Rise at least half the ideal: the link is limited per connection; jump to the ceiling at once
 *      when the rise was close to ideal (≥ 75 %), else double.
 *    - Rise at least `minGain` but less than half the ideal: add a quarter more (at least one).
 *    - Less than `minGain`: the added connections bought nothing; go back to the previous level
 *      (retiring the slowest of the extra ones) and settle there.
 * 4. Settled below the cap (and the client not busy): every `reprobeMs` try one more connection and
 *    judge it the same way.
 * 5. Any time: a connection below `slowFraction` of its siblings' median, measured over a window,
 *    with at least `minRetireBytes` left, is retired (the target stays, so the loop opens a fresh one
 *    that takes over its range).
 * 6. A refusal lowers the cap to the connections that were running (at least one), remembers it for
 *    the host, and holds growth for `refusalHoldMs`.
 */
export class AdaptivePolicy implements ConnectionPolicy {
  readonly #host: string | undefined;
  readonly #memory: HostCapMemory | undefined;
  readonly #start: number;
  readonly #busyCpu: number;
  readonly #minGain: number;
  readonly #windowMs: number;
  readonly #settleMs: number;
  readonly #levelTimeoutMs: number;
  readonly #reprobeMs: number;
  readonly #refusalHoldMs: number;
  readonly #slowFraction: number;
  readonly #minRetireBytes: number;
  readonly #fastConnection: number;

  #ceiling = 1;
  #cap = Infinity;
  #target = 1;
  #phase: Phase = 'measuring';
  /** The level before the one being measured (undefined for the first). */
  #previous: Level | undefined;
  /** Set while measuring a smaller level than the one just measured (a link found to saturate). */
  #trimFrom: Level | undefined;
  /** The best level measured, where the policy settles. */
  #best: Level | undefined;
  /** When the current level was asked for. */
  #levelSince = 0;
  /** When all of the current level's connections first delivered (undefined: not yet). */
  #deliveringSince: number | undefined;
  #sum = 0;
  #samples = 0;
  /** The highest throughput of one connection seen while measuring the current level. */
  #fastest = 0;
  /** Sum and count of the CPU figures of the samples measured (samples without one are not counted). */
  #cpuSum = 0;
  #cpuSamples = 0;
  /** Whether the client was the limit at the last judged level (undefined: not told). */
  #busy: boolean | undefined;
  #windowStart: number | undefined;
  #lastElapsed = 0;
  #holdUntil = -Infinity;
  #nextReprobe = Infinity;
  /** Per connection: when it was first seen, and its mean throughput since then. */
  readonly #seen = new Map<number, { since: number; sum: number; samples: number }>();
  readonly #retired = new Set<number>();
  /** Set by `refused`, applied at the next sample (the loop may call `refused` between ticks). */
  #refusalPending = false;
  /** The reason for the last change of target, for the loop's `connections` event. */
  #reason = 'initial';

  /** @param options - Tuning and the host's cap memory; see {@link AdaptivePolicyOptions}. */
  constructor(options: AdaptivePolicyOptions = {}) {
    this.#host = options.host;
    this.#memory = options.memory;
    this.#start = Math.max(1, Math.floor(options.start ?? 4));
    this.#busyCpu = options.busyCpu ?? 0.75;
    this.#minGain = options.minGain ?? 0.1;
    this.#windowMs = options.windowMs ?? 200;
    this.#settleMs = options.settleMs ?? 50;
    this.#levelTimeoutMs = options.levelTimeoutMs ?? 1500;
    this.#reprobeMs = options.reprobeMs ?? 5000;
    this.#refusalHoldMs = options.refusalHoldMs ?? 2000;
    this.#slowFraction = options.slowFraction ?? 0.125;
    this.#minRetireBytes = options.minRetireBytes ?? 1024 * 1024;
    this.#fastConnection = options.fastConnection ?? 64 * 1024 * 1024;
  }

  /** Why the target last changed (`initial`, `rising`, `flat`, `reprobe`, `refused`, `slow`, ...). */
  get reason(): string {
    return this.#reason;
  }

  /** The current cap: the ceiling, lowered by refusals and by what is remembered for the host. */
  get cap(): number {
    return Math.min(this.#ceiling, this.#cap);
  }

  initial(ceiling: number, start?: ConnectionStart): number {
    this.#ceiling = Math.max(1, Math.floor(ceiling));
    const remembered = this.#host === undefined ? undefined : this.#memory?.get(this.#host);
    if (remembered !== undefined) {
      this.#cap = remembered;
      this.#reason = 'remembered cap';
    }
    const others = Math.max(0, Math.floor(start?.otherTransfers ?? 0));
    this.#target = Math.min(Math.max(1, Math.floor(this.#start / (others + 1))), this.cap);
    this.#startLevel(0);
    // A single connection allowed: nothing to search.
    if (this.cap <= 1) this.#phase = 'settled';
    return this.#target;
  }

  next(sample: ConnectionSample): ReturnType<ConnectionPolicy['next']> {
    const now = sample.elapsedMs;
    this.#lastElapsed = now;
    // A retired id that left the sample was closed by the loop; if it comes back, it is a new
    // connection (the loop may reuse its numbers) and counts again.
    for (const id of this.#retired) if (!sample.connections.some((c) => c.id === id)) this.#retired.delete(id);
    const live = sample.connections.filter((c) => !this.#retired.has(c.id));
    this.#track(live, now);
    if (this.#refusalPending) {
      this.#refusalPending = false;
      return this.#decide(this.#target);
    }
    const retire = this.#slowOnes(live, now);
    if (retire.length > 0) {
      for (const id of retire) this.#retired.add(id);
      this.#reason = 'slow connection';
      // The count is unchanged: the loop opens a fresh connection in its place. The level's
      // measurement starts over, since the replacement has yet to deliver.
      this.#startLevel(now);
      return { target: this.#target, retire };
    }

    if (this.#phase === 'settled') {
      if (now >= this.#nextReprobe && now >= this.#holdUntil && this.#target < this.cap && this.#best !== undefined && this.#busy !== true) {
        this.#previous = this.#best;
        this.#reason = 'reprobe';
        this.#moveTo(this.#target + 1, now);
      }
      return this.#decide(this.#target);
    }

    // Measuring: wait until the level's connections all deliver (or the loop could not open them).
    const delivering = live.filter((c) => c.bytesPerSecond > 0).length;
    for (const c of live) if (c.bytesPerSecond > this.#fastest) this.#fastest = c.bytesPerSecond;
    // The first level is judged at once when the client is idle and bytes flow: the link works, and
    // the jump that follows is judged properly (every tick before it would be time spent at a
    // fraction of a per-connection-capped link's speed).
    const quick = this.#previous === undefined && this.#trimFrom === undefined && delivering > 0 && sample.cpu !== undefined && sample.cpu < this.#busyCpu;
    if (this.#deliveringSince === undefined && quick) this.#deliveringSince = now;
    if (this.#deliveringSince === undefined) {
      const full = live.length >= this.#target && delivering >= this.#target;
      if (full || (now - this.#levelSince >= this.#levelTimeoutMs && delivering > 0)) this.#deliveringSince = now;
      else return this.#decide(this.#target);
    }
    if (!quick && now - this.#deliveringSince < this.#settleMs) return this.#decide(this.#target);
    this.#windowStart ??= now;
    // The total is the connections' own bytes over the tick (the smoothed speed lags a change).
    this.#sum += sample.connections.reduce((n, c) => n + c.bytesPerSecond, 0);
    this.#samples++;
    if (sample.cpu !== undefined) {
      this.#cpuSum += sample.cpu;
      this.#cpuSamples++;
    }
    const level: Level = { connections: Math.max(1, Math.min(live.length, this.#target)), bytesPerSecond: this.#sum / this.#samples };
    // A near-ideal rise is clear after two samples; waiting out the window would only cost time on
    // a link that scales per connection. Anything less needs the whole window to tell from noise.
    const early = quick || (this.#samples >= 2 && this.#nearIdeal(level));
    if (!early && (now - this.#windowStart < this.#windowMs || this.#samples < 2)) return this.#decide(this.#target);

    this.#busy = this.#cpuSamples > 0 ? this.#cpuSum / this.#cpuSamples >= this.#busyCpu : undefined;
    this.#judge(level, now);
    // Going down (flat, trimming): close the slowest extra connections now rather than as ranges end.
    return this.#decide(this.#target, this.#extraToRetire(live));
  }

  refused(active: number): void {
    const cap = Math.max(1, Math.floor(active));
    this.#cap = Math.min(this.#cap, cap);
    if (active >= 1 && this.#host !== undefined) this.#memory?.lower(this.#host, cap);
    this.#holdUntil = this.#lastElapsed + this.#refusalHoldMs;
    this.#target = Math.min(this.#target, this.cap);
    this.#reason = 'refused';
    this.#refusalPending = true;
    // Whatever was being measured included a refused connection: settle where the server lets us.
    this.#phase = 'settled';
    this.#best = undefined;
    this.#trimFrom = undefined;
    this.#nextReprobe = this.#lastElapsed + this.#reprobeMs;
  }

  /** Judges a measured level against the previous one and picks the next target. */
  #judge(level: Level, now: number): void {
    if (this.#trimFrom !== undefined) {
      this.#judgeTrim(level, this.#trimFrom, now);
      return;
    }
    const before = this.#previous;
    if (this.#best === undefined || level.bytesPerSecond > this.#best.bytesPerSecond) this.#best = level;
    if (before === undefined) {
      // First level: nothing to compare with.
      this.#previous = level;
      if (this.#busy === true) {
        // The client is the limit (loopback, a slow machine): fewer connections carry the same for less.
        if (level.connections > 1) this.#trimTo(level, now);
        else this.#settle(now, 'client busy');
      } else if (level.connections < this.cap && now >= this.#holdUntil) {
        this.#reason = 'probing';
        // An idle client whose connections deliver: try them all at once (a per-connection cap is
        // then reached in one step; a shared limit shows as a flat rise and goes back). Unless one
        // connection is already fast: then the CPU sample more likely caught a fast link's start
        // (loopback, a LAN: the server still warming up) than a per-connection cap, and the jump
        // would only open a dozen connections' buffers for a moment; doubling is judged instead.
        const jump = this.#busy === false && this.#fastest < this.#fastConnection;
        this.#moveTo(jump ? this.cap : level.connections * 2, now);
      } else {
        this.#settle(now, 'at cap');
      }
      return;
    }
    if (this.#busy === true && level.connections > before.connections) {
      // The client became the limit as connections were added: keep what carried the most for the least.
      const keep = level.bytesPerSecond >= before.bytesPerSecond * (1 + this.#minGain) ? level : before;
      this.#best = keep;
      this.#target = Math.min(keep.connections, this.cap);
      this.#settle(now, 'client busy');
      return;
    }
    const gain = before.bytesPerSecond > 0 ? level.bytesPerSecond / before.bytesPerSecond - 1 : Infinity;
    const ideal = level.connections / before.connections - 1;
    if (ideal <= 0 || gain < this.#minGain) {
      // The added connections bought nothing: back to the better of the two, and stay there.
      const keep = level.bytesPerSecond >= before.bytesPerSecond * (1 + this.#minGain) ? level : before;
      this.#best = keep;
      this.#target = Math.min(keep.connections, this.cap);
      this.#settle(now, 'flat');
      return;
    }
    this.#previous = level;
    if (gain < 0.5 * ideal) {
      // Rising, but far less than the connections added: the link fills up somewhere between. The
      // old per-connection rate says how many connections carry what this level carried.
      const need = Math.max(before.connections + 1, Math.ceil((level.bytesPerSecond / before.bytesPerSecond) * before.connections));
      if (need < level.connections) {
        this.#trimFrom = level;
        this.#reason = 'trimming';
        this.#moveTo(need, now);
        return;
      }
    }
    if (level.connections >= this.cap || now < this.#holdUntil) {
      this.#settle(now, level.connections >= this.cap ? 'at cap' : 'refused');
      return;
    }
    let next: number;
    if (gain >= 0.75 * ideal) next = this.cap;
    else if (gain >= 0.5 * ideal) next = level.connections * 2;
    else next = level.connections + Math.max(1, Math.floor(level.connections / 4));
    this.#reason = 'rising';
    this.#moveTo(next, now);
  }

  /**
   * Judges a trimmed level: kept when it carries nearly what the larger one did, else back up. A
   * busy client that kept the smaller level tries half as many again, down to one connection.
   */
  #judgeTrim(level: Level, larger: Level, now: number): void {
    this.#trimFrom = undefined;
    const keep = level.bytesPerSecond >= larger.bytesPerSecond * (1 - this.#minGain) ? level : larger;
    this.#best = keep;
    this.#previous = keep;
    if (keep === level && this.#busy === true && level.connections > 1) {
      this.#trimTo(level, now);
      return;
    }
    this.#target = Math.min(keep.connections, this.cap);
    this.#settle(now, keep === level ? 'trimmed' : 'trim undone');
  }

  /** Tries half the connections of `from` (the client is busy): judged by {@link #judgeTrim}. */
  #trimTo(from: Level, now: number): void {
    this.#trimFrom = from;
    this.#reason = 'client busy';
    this.#moveTo(Math.ceil(from.connections / 2), now);
  }

  /** True when `level` rose over the previous level by at least 75 % of the ideal (linear) rise. */
  #nearIdeal(level: Level): boolean {
    const before = this.#previous;
    if (before === undefined || before.bytesPerSecond <= 0 || level.connections <= before.connections) return false;
    const gain = level.bytesPerSecond / before.bytesPerSecond - 1;
    return gain >= 0.75 * (level.connections / before.connections - 1);
  }

  #settle(now: number, reason: string): void {
    this.#phase = 'settled';
    this.#reason = reason;
    this.#nextReprobe = now + this.#reprobeMs;
  }

  #moveTo(target: number, now: number): void {
    this.#target = Math.max(1, Math.min(target, this.cap));
    this.#startLevel(now);
  }

  #startLevel(now: number): void {
    this.#phase = 'measuring';
    this.#levelSince = now;
    this.#deliveringSince = undefined;
    this.#windowStart = undefined;
    this.#sum = 0;
    this.#samples = 0;
    this.#fastest = 0;
    this.#cpuSum = 0;
    this.#cpuSamples = 0;
  }

  #decide(target: number, retire?: number[]): { target: number; retire?: number[] } {
    return retire !== undefined && retire.length > 0 ? { target, retire } : { target };
  }

  /** Keeps per-connection means since each connection was first seen. */
  #track(live: ReadonlyArray<{ id: number; bytesPerSecond: number }>, now: number): void {
    const ids = new Set<number>();
    for (const c of live) {
      ids.add(c.id);
      let entry = this.#seen.get(c.id);
      if (entry === undefined) {
        entry = { since: now, sum: 0, samples: 0 };
        this.#seen.set(c.id, entry);
      }
      // Samples before a connection's first byte are its request's latency, not its speed.
      if (c.bytesPerSecond > 0 || entry.samples > 0) {
        entry.sum += c.bytesPerSecond;
        entry.samples++;
      }
    }
    for (const id of this.#seen.keys()) if (!ids.has(id)) this.#seen.delete(id);
  }

  /**
   * Connections far slower than their siblings' median over at least a window, with enough left to
   * matter. Needs two siblings measured as long, so one connection alone is never "slow".
   */
  #slowOnes(live: ReadonlyArray<{ id: number; remaining: number }>, now: number): number[] {
    const measured = live.filter((c) => {
      const e = this.#seen.get(c.id);
      return e !== undefined && e.samples >= 2 && now - e.since >= this.#windowMs + this.#settleMs;
    });
    if (measured.length < 3) return [];
    const mean = (id: number): number => {
      const e = this.#seen.get(id)!;
      return e.sum / e.samples;
    };
    const out: number[] = [];
    for (const c of measured) {
      if (c.remaining < this.#minRetireBytes) continue;
      const others = measured.filter((o) => o.id !== c.id).map((o) => mean(o.id)).sort((a, b) => a - b);
      const median = others[Math.floor(others.length / 2)]!;
      if (mean(c.id) < median * this.#slowFraction) out.push(c.id);
    }
    // Never retire most of the download at once: that would be the siblings' fault, not theirs.
    return out.length * 2 < measured.length ? out : [];
  }

  /** When settling below the connections open, the slowest extra ones to close. */
  #extraToRetire(live: ReadonlyArray<{ id: number; bytesPerSecond: number }>): number[] | undefined {
    const extra = live.length - this.#target;
    if (extra <= 0) return undefined;
    const slowest = [...live].sort((a, b) => a.bytesPerSecond - b.bytesPerSecond).slice(0, extra).map((c) => c.id);
    for (const id of slowest) this.#retired.add(id);
    return slowest;
  }
}

/**
 * The adaptive policy as a factory for `MultigetOptions.connectionPolicy`: one cap memory per
 * factory (so per engine that uses it), shared by its downloads.
 *
 * @example
 * new Multiget({ plugins, connectionPolicy: adaptiveConnections() });
 */
export function adaptiveConnections(options: Omit<AdaptivePolicyOptions, 'host' | 'memory'> = {}): ConnectionPolicyFactory {
  const memory = new HostCapMemory();
  return (context) => new AdaptivePolicy({ ...options, memory, ...(context?.host !== undefined ? { host: context.host } : {}) });
}
