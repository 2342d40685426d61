import { DownloadError, ErrorCodes } from '../errors.js';
import type { ByteSink } from '../storage/sink.js';
import type { BlockDigests } from '../storage/blockDigests.js';
import type { Segment } from '../types.js';
import type { Scheduler } from './Scheduler.js';

/** Bytes a connection gathers before one positioned write, while few connections are gathering. */
export const FLUSH_BYTES = 1024 * 1024;
/** The least a connection gathers before a write, however many connections are gathering. */
export const MIN_FLUSH_BYTES = 256 * 1024;
/** Bytes that all the connections of the process gather at most, together, before their writes. */
export const GATHER_BUDGET = 16 * 1024 * 1024;
/**
 * Milliseconds a connection keeps received bytes at most (checked as bytes arrive) before it writes
 * them, however few: a slow link's bytes reach the disk, the progress and the state file in steps
 * this short, and little is left to write when the last byte arrives. At 8 MB/s per connection, 16
 * connections (`throttled` in the bench): 100 ms held 87 MiB at the peak, 20 ms 78 MiB, same time.
 */
export const GATHER_MS = 20;

/**
 * One connection's writer: gathers the chunks it receives and writes them at the segment's
 * position in one positioned write, then moves the segment's `pos`. A segment may be split (its
 * `end` moved down) while bytes are buffered: only what is still the segment's is written.
 *
 * A write costs a round trip through libuv's thread pool (a worker woken, its result posted back)
 * whatever its size, so a connection gathers {@link FLUSH_BYTES} while at most 16 writers of the
 * process are open, and less as more are, down to {@link MIN_FLUSH_BYTES}, so that all of them
 * together hold about {@link GATHER_BUDGET}; and it writes what it has once the first of it waited
 * {@link GATHER_MS}. One stream of 256 MiB: 1,024 writes of 256 KiB took 0.54 CPU s, 256 writes of
 * 1 MiB 0.46.
 */
export class SegmentWriter {
  /** Writers open in this process (constructed and not yet closed). */
  static #open = 0;
  /** What a writer gathers before a write, for the number open. */
  static #flushAt = FLUSH_BYTES;

  static #count(delta: number): void {
    SegmentWriter.#open += delta;
    SegmentWriter.#flushAt = Math.max(MIN_FLUSH_BYTES, Math.min(FLUSH_BYTES, Math.floor(GATHER_BUDGET / Math.max(1, SegmentWriter.#open))));
  }

  /** What each writer gathers before a write now. */
  static get flushBytes(): number {
    return SegmentWriter.#flushAt;
  }

  /** Writers open in this process. */
  static get openWriters(): number {
    return SegmentWriter.#open;
  }

  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** The most this writer gathers, whatever the number of writers open (the source's `gatherBytes`). */
  readonly #limit: number;
  /** When the first of the pending bytes arrived (`performance.now()`). */
  #since = 0;
  #closed = false;

  constructor(
    private readonly sink: ByteSink,
    private readonly blocks: BlockDigests | undefined,
    private readonly seg: Segment,
    /** Told of the bytes gathered or being written, so that a split never cuts below them. */
    private readonly scheduler?: Pick<Scheduler, 'hold'>,
    /** Told of the chunks of each write once it resolved and the digests took them, and of bytes dropped (see `ByteSource.written`). */
    private readonly written?: (chunks: readonly Uint8Array[]) => void,
    /** The most to gather before a write (`ByteSource.gatherBytes`); by default what the open writers allow. */
    gatherBytes?: number,
  ) {
    this.#limit = gatherBytes !== undefined && gatherBytes >= 1 ? gatherBytes : Infinity;
    SegmentWriter.#count(1);
  }

  /** Says the writer is done (after its last flush): the others may gather more. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    SegmentWriter.#count(-1);
  }

  /** Bytes the segment can still take, buffered bytes counted. */
  get room(): number {
    return this.seg.end - this.seg.pos - this.#pendingBytes;
  }

  /** True when a write is due at `now`: enough is buffered, or the first of it waited {@link GATHER_MS}. */
  due(now: number): boolean {
    return this.#pendingBytes >= Math.min(SegmentWriter.#flushAt, this.#limit) || (this.#pendingBytes > 0 && now - this.#since >= GATHER_MS);
  }

  /** Buffers a chunk (the caller cut it to {@link room}) that arrived at `now` (`performance.now()`). */
  push(piece: Uint8Array, now: number): void {
    if (this.#pendingBytes === 0) this.#since = now;
    this.#pending.push(piece);
    this.#pendingBytes += piece.byteLength;
    this.scheduler?.hold(this.seg, this.#pendingBytes);
  }

  /** Writes what is buffered and still the segment's. */
  async flush(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const seg = this.seg;
    // A chunk whose memory was freed while it waited (a source that released it too early) reads
    // as empty: writing the others would put their bytes at the wrong offsets. Stop instead.
    let held = 0;
    for (const c of this.#pending) held += c.byteLength;
    if (held !== this.#pendingBytes) {
      this.#pending = [];
      this.#pendingBytes = 0;
      this.scheduler?.hold(seg, 0);
      throw new DownloadError(ErrorCodes.INTERNAL, 'A received chunk was freed before it was written; nothing of this batch was written');
    }
    let room = seg.end - seg.pos;
    let chunks = this.#pending;
    if (this.#pendingBytes > room) {
      // The segment was split while these bytes were buffered: keep only what is still ours, and
      // tell the source the rest is dropped.
      chunks = [];
      const dropped: Uint8Array[] = [];
      for (const c of this.#pending) {
        if (room <= 0) {
          dropped.push(c);
          continue;
        }
        const piece = c.byteLength > room ? c.subarray(0, room) : c;
        chunks.push(piece);
        if (piece !== c) dropped.push(c.subarray(room));
        room -= piece.byteLength;
      }
      this.written?.(dropped);
    }
    let n = 0;
    for (const c of chunks) n += c.byteLength;
    this.#pending = [];
    this.#pendingBytes = 0;
    if (n === 0) {
      this.scheduler?.hold(seg, 0);
      return;
    }
    this.scheduler?.hold(seg, n);
    const joined = joinAdjacent(chunks);
    try {
      await this.sink.write(joined, seg.pos);
    } finally {
      this.scheduler?.hold(seg, 0);
    }
    // Hashed from the buffers in hand, before pos moves: a checkpoint never sees one without the other.
    this.blocks?.update(joined, seg.pos);
    seg.pos += n;
    this.written?.(chunks);
  }
}

/**
 * The chunks with every run of neighbours in memory (the same buffer, each starting where the one
 * before ends) made one view. Reads into a slab arrive as views back to back in it, so the reads a
 * write gathered from one slab become one entry of the write's vector and one call of the block
 * digest's CRC. The bytes are the same bytes in the same order: only neighbours in memory are
 * joined.
 */
export function joinAdjacent(chunks: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < chunks.length) {
    const first = chunks[i]!;
    let end = first.byteOffset + first.byteLength;
    let j = i + 1;
    while (j < chunks.length && chunks[j]!.buffer === first.buffer && chunks[j]!.byteOffset === end) {
      end += chunks[j]!.byteLength;
      j++;
    }
    out.push(j === i + 1 ? first : new Uint8Array(first.buffer, first.byteOffset, end - first.byteOffset));
    i = j;
  }
  return out;
}
