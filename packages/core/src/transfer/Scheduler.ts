import type { Segment } from '../types.js';

/**
 * Hands segments to connections. A connection takes an unowned segment with bytes left; when there
 * is none, it takes the upper half of the largest remaining run of another connection's segment
 * (never leaving either part below `minSplitSize`), so a slow connection never holds the tail.
 */
export class Scheduler {
  private readonly owners = new Map<number, number>();
  private nextId: number;
  /** Bytes each segment's connection holds past its `pos`: gathered for a write or being written. */
  private readonly held = new Map<number, number>();
  /** Told when a connection's segment is cut: the connection, the cut and the old end (the new free range). */
  onSplit: ((owner: number, at: number, end: number) => void) | undefined;

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
    const victim = this.largestSplittable();
    if (!victim) return undefined;
    const from = victim.pos + (this.held.get(victim.id) ?? 0);
    const left = victim.end - from;
    const mid = from + Math.ceil(left / 2);
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
    return this.largestSplittable() !== undefined;
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

  private largestSplittable(): Segment | undefined {
    let best: Segment | undefined;
    let bestLeft = 0;
    for (const s of this.segments) {
      if (!this.owners.has(s.id) || !Number.isFinite(s.end)) continue;
      const left = s.end - s.pos - (this.held.get(s.id) ?? 0);
      if (left >= 2 * this.minSplitSize && left > bestLeft) {
        best = s;
        bestLeft = left;
      }
    }
    return best;
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
