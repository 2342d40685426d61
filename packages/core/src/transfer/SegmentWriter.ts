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
    /** Free each chunk's memory once written (its source's buffers are fresh, the sink copies). */
    private readonly release = false,
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
    if (this.release) for (const c of chunks) releaseBuffer(c);
  }
}

/**
 * Frees the memory of a chunk nothing needs any more, now rather than at the garbage collector's
 * next pass: detaching its ArrayBuffer drops the backing store. Only a chunk that spans its whole
 * ArrayBuffer: a view of part of one (a chunk cut at a segment's end, a body that began after the
 * headers of the same read) may share it with bytes still in use.
 */
export function releaseBuffer(chunk: Uint8Array): void {
  const buffer = chunk.buffer;
  if (chunk.byteOffset !== 0 || chunk.byteLength !== buffer.byteLength || !(buffer instanceof ArrayBuffer)) return;
  (buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer }).transfer?.(0);
}
