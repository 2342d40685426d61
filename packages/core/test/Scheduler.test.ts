import { describe, expect, it } from 'vitest';
import { Scheduler, equalSegments } from '../src/transfer/Scheduler.js';
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
