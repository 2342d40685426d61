import { describe, expect, it } from 'vitest';
import { type Pace, Scheduler, TAIL_FLOOR, equalSegments } from '../src/transfer/Scheduler.js';
import { connectionPace } from '../src/transfer/Transfer.js';
import type { Segment } from '../src/types.js';

describe('equalSegments', () => {
  it('covers the file exactly, the last segment taking the remainder', () => {
    const segs = equalSegments(1003, 4);
    expect(segs.map((s) => [s.start, s.end])).toEqual([
      [0, 250],
      [250, 500],
      [500, 750],
      [750, 1003],
    ]);
  });

  it('never makes more segments than bytes', () => {
    expect(equalSegments(2, 8)).toHaveLength(2);
  });
});

describe('Scheduler', () => {
  it('never splits below bytes being written: a write in flight stays its segment\'s (regression: the cut fell inside it and the bytes were fetched twice)', () => {
    const segs: Segment[] = [{ id: 0, start: 0, end: 1000, pos: 0 }];
    const s = new Scheduler(segs, 10);
    s.claim(1);
    // 700 bytes are on their way to the disk at pos 0: only [700, 1000) is left to share.
    s.hold(segs[0]!, 700);
    const part = s.claim(2)!;
    expect(part).toMatchObject({ start: 850, end: 1000 });
    expect(segs[0]!.end).toBe(850);
    // Once written, the next split counts from the new pos again.
    segs[0]!.pos = 700;
    s.hold(segs[0]!, 0);
    expect(s.claim(3)).toMatchObject({ start: 775, end: 850 });
  });

  it('does not split a segment whose rest its connection holds', () => {
    const segs: Segment[] = [{ id: 0, start: 0, end: 100, pos: 0 }];
    const s = new Scheduler(segs, 10);
    s.claim(1);
    s.hold(segs[0]!, 90);
    expect(s.claimable).toBe(false);
    expect(s.claim(2)).toBeUndefined();
  });

  it('hands out unowned segments before splitting', () => {
    const s = new Scheduler(equalSegments(1000, 2), 10);
    expect(s.claim(1)?.start).toBe(0);
    expect(s.claim(2)?.start).toBe(500);
    expect(s.owned).toBe(2);
  });

  it('splits the largest remaining run in half for an idle connection', () => {
    const segs: Segment[] = [
      { id: 0, start: 0, end: 100, pos: 90 },
      { id: 1, start: 100, end: 1000, pos: 200 },
    ];
    const s = new Scheduler(segs, 10);
    s.claim(1);
    s.claim(2);
    const part = s.claim(3)!;
    // Segment 1 has 800 bytes left: the new connection takes the upper 400.
    expect(part).toMatchObject({ start: 600, end: 1000, pos: 600 });
    expect(segs[1]!.end).toBe(600);
    expect(s.remaining).toBe(10 + 800);
  });

  it('never splits below the minimum split size', () => {
    const segs: Segment[] = [{ id: 0, start: 0, end: 100, pos: 0 }];
    const s = new Scheduler(segs, 60);
    s.claim(1);
    expect(s.claim(2)).toBeUndefined();
  });

  it('never splits a segment of unknown length', () => {
    const s = new Scheduler([{ id: 0, start: 0, end: Infinity, pos: 0 }], 1);
    s.claim(1);
    expect(s.claim(2)).toBeUndefined();
  });

  it('gives a released unfinished segment to the next connection', () => {
    const segs = equalSegments(100, 1);
    const s = new Scheduler(segs, 60);
    const a = s.claim(1)!;
    a.pos = 40;
    s.release(a);
    expect(s.claim(2)).toBe(a);
  });

  it('is complete only when every byte is written', () => {
    const segs = equalSegments(10, 2);
    const s = new Scheduler(segs, 1);
    expect(s.complete).toBe(false);
    for (const seg of segs) seg.pos = seg.end;
    expect(s.complete).toBe(true);
  });

  it('ends with segments that tile the file when connections keep splitting', () => {
    const size = 1 << 20;
    const segs = equalSegments(size, 3);
    const s = new Scheduler(segs, 1024);
    const owned = new Map<number, Segment>();
    // Simulate 6 connections that each write a little and claim again when done.
    for (let round = 0; round < 10_000 && !s.complete; round++) {
      const w = round % 6;
      let seg = owned.get(w);
      if (!seg || seg.pos >= seg.end) {
        if (seg) s.release(seg);
        seg = s.claim(w);
        if (!seg) {
          owned.delete(w);
          continue;
        }
        owned.set(w, seg);
      }
      seg.pos = Math.min(seg.end, seg.pos + 4096 + w * 1000);
    }
    expect(s.complete).toBe(true);
    const sorted = [...segs].sort((a, b) => a.start - b.start);
    let at = 0;
    for (const seg of sorted) {
      expect(seg.start).toBe(at);
      at = seg.end;
    }
    expect(at).toBe(size);
  });
});

describe('Scheduler: the end game, below minSplitSize', () => {
  const KiB = 1024;
  const MiB = 1024 * KiB;
  /** One segment of `left` bytes owned by connection 1, and a scheduler that splits at 1 MiB. */
  function owned(left: number, pace: Pace | undefined, held = 0): { s: Scheduler; seg: Segment } {
    const seg: Segment = { id: 0, start: 0, end: left, pos: 0 };
    const s = new Scheduler([seg], MiB);
    s.pace = (owner) => (owner === 1 ? pace : undefined);
    s.claim(1);
    if (held > 0) s.hold(seg, held);
    return { s, seg };
  }

  it('shares a slow connection\'s tail so that both finish together', () => {
    // 1.5 MiB at 8 MB/s would take 197 ms alone; a new request starts after 25 ms.
    const { s, seg } = owned(1.5 * MiB, { bytesPerSecond: 8e6, firstByteMs: 25 });
    expect(s.claimable).toBe(true);
    const part = s.claim(2)!;
    const take = Math.floor((1.5 * MiB - 8e6 * 0.025) / 2);
    expect(part).toMatchObject({ start: 1.5 * MiB - take, end: 1.5 * MiB, pos: 1.5 * MiB - take });
    expect(seg.end).toBe(part.start);
    // The owner keeps the larger part: it needs no new request.
    expect(seg.end - seg.pos).toBeGreaterThan(part.end - part.start);
  });

  it('does not split what a fast connection finishes before a new request could start', () => {
    // 1.5 MiB at 650 MB/s: 2.4 ms, less than twice the 1 ms a request takes to answer.
    expect(owned(1.5 * MiB, { bytesPerSecond: 650e6, firstByteMs: 1 }).s.claim(2)).toBeUndefined();
    // Worth a request in proportion, but the gain (under 25 ms) is not worth one.
    expect(owned(1.5 * MiB, { bytesPerSecond: 40e6, firstByteMs: 5 }).s.claim(2)).toBeUndefined();
  });

  it('does not split without a measured pace: minSplitSize alone rules', () => {
    expect(owned(1.5 * MiB, undefined).s.claim(2)).toBeUndefined();
    expect(owned(1.5 * MiB, { bytesPerSecond: 0, firstByteMs: 25 }).s.claim(2)).toBeUndefined();
  });

  it(`never leaves a part below ${TAIL_FLOOR / KiB} KiB`, () => {
    // 160 KiB at 1 MB/s takes 164 ms, but after a 40 ms start the new request would take 60 KiB.
    expect(owned(160 * KiB, { bytesPerSecond: 1e6, firstByteMs: 40 }).s.claim(2)).toBeUndefined();
    const part = owned(300 * KiB, { bytesPerSecond: 1e6, firstByteMs: 40 }).s.claim(2)!;
    expect(part.end - part.start).toBeGreaterThanOrEqual(TAIL_FLOOR);
  });

  it('never cuts below the bytes the connection holds', () => {
    const { s } = owned(1.5 * MiB, { bytesPerSecond: 4e6, firstByteMs: 25 }, MiB);
    const part = s.claim(2)!;
    expect(part.start).toBeGreaterThanOrEqual(MiB);
    expect(part.end - part.start).toBe(Math.floor((0.5 * MiB - 4e6 * 0.025) / 2));
  });

  it('prefers a run above minSplitSize, then the tail that would take longest', () => {
    const segs: Segment[] = [
      { id: 0, start: 0, end: MiB, pos: 0 },
      { id: 1, start: MiB, end: 2 * MiB, pos: MiB },
      { id: 2, start: 2 * MiB, end: 5 * MiB, pos: 2 * MiB },
    ];
    const s = new Scheduler(segs, MiB);
    const paces = new Map<number, Pace>([
      [1, { bytesPerSecond: 8e6, firstByteMs: 25 }],
      [2, { bytesPerSecond: 2e6, firstByteMs: 25 }],
      [3, { bytesPerSecond: 8e6, firstByteMs: 25 }],
    ]);
    s.pace = (owner) => paces.get(owner);
    s.claim(1);
    s.claim(2);
    s.claim(3);
    // Segment 2 has 3 MiB: an ordinary split, in half.
    expect(s.claim(4)).toMatchObject({ start: 3.5 * MiB, end: 5 * MiB });
    // Then the slower of the two 1 MiB tails: connection 2's.
    expect(s.claim(5)!.start).toBeGreaterThan(MiB);
    expect(segs[1]!.end).toBeLessThan(2 * MiB);
    expect(segs[0]!.end).toBe(MiB);
  });
});


describe('connectionPace: the speed the end game reads', () => {
  it("is the current range's once it ran 50 ms, else the last range's, else unknown", () => {
    // 400 KB in 100 ms of the current range: 4 MB/s.
    expect(connectionPace({ rangeAt: 1000, rangeBytes: 400_000, rate: 9e6 }, 1100, 25)).toEqual({ bytesPerSecond: 4e6, firstByteMs: 25 });
    // A range 20 ms old (split off at the end, say) says little: the connection's last range speaks.
    expect(connectionPace({ rangeAt: 1000, rangeBytes: 10_000, rate: 9e6 }, 1020, 25)).toEqual({ bytesPerSecond: 9e6, firstByteMs: 25 });
    // Before its first byte, too.
    expect(connectionPace({ rangeAt: undefined, rangeBytes: 0, rate: 9e6 }, 1020, 25)?.bytesPerSecond).toBe(9e6);
    // A first range too young to measure, or no answer yet in the transfer: unknown.
    expect(connectionPace({ rangeAt: 1000, rangeBytes: 10_000, rate: undefined }, 1020, 25)).toBeUndefined();
    expect(connectionPace({ rangeAt: 1000, rangeBytes: 400_000, rate: 9e6 }, 1100, undefined)).toBeUndefined();
  });
});
