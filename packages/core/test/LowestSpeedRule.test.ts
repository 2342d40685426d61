import { describe, expect, it } from 'vitest';
import { LowestSpeedRule } from '../src/transfer/LowestSpeedRule.js';

const WINDOW = 10_000;

/** Feeds each connection `rates[i]` bytes per second for `seconds`, checking every second. */
function run(rule: LowestSpeedRule, rates: number[], seconds: number, held: number[] = []) {
  const verdicts = [];
  for (let s = 1; s <= seconds; s++) {
    rates.forEach((rate, worker) => {
      rule.received(worker, rate);
      const ms = held[worker] ?? 0;
      if (ms > 0) {
        rule.hold(worker, s * 1000 - 1000);
        rule.release(worker, s * 1000 - 1000 + ms);
      }
    });
    verdicts.push(...rule.check(s * 1000));
  }
  return verdicts;
}

function started(rates: number[], limit = 1024, remaining = Infinity): LowestSpeedRule {
  const rule = new LowestSpeedRule(limit, WINDOW);
  rates.forEach((_, worker) => rule.start(worker, 0, () => remaining));
  return rule;
}

describe('LowestSpeedRule', () => {
  it('judges nobody before a whole window of history', () => {
    const rates = [0];
    expect(run(started(rates), rates, 9)).toEqual([]);
  });

  it('restarts a dripping download (one byte every two seconds) after one window', () => {
    const rule = new LowestSpeedRule(1024, WINDOW);
    rule.start(0, 0, () => Infinity);
    const verdicts = [];
    for (let s = 1; s <= 10; s++) {
      if (s % 2 === 0) rule.received(0, 1);
      verdicts.push(...rule.check(s * 1000));
    }
    expect(verdicts).toEqual([{ worker: 0, kind: 'download', bytesPerSecond: 0.5, referenceBytesPerSecond: 0.5 }]);
  });

  it('restarts every connection when all of them together are below the limit', () => {
    const rates = [100, 200, 300];
    const verdicts = run(started(rates), rates, 10);
    expect(verdicts.map((v) => [v.worker, v.kind])).toEqual([[0, 'download'], [1, 'download'], [2, 'download']]);
    expect(verdicts[0]!.referenceBytesPerSecond).toBe(600);
  });

  it('leaves many slow connections alone when together they are above the limit (a slow but real link)', () => {
    const rates = Array.from({ length: 16 }, () => 640);
    expect(run(started(rates), rates, 60)).toEqual([]);
  });

  it('leaves out the time held by the rate limiter or the disk', () => {
    // 500 B/s in wall time, but 900 ms of every second held by Multiget: 5000 B/s of network time.
    const rates = [500];
    expect(run(started(rates), rates, 30, [900])).toEqual([]);
  });

  it('counts a hold that is still going on (a long wait for the rate limiter)', () => {
    const rule = new LowestSpeedRule(1024, WINDOW);
    rule.start(0, 0, () => Infinity);
    rule.received(0, 6000);
    rule.hold(0, 10);
    const verdicts = [];
    for (let s = 1; s <= 30; s++) verdicts.push(...rule.check(s * 1000));
    expect(verdicts).toEqual([]);
    rule.release(0, 30_000);
    // Released, and then silent for a whole window: now it is the server.
    for (let s = 31; s <= 41; s++) verdicts.push(...rule.check(s * 1000));
    expect(verdicts.map((v) => v.kind)).toEqual(['download']);
  });

  it('is off for the download when the limit is 0', () => {
    const rates = [0, 0, 0];
    expect(run(started(rates, 0), rates, 30)).toEqual([]);
  });

  it('restarts the one connection far slower than its siblings, and only that one', () => {
    const rates = [100_000, 1_000, 120_000, 90_000];
    const verdicts = run(started(rates), rates, 10);
    expect(verdicts).toEqual([{ worker: 1, kind: 'sibling', bytesPerSecond: 1_000, referenceBytesPerSecond: 100_000 }]);
  });

  it('spares a slow connection that will finish within another window anyway', () => {
    const rates = [100_000, 1_000, 120_000, 90_000];
    expect(run(started(rates, 1024, 5_000), rates, 10)).toEqual([]);
  });

  it('compares only with at least two siblings', () => {
    const rates = [100_000, 10];
    expect(run(started(rates, 0), rates, 30)).toEqual([]);
  });

  it('starts a restarted connection with an empty history', () => {
    const rates = [100_000, 1_000, 120_000, 90_000];
    const rule = started(rates);
    expect(run(rule, rates, 10)).toHaveLength(1);
    rule.start(1, 10_000, () => Infinity);
    const later = [];
    for (let s = 11; s <= 19; s++) {
      rates.forEach((rate, worker) => rule.received(worker, rate));
      later.push(...rule.check(s * 1000));
    }
    expect(later).toEqual([]);
  });
});
