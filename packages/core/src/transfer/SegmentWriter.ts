import type { ByteSink } from '../storage/sink.js';
import type { BlockDigests } from '../storage/blockDigests.js';
import type { Segment } from '../types.js';
import type { Scheduler } from './Scheduler.js';

/** Bytes gathered from a connection before one positioned write. */
export const FLUSH_BYTES = 256 * 1024;

/**
 * One connection's writer: gathers the chunks it receives and writes them at the segment's
 * position in one positioned write per {@link FLUSH_BYTES}, then moves the segment's `pos`. A
 * segment may be split (its `end` moved down) while bytes are buffered: only what is still the
 * segment's is written.
 */
export class SegmentWriter {
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;

  constructor(
    private readonly sink: ByteSink,
    private readonly blocks: BlockDigests | undefined,
    private readonly seg: Segment,
    /** Told of each write in flight, so that a split never cuts below it. */
    private readonly scheduler?: Pick<Scheduler, 'inFlight'>,
    /** Told of the chunks of each write once it resolved and the digests took them (see `ByteSource.written`). */
    private readonly written?: (chunks: readonly Uint8Array[]) => void,
  ) {}

  /** Bytes the segment can still take, buffered bytes counted. */
  get room(): number {
    return this.seg.end - this.seg.pos - this.#pendingBytes;
  }

  /** True when enough is buffered for one write. */
  get full(): boolean {
    return this.#pendingBytes >= FLUSH_BYTES;
  }

  /** Buffers a chunk (the caller cut it to {@link room}). */
  push(piece: Uint8Array): void {
    this.#pending.push(piece);
    this.#pendingBytes += piece.byteLength;
  }

  /** Writes what is buffered and still the segment's. */
  async flush(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const seg = this.seg;
    let room = seg.end - seg.pos;
    let chunks = this.#pending;
    if (this.#pendingBytes > room) {
      // The segment was split while these bytes were buffered: keep only what is still ours.
      chunks = [];
      for (const c of this.#pending) {
        if (room <= 0) break;
        const piece = c.byteLength > room ? c.subarray(0, room) : c;
        chunks.push(piece);
        room -= piece.byteLength;
      }
    }
    let n = 0;
    for (const c of chunks) n += c.byteLength;
    this.#pending = [];
    this.#pendingBytes = 0;
    if (n === 0) return;
    this.scheduler?.inFlight(seg, n);
    try {
      await this.sink.write(chunks, seg.pos);
    } finally {
      this.scheduler?.inFlight(seg, 0);
    }
    // Hashed from the buffers in hand, before pos moves: a checkpoint never sees one without the other.
    this.blocks?.update(chunks, seg.pos);
    seg.pos += n;
    this.written?.(chunks);
  }
}
