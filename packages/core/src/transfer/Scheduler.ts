import type { Segment } from '../types.js';

/** How fast a segment's connection receives, and how long a new request waits for its first byte. */
export interface Pace {
  /** Bytes per second the connection receives now. */
  bytesPerSecond: number;
  /** Milliseconds a new request waits for its first byte. */
  firstByteMs: number;
}

/** The smallest part an end-game split leaves (see {@link Scheduler}). */
export const TAIL_FLOOR = 64 * 1024;
/** An end-game split must finish the segment at least this much sooner (half of it, in milliseconds). */
const TAIL_GAIN_MS = 50;

/**
 * Hands segments to connections. A connection takes an unowned segment with bytes left; when there
 * is none, it takes the upper half of the largest remaining run of another connection's segment
 * (never leaving either part below `minSplitSize`), so a slow connection never holds the tail.
 *
 * The end game: once no run is that large, an idle connection may still take the tail of a run
 * whose connection would need longer for it than a new request takes to start. It takes the part
 * that makes both finish together, `(left - speed x firstByte) / 2`, never less than
 * `TAIL_FLOOR`, and only when that finishes the run at least `TAIL_GAIN_MS` / 2 sooner.
 * At 8 MB/s and 25 ms to the first byte, a run of 2 MiB that would take 0.26 s is shared at once,
 * and anything above about 0.6 MB still is; on a fast link the tail is over before a new request
 * could start, and nothing is split. The speeds come from `pace` (the transfer's
 * `connectionPace`); without it, or before a connection has a measured speed, only `minSplitSize`
 * rules.
 */
export class Scheduler {
  private readonly owners = new Map<number, number>();
  private nextId: number;
  /** Bytes each segment's connection holds past its `pos`: gathered for a write or being written. */
  private readonly held = new Map<number, number>();
  /** Told when a connection's segment is cut: the connection, the cut and the old end (the new free range). */
  onSplit: ((owner: number, at: number, end: number) => void) | undefined;
  /** The pace of a connection (by the id it claimed with), if measured; enables end-game splits. */
  pace: ((owner: number) => Pace | undefined) | undefined;

  constructor(
    /** Every segment of the download; the scheduler splits and hands them out in place. */
    readonly segments: Segment[],
    private readonly minSplitSize: number,
  ) {
    this.nextId = segments.reduce((max, s) => Math.max(max, s.id + 1), 0);
  }

  /** Bytes not yet written. Infinity while a segment's end is unknown. */
  get remaining(): number {
    let left = 0;
    for (const s of this.segments) left += s.end - s.pos;
    return left;
  }

  /** True when every segment is fully written. */
  get complete(): boolean {
    return this.segments.every((s) => s.pos >= s.end);
  }

  /** Number of segments owned by a connection. */
  get owned(): number {
    return this.owners.size;
  }

  /** The owner of a segment, if any. */
  ownerOf(segment: Segment): number | undefined {
    return this.owners.get(segment.id);
  }

  /**
   * Gives `worker` a segment to fetch, or undefined when nothing is left that is worth a connection.
   * The returned segment is owned by `worker` until {@link release}.
   */
  claim(worker: number): Segment | undefined {
    let free: Segment | undefined;
    for (const s of this.segments) {
      if (s.pos < s.end && !this.owners.has(s.id) && (!free || s.start < free.start)) free = s;
    }
    if (free) {
      this.owners.set(free.id, worker);
      return free;
    }
    const split = this.splittable();
    if (!split) return undefined;
    const victim = split.segment;
    const mid = victim.end - split.take;
    const part: Segment = { id: this.nextId++, start: mid, end: victim.end, pos: mid };
    victim.end = mid;
    this.onSplit?.(this.owners.get(victim.id)!, mid, part.end);
    this.segments.push(part);
    this.owners.set(part.id, worker);
    return part;
  }

  /** True when {@link claim} would hand out something: a free segment with bytes left, or one worth splitting. */
  get claimable(): boolean {
    for (const s of this.segments) if (s.pos < s.end && !this.owners.has(s.id)) return true;
    return this.splittable() !== undefined;
  }

  /** Gives a segment back: it is finished, or its connection stopped. */
  release(segment: Segment): void {
    this.owners.delete(segment.id);
    this.held.delete(segment.id);
  }

  /**
   * Says that the segment's connection holds `bytes` past `segment.pos`: received and gathered for
   * a write, or being written (0: none). A split never cuts below them, so no byte is fetched twice.
   */
  hold(segment: Segment, bytes: number): void {
    if (bytes > 0) this.held.set(segment.id, bytes);
    else this.held.delete(segment.id);
  }

  /**
   * The split {@link claim} would make: the largest run of at least twice `minSplitSize`, halved;
   * else the end-game split that gains the most time (see the class).
   */
  private splittable(): { segment: Segment; take: number } | undefined {
    let best: Segment | undefined;
    let bestLeft = 0;
    let tail: Segment | undefined;
    let tailTake = 0;
    let tailMs = 0;
    for (const s of this.segments) {
      const owner = this.owners.get(s.id);
      if (owner === undefined || !Number.isFinite(s.end)) continue;
      const left = s.end - s.pos - (this.held.get(s.id) ?? 0);
      if (left >= 2 * this.minSplitSize) {
        if (left > bestLeft) {
          best = s;
          bestLeft = left;
        }
        continue;
      }
      if (best || left < 2 * TAIL_FLOOR || !this.pace) continue;
      const pace = this.pace(owner);
      if (!pace || !(pace.bytesPerSecond > 0)) continue;
      const ms = (left * 1000) / pace.bytesPerSecond;
      // Both finish together when the new request takes (left - speed x firstByte) / 2; that saves
      // (ms - firstByte) / 2 milliseconds.
      if (ms < 2 * pace.firstByteMs || ms - pace.firstByteMs < TAIL_GAIN_MS || ms <= tailMs) continue;
      const take = Math.floor((left - (pace.bytesPerSecond * pace.firstByteMs) / 1000) / 2);
      if (take < TAIL_FLOOR) continue;
      tail = s;
      tailTake = take;
      tailMs = ms;
    }
    if (best) return { segment: best, take: Math.floor(bestLeft / 2) };
    return tail && { segment: tail, take: tailTake };
  }
}

/** Cuts [0, size) into `count` equal segments (the last takes the rest). */
export function equalSegments(size: number, count: number): Segment[] {
  const n = Math.max(1, Math.min(count, size));
  const step = Math.floor(size / n);
  const out: Segment[] = [];
  for (let i = 0; i < n; i++) {
    const start = i * step;
    const end = i === n - 1 ? size : start + step;
    out.push({ id: i, start, end, pos: start });
  }
  return out;
}
