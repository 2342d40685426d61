import { describe, expect, it } from 'vitest';
import { AdaptivePolicy } from '../src/transfer/AdaptivePolicy.js';
import { HostCapMemory } from '../src/transfer/HostCapMemory.js';
import type { ConnectionSample, ConnectionStart } from '../src/transfer/policy.js';

/**
 * A tiny model of a transfer loop driving the policy: it opens connections up to the target, closes
 * the ones the policy retires (replacing them when the target says so), and feeds one sample per
 * tick from a model of the link. Deterministic: the "noise" is a fixed sequence.
 */
interface Link {
  /** Throughput of each open connection (bytes/s), given how many are open and the tick. */
  rates(open: number[], tick: number): number[];
  /** True when the server refuses the connection that would make `active + 1`. */
  refuses?(active: number): boolean;
  /** CPU of the client in cores with `open` connections; without it the samples carry none. */
  cpu?(open: number): number;
}

interface Run {
  targets: number[];
  retired: number[];
  refusals: number;
  final: number;
  reasons: string[];
}

function drive(policy: AdaptivePolicy, link: Link, ceiling: number, ticks: number, tickMs = 100, start?: ConnectionStart): Run {
  const targets: number[] = [];
  const retired: number[] = [];
  const reasons: string[] = [];
  let nextId = 0;
  let open: number[] = [];
  let refusals = 0;
  let target = policy.initial(ceiling, start);
  expect(target).toBeGreaterThanOrEqual(1);
  expect(target).toBeLessThanOrEqual(ceiling);
  /** Ticks each connection has been open: its first tick is its request's latency (no bytes yet). */
  const age = new Map<number, number>();
  for (let tick = 1; tick <= ticks; tick++) {
    // Open up to the target, as a loop would; a refusal is reported and the connection not opened.
    while (open.length < target) {
      if (link.refuses?.(open.length)) {
        refusals++;
        policy.refused(open.length);
        break;
      }
      open.push(nextId);
      age.set(nextId, 0);
      nextId++;
    }
    const rates = link.rates(open, tick).map((r, i) => ((age.get(open[i]!) ?? 0) === 0 ? 0 : r));
    for (const id of open) age.set(id, (age.get(id) ?? 0) + 1);
    const sample: ConnectionSample = {
      elapsedMs: tick * tickMs,
      bytesPerSecond: rates.reduce((a, b) => a + b, 0),
      connections: open.map((id, i) => ({ id, bytesPerSecond: rates[i]!, remaining: 64 * 1024 * 1024 })),
      ...(link.cpu ? { cpu: link.cpu(open.length) } : {}),
    };
    const decision = policy.next(sample);
    target = decision.target;
    expect(target).toBeGreaterThanOrEqual(1);
    expect(target).toBeLessThanOrEqual(ceiling);
    for (const id of decision.retire ?? []) {
      expect(open).toContain(id);
      retired.push(id);
    }
    open = open.filter((id) => !(decision.retire ?? []).includes(id));
    // A lower target without retirements: the loop closes connections as their ranges end; model that at once.
    if (open.length > target) open = open.slice(0, target);
    targets.push(target);
    if (reasons.at(-1) !== policy.reason) reasons.push(policy.reason);
  }
  return { targets, retired, refusals, final: target, reasons };
}

/** ±4 % of deterministic wobble, so flat really means "flat within noise". */
const wobble = (tick: number): number => 1 + 0.04 * Math.sin(tick * 1.7);

/** Loopback: the total is what the two cores allow, whatever the connection count (a bit less with more). */
const loopback: Link = {
  rates: (open, tick) => {
    const total = 900e6 * wobble(tick) * (1 - 0.01 * open.length);
    return open.map(() => total / open.length);
  },
};

/** A per-connection cap: every connection gets 8 MB/s, up to a link of 1 Gbit/s. */
const perConnection: Link = {
  rates: (open, tick) => {
    const each = Math.min(8e6, 125e6 / Math.max(1, open.length)) * wobble(tick);
    return open.map(() => each);
  },
};

/** The client's own CPU on loopback: its two cores are the limit (about one core busy). */
const busyLoopback: Link = { ...loopback, cpu: () => 1.1 };
/** A per-connection cap seen by an idle client (a fifth of a core at full speed). */
const idlePerConnection: Link = { ...perConnection, cpu: () => 0.2 };

describe('AdaptivePolicy', () => {
  it('never adds a connection while the client is busy, and halves them while fewer carry as much (loopback)', () => {
    const run = drive(new AdaptivePolicy(), busyLoopback, 16, 100, 50);
    expect(run.final).toBe(1);
    expect(Math.max(...run.targets)).toBe(4); // the start, never more
    expect(run.targets).toContain(2);
    expect(run.reasons).toContain('client busy');
    expect(run.reasons).not.toContain('reprobe');
  });

  it('shares its first connections with the transfers already running in the process', () => {
    expect(new AdaptivePolicy().initial(16, { otherTransfers: 0 })).toBe(4);
    expect(new AdaptivePolicy().initial(16)).toBe(4);
    expect(new AdaptivePolicy().initial(16, { otherTransfers: 1 })).toBe(2);
    expect(new AdaptivePolicy().initial(16, { otherTransfers: 2 })).toBe(1);
    expect(new AdaptivePolicy().initial(16, { otherTransfers: 7 })).toBe(1);
    expect(new AdaptivePolicy({ start: 8 }).initial(16, { otherTransfers: 1 })).toBe(4);
    expect(new AdaptivePolicy({ start: 8 }).initial(3, { otherTransfers: 1 })).toBe(3);
    // A remembered cap still bounds it.
    const memory = new HostCapMemory();
    memory.lower('example.org:80', 1);
    expect(new AdaptivePolicy({ host: 'example.org:80', memory, start: 8 }).initial(16, { otherTransfers: 1 })).toBe(1);
  });

  it('starting with one connection beside other transfers, still reaches the ceiling at the first sample on a per-connection cap', () => {
    const alone = drive(new AdaptivePolicy(), idlePerConnection, 16, 30, 50);
    const beside = drive(new AdaptivePolicy(), idlePerConnection, 16, 30, 50, { otherTransfers: 7 });
    expect(beside.targets.indexOf(16)).toBeGreaterThanOrEqual(0);
    expect(beside.targets.indexOf(16)).toBe(alone.targets.indexOf(16));
    expect(beside.final).toBe(16);
  });

  it('beside other transfers on a busy client, stays at the one connection it started with', () => {
    const run = drive(new AdaptivePolicy(), busyLoopback, 16, 100, 50, { otherTransfers: 3 });
    expect(Math.max(...run.targets)).toBe(1);
    expect(run.final).toBe(1);
  });

  it('a busy client keeps the larger level when halving it lost throughput', () => {
    // Two connections carry half of what four do (a per-connection cap), yet the client is busy.
    const capped: Link = { ...perConnection, cpu: () => 0.9 };
    const run = drive(new AdaptivePolicy({ reprobeMs: 60_000 }), capped, 16, 60, 50);
    expect(run.final).toBe(4);
    expect(run.reasons).toContain('trim undone');
  });

  it('without CPU figures, settles where added connections bought nothing (flat)', () => {
    const run = drive(new AdaptivePolicy({ reprobeMs: 60_000 }), loopback, 16, 100);
    expect(run.final).toBeLessThanOrEqual(4);
    // It tried more, found nothing, and never went to the ceiling.
    expect(Math.max(...run.targets)).toBeLessThan(16);
    expect(run.reasons).toContain('flat');
  });

  it('goes back down after a re-probe that bought nothing', () => {
    const run = drive(new AdaptivePolicy({ reprobeMs: 1000 }), loopback, 16, 200);
    expect(run.reasons).toContain('reprobe');
    const settled = run.targets[19]!;
    // Each re-probe tries one more connection, finds nothing and goes back: never further than one up.
    expect(Math.max(...run.targets.slice(20))).toBeLessThanOrEqual(settled + 1);
    const late = run.reasons.slice(run.reasons.indexOf('reprobe'));
    late.forEach((reason, i) => expect(reason).toBe(i % 2 === 0 ? 'reprobe' : 'flat'));
    expect(run.targets.at(-20)).toBeLessThanOrEqual(settled + 1);
  });

  it('reaches the ceiling within a second when each connection is capped (throughput doubles)', () => {
    const run = drive(new AdaptivePolicy(), perConnection, 16, 30);
    const reached = run.targets.indexOf(16);
    expect(reached).toBeGreaterThanOrEqual(0);
    expect(reached).toBeLessThan(10); // ticks of 100 ms
    expect(run.final).toBe(16);
  });

  it('an idle client whose first connections deliver goes to the ceiling at the first tick, and stays', () => {
    const run = drive(new AdaptivePolicy(), idlePerConnection, 16, 40, 50);
    // Tick 1: the new connections' latency (no bytes yet: the model's first tick); tick 2: bytes flow.
    expect(run.targets.indexOf(16)).toBeLessThanOrEqual(1);
    expect(run.final).toBe(16);
    expect(run.reasons).toContain('probing');
  });

  it('an idle client whose connections are already fast doubles instead of jumping to the ceiling (loopback caught idle)', () => {
    // Loopback's 900 MB/s shared by a few connections (over 200 MB/s each), sampled while the
    // client's CPU was low (the server still starting): the jump would only hold sixteen sets of
    // buffers for nothing.
    const idleLoopback: Link = { ...loopback, cpu: () => 0.5 };
    const run = drive(new AdaptivePolicy({ reprobeMs: 60_000 }), idleLoopback, 16, 40, 50);
    expect(Math.max(...run.targets)).toBe(8);
    expect(run.reasons).toContain('probing');
    expect(run.final).toBe(4);
    // With the bar for "fast" above what its connections carry, the same link looks capped per
    // connection: it jumps.
    const bold = drive(new AdaptivePolicy({ reprobeMs: 60_000, fastConnection: 1e9 }), idleLoopback, 16, 40, 50);
    expect(Math.max(...bold.targets)).toBe(16);
  });

  it('an idle client on a shared limit goes back from the ceiling to where it started', () => {
    // Four connections' worth in all (32 MB/s): sixteen add nothing over the four it started with.
    const shared: Link = { rates: (open, tick) => open.map(() => (Math.min(8e6 * open.length, 32e6) / open.length) * wobble(tick)), cpu: () => 0.2 };
    const run = drive(new AdaptivePolicy({ reprobeMs: 60_000 }), shared, 16, 60, 50);
    expect(Math.max(...run.targets)).toBe(16);
    expect(run.final).toBe(4);
    expect(run.reasons).toContain('flat');
  });

  it('stops where a per-connection-capped link saturates', () => {
    // 8 MB/s each up to 40 MB/s in all: five connections fill the link, sixteen add nothing.
    const saturating: Link = {
      rates: (open, tick) => open.map(() => (Math.min(8e6 * open.length, 40e6) / open.length) * wobble(tick)),
    };
    const run = drive(new AdaptivePolicy({ reprobeMs: 60_000 }), saturating, 16, 100);
    expect(run.final).toBeGreaterThanOrEqual(4);
    expect(run.final).toBeLessThanOrEqual(8);
  });

  it('lowers its cap on refusals and never asks for more than the server allowed', () => {
    const capped: Link = { ...perConnection, refuses: (active) => active >= 4 };
    const policy = new AdaptivePolicy();
    const run = drive(policy, capped, 16, 60);
    expect(run.refusals).toBeGreaterThanOrEqual(1);
    expect(policy.cap).toBe(4);
    expect(run.final).toBe(4);
    // After the first refusal, the target never exceeds the cap again.
    const firstRefusal = run.reasons.indexOf('refused');
    expect(firstRefusal).toBeGreaterThanOrEqual(0);
    expect(run.refusals).toBe(1);
  });

  it('remembers a host cap for the next download of the same engine, and only for that host', () => {
    const memory = new HostCapMemory();
    const capped: Link = { ...perConnection, refuses: (active) => active >= 3 };
    drive(new AdaptivePolicy({ host: 'example.org:80', memory }), capped, 16, 60);
    expect(memory.get('example.org:80')).toBe(3);

    const later = new AdaptivePolicy({ host: 'example.org:80', memory, start: 8 });
    expect(later.initial(16)).toBe(3);
    const run = drive(later, capped, 16, 60);
    expect(run.refusals).toBe(0);
    expect(Math.max(...run.targets)).toBe(3);

    const elsewhere = new AdaptivePolicy({ host: 'example.net:80', memory, start: 8 });
    expect(elsewhere.initial(16)).toBe(8);
  });

  it('forgets a remembered cap after its time to live, and keeps at most maxHosts entries', () => {
    let now = 0;
    const memory = new HostCapMemory({ ttlMs: 1000, maxHosts: 2, now: () => now });
    memory.lower('a:1', 4);
    memory.lower('a:1', 6); // a higher cap never raises a known one
    expect(memory.get('a:1')).toBe(4);
    now = 999;
    expect(memory.get('a:1')).toBe(4);
    now = 1000;
    expect(memory.get('a:1')).toBeUndefined();
    memory.lower('b:1', 2);
    memory.lower('c:1', 2);
    memory.lower('d:1', 2);
    expect(memory.get('b:1')).toBeUndefined();
    expect(memory.get('d:1')).toBe(2);
  });

  it('a refusal of the very first connection lowers this download to one connection but is not remembered', () => {
    const memory = new HostCapMemory();
    const policy = new AdaptivePolicy({ host: 'h:1', memory });
    policy.initial(8);
    policy.refused(0);
    expect(policy.cap).toBe(1);
    expect(policy.next({ elapsedMs: 100, bytesPerSecond: 0, connections: [] }).target).toBe(1);
    expect(memory.get('h:1')).toBeUndefined();
  });

  it('retires a connection far slower than its siblings, once', () => {
    // Connection 2 (the third opened) runs at 1/40 of the others' pace.
    const oneSlow: Link = {
      rates: (open, tick) => open.map((id) => (id === 2 ? 200e3 : 8e6) * wobble(tick)),
    };
    const run = drive(new AdaptivePolicy({ start: 4, reprobeMs: 60_000 }), oneSlow, 4, 40);
    expect(run.retired).toEqual([2]);
    expect(run.reasons).toContain('slow connection');
  });

  it('counts a connection number again once the loop closed the retired connection and reused it', () => {
    const policy = new AdaptivePolicy({ start: 4, reprobeMs: 60_000 });
    policy.initial(4);
    const tick = (n: number, slow: number | undefined, ids = [0, 1, 2, 3]) =>
      policy.next({
        elapsedMs: n * 100,
        bytesPerSecond: 24e6,
        connections: ids.map((id) => ({ id, bytesPerSecond: id === slow ? 1e3 : 8e6, remaining: 64e6 })),
      });
    let retired: number[] | undefined;
    let n = 1;
    for (; n <= 30 && retired === undefined; n++) retired = tick(n, 2).retire;
    expect(retired).toEqual([2]);
    // The loop closes it (it leaves the sample), then opens a new connection under the same number,
    // which turns out slow too: it is measured and retired like any other.
    tick(n++, undefined, [0, 1, 3]);
    let again: number[] | undefined;
    for (const end = n + 30; n <= end && again === undefined; n++) again = tick(n, 2).retire;
    expect(again).toEqual([2]);
  });

  it('does not retire a slow connection whose range is nearly done, nor the only connections there are', () => {
    const policy = new AdaptivePolicy({ start: 2 });
    policy.initial(2);
    for (let tick = 1; tick <= 30; tick++) {
      const decision = policy.next({
        elapsedMs: tick * 100,
        bytesPerSecond: 8e6 + 1e3,
        connections: [
          { id: 0, bytesPerSecond: 8e6, remaining: 64e6 },
          { id: 1, bytesPerSecond: 1e3, remaining: 64e6 },
        ],
      });
      expect(decision.retire).toBeUndefined();
    }
    const small = new AdaptivePolicy({ start: 4 });
    small.initial(4);
    for (let tick = 1; tick <= 30; tick++) {
      const decision = small.next({
        elapsedMs: tick * 100,
        bytesPerSecond: 24e6,
        connections: [0, 1, 2, 3].map((id) => ({ id, bytesPerSecond: id === 3 ? 1e3 : 8e6, remaining: id === 3 ? 1000 : 64e6 })),
      });
      expect(decision.retire).toBeUndefined();
    }
  });

  it('never exceeds the ceiling or goes below one, and a ceiling of one is final', () => {
    const single = new AdaptivePolicy();
    expect(single.initial(1)).toBe(1);
    const run = drive(single, perConnection, 1, 30);
    expect(new Set(run.targets)).toEqual(new Set([1]));
  });
});
