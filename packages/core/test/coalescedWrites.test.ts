// CoalescedWrites: one run at a time, requests made meanwhile answered by the next run, a run that
// gathers for as long as its gather time says (asked anew for each run: the content store waits
// longer once its writes grow slow), and drain() ending every wait. Fake timers: no test waits.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CoalescedWrites } from '../src/util/CoalescedWrites.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('CoalescedWrites', () => {
  it('asks the gather time for each run, and writes once for every request made meanwhile', async () => {
    let runs = 0;
    const gathers = [100, 700];
    const asked: number[] = [];
    const writes = new CoalescedWrites(
      async () => {
        runs++;
      },
      () => {
        const ms = gathers[asked.length] ?? 0;
        asked.push(ms);
        return ms;
      },
    );
    const first = [writes.request(), writes.request(), writes.request()];
    await vi.advanceTimersByTimeAsync(99);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all(first);
    expect(runs).toBe(1);

    const second = writes.request();
    await vi.advanceTimersByTimeAsync(699);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await second;
    expect(runs).toBe(2);
    expect(asked).toEqual([100, 700]);
  });

  it('a request someone waits for, and drain(), end the wait; after drain() nothing gathers', async () => {
    let runs = 0;
    const writes = new CoalescedWrites(async () => {
      runs++;
    }, () => 3_600_000);
    const gathered = writes.request();
    await vi.advanceTimersByTimeAsync(10);
    expect(runs).toBe(0);
    await writes.request(true);
    await gathered;
    expect(runs).toBe(1);

    const again = writes.request();
    await vi.advanceTimersByTimeAsync(10);
    expect(runs).toBe(1);
    await writes.drain();
    await again;
    expect(runs).toBe(2);
    await writes.request();
    expect(runs).toBe(3);
  });
});
