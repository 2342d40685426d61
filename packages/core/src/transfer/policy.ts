/**
 * How many connections a transfer runs. The transfer loop asks a {@link ConnectionPolicy} how many
 * to open first, then on every sample tick how many it wants now (opening or retiring connections
 * to match), and tells it when the server refused a new one. The engine's default is the adaptive
 * policy (`AdaptivePolicy.ts`: a few connections first, more while they add throughput); the
 * built-in {@link allAtOnce} opens every allowed connection at once.
 */

/** What the transfer measured at one sample tick. */
export interface ConnectionSample {
  /** Milliseconds since the transfer started. */
  elapsedMs: number;
  /** Speed of the whole download, smoothed, in bytes per second. */
  bytesPerSecond: number;
  /**
   * CPU this process used since the previous tick, in cores (1 = one core busy all the time; all
   * threads counted), or undefined where it cannot be told. Near one core the client itself is the
   * limit: more connections only add per-connection work.
   */
  cpu?: number;
  /** Each open connection: its id, its speed since the previous tick, and the bytes its range still has (Infinity when unknown). */
  connections: ReadonlyArray<{
    /** The connection's id (as in the `rangeStart` events). */
    id: number;
    /** Bytes per second since the previous tick. */
    bytesPerSecond: number;
    /** Bytes its range still has (Infinity when unknown, 0 between ranges). */
    remaining: number;
  }>;
}

/** What a policy is told of the process when its transfer starts. */
export interface ConnectionStart {
  /**
   * Other transfers of this process running at this moment (of any engine, single-stream ones
   * included). Their connections already share the client's CPU, and often its link.
   */
  otherTransfers: number;
}

/** Decides the number of connections of one transfer. One instance per transfer (a run of a download). */
export interface ConnectionPolicy {
  /**
   * Connections to open first, 1..`ceiling` (the most the options and the plan allow). `start`
   * says what else the process is doing (absent when a caller does not tell).
   */
  initial(ceiling: number, start?: ConnectionStart): number;
  /**
   * Called on each sample tick. `target` is the number of connections wanted now (clamped to
   * 1..ceiling by the loop); `retire` names connections to close first when there are too many.
   */
  next(sample: ConnectionSample): {
    /** Connections wanted now. */
    target: number;
    /** Connections to close first when there are more than `target`. */
    retire?: number[];
  };
  /**
   * The server refused a connection (429/503 while others run: the retry policy retired it);
   * `active` is the number of connections still open. A policy should not ask for more at once.
   */
  refused(active: number): void;
  /** Why the target last changed, for the `connections` event (`initial`, `rising`, `refused`, ...). */
  readonly reason?: string;
}

/** What a policy is made for: the host (with port) the transfer talks to. */
export interface ConnectionPolicyContext {
  /** `host:port` of the download's URL, for policies that remember a server's cap. */
  host: string;
}

/** Makes the policy of one transfer. */
export type ConnectionPolicyFactory = (context?: ConnectionPolicyContext) => ConnectionPolicy;

/**
 * Every allowed connection at once, and never more after the server refused one (the connections
 * it still serves are what it wants). `multiget --fixed-connections`; the engine's default is the
 * adaptive policy.
 */
export function allAtOnce(): ConnectionPolicy {
  let target = 1;
  return {
    initial(ceiling) {
      target = ceiling;
      return ceiling;
    },
    next() {
      return { target };
    },
    refused(active) {
      target = Math.max(1, Math.min(target, active));
    },
  };
}

/** What bounds the connections of a download. */
export interface CeilingInput {
  /** Connections the user wants for this download. */
  connections: number;
  /** Connections to one host. */
  maxConnectionsPerHost: number;
  /** Segments are planned and split no smaller than this many bytes. */
  minSplitSize: number;
}

/**
 * The most connections a download can use: what the user allows, and no more than there is work
 * for (a file too small to split needs one; a resumed file has its unfinished segments). The one
 * place this is derived: the planner cuts the file with it and the transfer loop opens at most it.
 *
 * @param remaining - Bytes left (Infinity when the size is unknown).
 * @param unfinished - Segments with bytes left (0 for a fresh plan).
 * @param single - The transfer runs in one stream (no ranges, or the size is unknown).
 */
export function connectionCeiling(options: CeilingInput, remaining: number, unfinished: number, single: boolean): number {
  if (single) return 1;
  const splittable = Number.isFinite(remaining) ? Math.floor(remaining / options.minSplitSize) : 1;
  return Math.max(1, Math.min(options.connections, options.maxConnectionsPerHost, Math.max(unfinished, splittable)));
}

/**
 * Milliseconds between the connection policy's samples: short, so that a link that scales per
 * connection reaches its connections within a round trip or two, yet long enough for a sample to
 * hold several reads of every connection.
 */
const POLICY_TICK_MS = 50;
/**
 * Milliseconds before the first of them: the probe's response already flows, and on a link limited
 * per connection every millisecond before the policy's first decision runs at a fraction of it.
 */
const FIRST_POLICY_TICK_MS = 20;

/**
 * A reading of this process's CPU time, shared by the transfers that ask within a millisecond of
 * each other: `process.cpuUsage()` is a system call (getrusage(2), 10-15 µs on a VM), and a queue of
 * small downloads starts a transfer every few hundred microseconds. The reading says when it was
 * taken, so the CPU between two readings is still divided by the time between them.
 */
let sharedCpu: { at: number; usage: NodeJS.CpuUsage } | undefined;

function readCpu(now: number): { at: number; usage: NodeJS.CpuUsage } {
  if (sharedCpu === undefined || now - sharedCpu.at >= 1) sharedCpu = { at: now, usage: process.cpuUsage() };
  return sharedCpu;
}

/**
 * The clock of a transfer's connection policy: calls `sample` 20 ms in, then every 50 ms, with the
 * milliseconds since the start and since the previous call and the CPU this process used meanwhile
 * (in cores, all threads counted). Returns the function that stops it.
 */
export function startPolicySamples(sample: (elapsedMs: number, sinceMs: number, cpu: number | undefined) => void): () => void {
  const started = performance.now();
  let last = started;
  let cpuBefore = readCpu(started);
  const tick = (): void => {
    const now = performance.now();
    const cpuNow = readCpu(now);
    const sinceMs = now - last;
    const cpuMs = cpuNow.at - cpuBefore.at;
    const cpu =
      cpuMs > 0 ? (cpuNow.usage.user - cpuBefore.usage.user + cpuNow.usage.system - cpuBefore.usage.system) / 1000 / cpuMs : undefined;
    cpuBefore = cpuNow;
    last = now;
    sample(now - started, sinceMs, cpu);
  };
  let timer: NodeJS.Timeout = setTimeout(() => {
    tick();
    timer = setInterval(tick, POLICY_TICK_MS);
  }, FIRST_POLICY_TICK_MS);
  return () => clearInterval(timer);
}
