import { crc32 } from 'node:zlib';
import type { ByteReader } from './Storage.js';
import type { SavedBlocks } from './validateState.js';

// CRC-32 (zlib's, hardware-assisted): about 0.18 s of CPU per GiB, against 0.54 s for SHA-256, the
// cheapest native digest. The digests guard against lost or corrupted bytes (a hole, a torn write,
// a flipped bit), not against someone who can write the state file too: that one could as well
// write the target. CRC-32 catches every burst up to 32 bits and misses a random change with a
// probability of 2^-32 per block.
const MIN_BLOCK = 1024 * 1024;
/** At most about this many blocks per file, so the state file stays small (≤ ~80 KiB of digests). */
const MAX_BLOCKS = 2048;

/** The block size for a file of `size` bytes: 1 MiB, or the power of two that keeps ≤ 2048 blocks. */
export function chooseBlockSize(size: number): number {
  let bs = MIN_BLOCK;
  while (Math.ceil(size / bs) > MAX_BLOCKS) bs *= 2;
  return bs;
}

/** The saved digest of a block's bytes. */
export function blockDigest(data: Uint8Array | readonly Uint8Array[]): string {
  let c = 0;
  for (const chunk of Array.isArray(data) ? (data as readonly Uint8Array[]) : [data as Uint8Array]) c = crc32(chunk, c);
  return finish(c);
}

function finish(c: number): string {
  return c.toString(16).padStart(8, '0');
}

/** A byte range [start, end). */
export type ByteRange = [number, number];

/** A run of bytes of one block that arrived in order, hashed as it grew. */
interface Run {
  block: number;
  start: number;
  next: number;
  /** CRC-32 of [start, next). */
  crc: number;
}

/** A run verified on resume, handed to the next run's {@link BlockDigests} to continue. */
export interface RunSeed {
  start: number;
  next: number;
  crc: number;
}

/**
 * A digest per block of a download's temporary file, recorded as blocks complete, so that a resumed
 * run can check, block by block, that the bytes a state claims are the bytes that were received.
 *
 * The digests come from the buffers already in memory: bytes that arrive in order form a run, hashed
 * as it grows. A block that one run covers from its first to its last byte (the usual case: one
 * connection streams through it) gets its digest at once. A block written by several runs (a segment
 * boundary or a split falls inside it) is read back once from the file when it is complete: at most
 * a block or two per segment, off the per-chunk path. Until a block is complete, the digests of its
 * runs so far are saved (`runs`), so that a resumed run can check, and keep, a half-done block too.
 */
export class BlockDigests {
  readonly #digests: Array<string | null>;
  /** Bytes of each block on disk (trusted from the state, then written). */
  readonly #covered: number[];
  /** Runs still growing, by the offset of the next byte they expect. */
  readonly #byNext = new Map<number, Run>();
  /** The runs of each incomplete block. */
  readonly #runs = new Map<number, Run[]>();
  readonly #rereads = new Set<Promise<void>>();

  constructor(
    /** The file size, or Infinity while it is unknown (a stream of unknown length). */
    readonly size: number,
    readonly blockSize: number,
    /** Opens a reader of the data the bytes are written to, for blocks read back; undefined when it cannot be read. */
    private readonly openReader: (() => Promise<ByteReader>) | undefined,
    resumed?: { digests: ReadonlyArray<string | null>; seeds: readonly RunSeed[] },
  ) {
    const n = Number.isFinite(size) ? Math.ceil(size / blockSize) : 0;
    this.#digests = new Array<string | null>(n).fill(null);
    this.#covered = new Array<number>(n).fill(0);
    if (!resumed) return;
    for (const [i, d] of resumed.digests.entries()) {
      if (Number.isFinite(size) && i >= n) break;
      if (this.#digests.length <= i) {
        this.#digests.push(null);
        this.#covered.push(0);
      }
      if (d === null) continue;
      this.#digests[i] = d;
      this.#covered[i] = this.#end(i) - i * blockSize;
    }
    for (const seed of resumed.seeds) {
      const block = Math.floor(seed.start / blockSize);
      const run: Run = { block, start: seed.start, next: seed.next, crc: seed.crc };
      while (this.#digests.length <= block) {
        this.#digests.push(null);
        this.#covered.push(0);
      }
      this.#covered[block]! += seed.next - seed.start;
      this.#track(run);
    }
  }

  /** Number of blocks (so far, while the size is unknown). */
  get count(): number {
    return this.#digests.length;
  }

  #end(i: number): number {
    return Math.min(this.size, (i + 1) * this.blockSize);
  }

  #track(run: Run): void {
    let list = this.#runs.get(run.block);
    if (!list) this.#runs.set(run.block, (list = []));
    list.push(run);
    if (run.next < this.#end(run.block)) this.#byNext.set(run.next, run);
  }

  /** Records bytes just written at `position` (after the write resolved). */
  update(chunks: readonly Uint8Array[], position: number): void {
    let pos = position;
    for (const chunk of chunks) {
      let off = 0;
      while (off < chunk.byteLength) {
        const i = Math.floor(pos / this.blockSize);
        if (Number.isFinite(this.size) && i >= this.count) return;
        const end = this.#end(i);
        const n = Math.min(chunk.byteLength - off, end - pos);
        this.#add(i, off === 0 && n === chunk.byteLength ? chunk : chunk.subarray(off, off + n), pos, end);
        off += n;
        pos += n;
      }
    }
  }

  #add(i: number, piece: Uint8Array, pos: number, end: number): void {
    let run = this.#byNext.get(pos);
    if (run && run.block === i) {
      this.#byNext.delete(pos);
    } else {
      run = { block: i, start: pos, next: pos, crc: 0 };
      let list = this.#runs.get(i);
      if (!list) this.#runs.set(i, (list = []));
      list.push(run);
    }
    run.crc = crc32(piece, run.crc);
    run.next += piece.byteLength;
    if (run.next < end) this.#byNext.set(run.next, run);
    // Unknown size: the arrays grow with the stream (pre-sized otherwise), without holes.
    while (this.#digests.length <= i) {
      this.#digests.push(null);
      this.#covered.push(0);
    }
    const covered = this.#covered[i]! + piece.byteLength;
    this.#covered[i] = covered;
    if (covered < end - i * this.blockSize) return;
    // Complete. One run from the first byte to the last: its hash is the block's.
    const list = this.#runs.get(i) ?? [];
    this.#runs.delete(i);
    for (const r of list) if (this.#byNext.get(r.next) === r) this.#byNext.delete(r.next);
    if (list.length === 1 && run.start === i * this.blockSize && run.next === end) {
      this.#digests[i] = finish(run.crc);
    } else {
      this.#reread(i);
    }
  }

  #reread(i: number): void {
    if (this.openReader === undefined) return;
    const from = i * this.blockSize;
    const len = this.#end(i) - from;
    const p = readRange(this.openReader, from, len)
      .then((buf) => {
        if (buf) this.#digests[i] = blockDigest(buf);
      })
      // A block that cannot be read back simply has no digest: a later run fetches it again.
      .catch(() => undefined)
      .finally(() => this.#rereads.delete(p));
    this.#rereads.add(p);
  }

  /** Waits for blocks being read back (before the last checkpoint, so it records them). */
  async settle(): Promise<void> {
    while (this.#rereads.size > 0) await Promise.all([...this.#rereads]);
  }

  /** Forgets every byte (a single stream starting over from byte 0). */
  reset(): void {
    this.#digests.fill(null);
    this.#covered.fill(0);
    if (!Number.isFinite(this.size)) {
      this.#digests.length = 0;
      this.#covered.length = 0;
    }
    this.#byNext.clear();
    this.#runs.clear();
  }

  /**
   * The digests for the state file: complete blocks, and the runs of incomplete ones so far. Only
   * bytes whose writes resolved are in it; the caller syncs the data before it saves the state.
   */
  toSaved(): SavedBlocks {
    const runs: Array<[number, number, string]> = [];
    for (const list of this.#runs.values()) {
      for (const r of list) if (r.next > r.start) runs.push([r.start, r.next - r.start, finish(r.crc)]);
    }
    runs.sort((a, b) => a[0] - b[0]);
    return { algorithm: 'crc32', size: this.blockSize, digests: [...this.#digests], ...(runs.length > 0 ? { runs } : {}) };
  }

  /** The digest recorded for block `i`, if it completed. */
  digest(i: number): string | null {
    return this.#digests[i] ?? null;
  }
}

/** Reads [from, from + len) of the data; undefined when it is shorter. */
async function readRange(openReader: () => Promise<ByteReader>, from: number, len: number): Promise<Buffer | undefined> {
  const fh = await openReader();
  try {
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const { bytesRead } = await fh.read(buf, got, len - got, from + got);
      if (bytesRead === 0) return undefined;
      got += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

/** What checking a resumed file's blocks found. */
export interface BlockCheck {
  /** Byte ranges [start, end) that are on disk and match their digest: the only bytes adopted. */
  trusted: ByteRange[];
  /** Ranges that had a digest and failed it (corrupted or replaced on disk). */
  failed: ByteRange[];
  /** Bytes the state claimed that are dropped (failed, or claimed without any digest). */
  droppedBytes: number;
  /** The block digests that hold, and the runs that hold, to continue with. */
  digests: Array<string | null>;
  seeds: RunSeed[];
}

/**
 * Reads and hashes every block and run the saved state has a digest for. Only bytes inside blocks
 * and runs that match are trusted; bytes the state claims without a digest (a state without
 * digests, or bytes whose digest was not yet saved) cannot be checked and are fetched again.
 */
export async function checkBlocks(
  openReader: () => Promise<ByteReader>,
  size: number,
  saved: SavedBlocks | undefined,
  claimedBytes: number,
  signal?: AbortSignal,
): Promise<BlockCheck> {
  if (!saved) return { trusted: [], failed: [], droppedBytes: claimedBytes, digests: [], seeds: [] };
  const digests: Array<string | null> = new Array<string | null>(saved.digests.length).fill(null);
  const ranges: ByteRange[] = [];
  const failed: ByteRange[] = [];
  const seeds: RunSeed[] = [];
  const fh = await openReader();
  try {
    const buf = Buffer.allocUnsafe(Math.min(saved.size, 4 * 1024 * 1024));
    const hashRange = async (from: number, to: number): Promise<number | undefined> => {
      signal?.throwIfAborted();
      let c = 0;
      let pos = from;
      while (pos < to) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - pos), pos);
        if (bytesRead === 0) return undefined;
        c = crc32(buf.subarray(0, bytesRead), c);
        pos += bytesRead;
      }
      return c;
    };
    for (const [i, want] of saved.digests.entries()) {
      if (want === null) continue;
      const from = i * saved.size;
      const to = Math.min(size, from + saved.size);
      const c = await hashRange(from, to);
      if (c !== undefined && finish(c) === want) {
        digests[i] = want;
        ranges.push([from, to]);
      } else {
        failed.push([from, to]);
      }
    }
    for (const [start, length, want] of saved.runs ?? []) {
      const c = await hashRange(start, start + length);
      if (c !== undefined && finish(c) === want) {
        seeds.push({ start, next: start + length, crc: c });
        ranges.push([start, start + length]);
      } else {
        failed.push([start, start + length]);
      }
    }
  } finally {
    await fh.close();
  }
  const trusted = mergeRanges(ranges);
  const trustedBytes = trusted.reduce((n, [a, b]) => n + (b - a), 0);
  return { trusted, failed: mergeRanges(failed), droppedBytes: Math.max(0, claimedBytes - trustedBytes), digests, seeds };
}

/** Sorts and joins touching or overlapping ranges. */
export function mergeRanges(ranges: ReadonlyArray<ByteRange>): ByteRange[] {
  const out: ByteRange[] = [];
  for (const [a, b] of [...ranges].sort((x, y) => x[0] - y[0])) {
    const last = out.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/**
 * Segments for a resumed run: the trusted ranges as done segments, the gaps between them as
 * segments still to fetch, tiling [0, size).
 */
export function segmentsFromTrusted(size: number, trusted: ReadonlyArray<ByteRange>): Array<{ id: number; start: number; end: number; pos: number }> {
  const out: Array<{ id: number; start: number; end: number; pos: number }> = [];
  let next = 0;
  for (const [a, b] of trusted) {
    if (a > next) out.push({ id: out.length, start: next, end: a, pos: next });
    out.push({ id: out.length, start: a, end: b, pos: b });
    next = b;
  }
  if (next < size || size === 0) out.push({ id: out.length, start: next, end: size, pos: next });
  return out;
}

/**
 * Re-reads a finished file and returns the blocks whose bytes differ from the digest recorded when
 * they were received (blocks without a digest are not judged). Used to explain a checksum mismatch.
 */
export async function changedBlocks(openReader: () => Promise<ByteReader>, blocks: BlockDigests, signal?: AbortSignal): Promise<ByteRange[]> {
  const bad: ByteRange[] = [];
  const fh = await openReader();
  try {
    const buf = Buffer.allocUnsafe(blocks.blockSize);
    for (let i = 0; i < blocks.count; i++) {
      const want = blocks.digest(i);
      if (want === null) continue;
      signal?.throwIfAborted();
      const from = i * blocks.blockSize;
      const len = Math.min(blocks.size, from + blocks.blockSize) - from;
      let got = 0;
      while (got < len) {
        const { bytesRead } = await fh.read(buf, got, len - got, from + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got < len || blockDigest(buf.subarray(0, len)) !== want) bad.push([from, from + len]);
    }
  } finally {
    await fh.close();
  }
  return mergeRanges(bad);
}

/** Formats byte ranges for a message: `[0, 1048576), [4194304, 5242880)`, at most `max` of them. */
export function formatRanges(ranges: ReadonlyArray<ByteRange>, max = 8): string {
  const shown = ranges.slice(0, max).map(([a, b]) => `[${a}, ${b})`);
  return ranges.length > max ? `${shown.join(', ')} and ${ranges.length - max} more` : shown.join(', ');
}
