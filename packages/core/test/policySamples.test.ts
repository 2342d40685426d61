// The connection policy's clock reads the process's CPU time (a system call) once for all the
// transfers that start within a millisecond: a queue of small downloads starts one every few
// hundred microseconds.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startPolicySamples } from '../src/transfer/policy.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('startPolicySamples', () => {
  it('reads the CPU time once for transfers that start together, and each still gets its samples', async () => {
    const cpuUsage = vi.spyOn(process, 'cpuUsage');
    // Past the shared reading of any earlier test.
    await new Promise((resolve) => setTimeout(resolve, 5));
    cpuUsage.mockClear();
    const samples: (number | undefined)[][] = Array.from({ length: 10 }, () => []);
    const stops: (() => void)[] = [];
    const started = performance.now();
    for (let i = 0; i < 10; i++) stops.push(startPolicySamples((_elapsed, _since, cpu) => samples[i]!.push(cpu)));
    const startedWithin1ms = performance.now() - started < 1;
    const readsAtStart = cpuUsage.mock.calls.length;
    // Every transfer's first sample comes 20 ms in.
    await vi.waitFor(() => expect(samples.every((s) => s.length >= 1)).toBe(true), { timeout: 5000, interval: 5 });
    for (const stop of stops) stop();
    // One reading when the ten started within a millisecond (a slow machine may need two).
    if (startedWithin1ms) expect(readsAtStart).toBe(1);
    else expect(readsAtStart).toBeLessThanOrEqual(2);
    for (const s of samples) {
      expect(s[0]).toBeTypeOf('number');
      expect(s[0]).toBeGreaterThanOrEqual(0);
    }
  });
});
