import { type Socket, type TcpNetConnectOpts, connect } from 'node:net';
import { releaseBuffer } from './releaseBuffer.js';

/** Bytes of one slab, by default. */
export const SLAB_SIZE = 1024 * 1024;
/** A slab with less room than this (or a quarter of it, if less) is retired and the next read starts a new one. */
const MIN_ROOM = 64 * 1024;
/** The smallest slab a growing socket starts with (see `SlabSocketOptions.grow`). */
const FIRST_SLAB = 64 * 1024;
/** `push`: retired slabs of a socket tried again as data are written; older ones go to the collector. */
const MAX_WAITING = 4;

/**
 * How a slab socket's reads reach its user, which decides when a retired slab can no longer be
 * referred to by anything but the file data handed on from it:
 * - `emit`: as `'data'` events, parsed as they arrive (ssh2). The parser may keep a view of an
 *   earlier read only for a packet whose last bytes (a MAC or tag, at most 64 bytes) are still to
 *   come, so a slab settles when a second slab after it begins (960 KiB or more later).
 * - `push`: into the socket's readable buffer, taken with `socket.read()` and parsed at once
 *   (undici, whose parser copies what it keeps and, when paused, puts back into the socket the rest
 *   of what it read). What the socket buffers is then always the last bytes pushed, so a retired
 *   slab settles once the socket's buffer holds none of its bytes.
 */
export type SlabDelivery = 'emit' | 'push';

/** Options of {@link connectSlabSocket}. */
export interface SlabSocketOptions {
  /** Bytes per slab, or the most a growing socket's slab takes (default {@link SLAB_SIZE}). */
  slabSize?: number;
  /**
   * Start with 64 KiB slabs and size each next one by the reads of the last: twice the largest read,
   * up to `slabSize`. A connection that reads a few small responses, or waits idle in a pool, then
   * keeps no large slab. Default false: every slab is `slabSize`.
   */
  grow?: boolean;
  /** How reads reach the socket's user (default `emit`). */
  deliver?: SlabDelivery;
  /** Passed on to `net.connect` (host and port are the arguments'), with the readable buffer's size. */
  connect?: Omit<TcpNetConnectOpts, 'host' | 'port' | 'onread'> & {
    /** Bytes the socket's readable buffer holds before reading stops (`push`). */
    highWaterMark?: number;
  };
}

/** What is known of one slab: bytes handed on as file data, bytes of those written. */
interface SlabRecord {
  readonly buffer: ArrayBuffer;
  /** `push`: the socket's position (bytes pushed so far) just after this slab's last byte. */
  end: number;
  /** `push`: the socket's position of the oldest byte its readable buffer still holds. */
  readonly unread: () => number;
  readonly deliver: SlabDelivery;
  handed: number;
  written: number;
  /** A newer slab took the socket's reads. */
  retired: boolean;
  /** `emit`: a second newer slab began. */
  settled: boolean;
  /** A view of it went where its lifetime is not known (see {@link slabPinned}): never freed here. */
  pinned: boolean;
  /** `push`: the socket's retired slabs not freed yet (shared by its records), tried again as data are written. */
  readonly waiting: Set<SlabRecord>;
}

/** Every slab still in memory, by its buffer (weakly: a slab nobody holds is the collector's). */
const slabs = new WeakMap<ArrayBufferLike, SlabRecord>();
/** Slabs started and freed here since the process started (for tests and diagnostics). */
const counts = { started: 0, freed: 0 };

/** Slabs of the process since it started (see {@link slabCounts}). */
export interface SlabCounts {
  /** Slabs allocated for reads. */
  started: number;
  /** Slabs freed as soon as their data were released (the others go to the garbage collector). */
  freed: number;
}

/** How many slabs were started, and how many of them were freed as soon as their data were released. */
export function slabCounts(): SlabCounts {
  return { ...counts };
}

/** True when `view` is a view of a slab (of a socket from {@link connectSlabSocket}) not yet freed. */
export function isSlabView(view: Uint8Array): boolean {
  return slabs.has(view.buffer);
}

/**
 * Notes a view of a slab handed on as file data (a body chunk, an SFTP DATA reply's bytes). Views of
 * any other buffer are not tracked: false for them, so a caller needs no separate {@link isSlabView}.
 */
export function slabHandedOn(view: Uint8Array): boolean {
  const record = slabs.get(view.buffer);
  if (record === undefined) return false;
  record.handed += view.byteLength;
  return true;
}

/** Notes a view of a slab handed to something that may keep it: its slab is left to the collector. */
export function slabPinned(view: Uint8Array): boolean {
  const record = slabs.get(view.buffer);
  if (record === undefined) return false;
  record.pinned = true;
  return true;
}

/**
 * Notes that the engine holds `chunk` (a view handed on, or part of one) no more: it wrote it, or
 * dropped it (the rest of a range cut short). A settled slab whose handed-on bytes were all released
 * is freed now, rather than at the next full garbage collection. A slab with a byte never released
 * (a response cancelled with data still queued) is left to the collector.
 */
export function slabReleased(chunk: Uint8Array): boolean {
  const record = slabs.get(chunk.buffer);
  if (record === undefined) return false;
  record.written += chunk.byteLength;
  free(record);
  // `push`: a slab whose data were written while the socket still buffered a read may be free now.
  for (const other of record.waiting) if (other !== record) free(other);
  return true;
}

/** Frees a slab once nothing but written data can refer to it. */
function free(record: SlabRecord): void {
  if (record.pinned || record.written !== record.handed) return;
  if (record.deliver === 'emit' ? !record.settled || record.handed === 0 : !record.retired || record.end > record.unread()) return;
  slabs.delete(record.buffer);
  record.waiting.delete(record);
  if (releaseBuffer(new Uint8Array(record.buffer))) counts.freed++;
}

/**
 * Connects a TCP socket whose reads land back to back in large slabs (Node's `onread`), each read
 * handed on as a view of its slab: as a `'data'` event, or into the socket's readable buffer (see
 * {@link SlabDelivery}).
 *
 * Why: a plain socket allocates a fresh 64 KiB buffer for every read. At local speeds that is
 * thousands of reads and buffers per second, each a trip through the stream machinery and a buffer
 * V8 frees only at a full collection. Here a read takes all the room left in the current slab (up to
 * 1 MiB when the peer is fast), so there are far fewer reads and buffers, and parsers that decrypt or
 * parse in place (ssh2, undici) hand on views of the slab. A slab is never written twice: a view
 * stays valid for as long as anyone holds it.
 *
 * A slab is freed as soon as all the file data it carried were written (the plugin calls
 * {@link slabHandedOn} and {@link slabReleased}, the latter from `ByteSource.written`) and it is
 * settled (see {@link SlabDelivery}). The slab the socket reads into next is never freed. Until
 * then, and for a slab whose data were not all written (a range cut short), the garbage collector
 * frees it, as it frees any buffer.
 */
export function connectSlabSocket(host: string, port: number, options: SlabSocketOptions = {}): Socket {
  const slabSize = options.slabSize ?? SLAB_SIZE;
  const grow = options.grow === true;
  /** The size of the next slab, and the largest read into the current one. */
  let nextSize = grow ? Math.min(FIRST_SLAB, slabSize) : slabSize;
  let largest = 0;
  const deliver = options.deliver ?? 'emit';
  let slab: Buffer | undefined;
  let record: SlabRecord | undefined;
  /** `emit`: the slab before the current one, settled when the next one begins. */
  let previous: SlabRecord | undefined;
  let used = 0;
  const waiting = new Set<SlabRecord>();
  // Node asks for the first buffer while constructing the socket: `socket` is assigned after.
  // eslint-disable-next-line prefer-const
  let socket: Socket | undefined;
  /** `push`: bytes pushed into the socket so far. */
  let pushed = 0;
  let closed = false;
  // Once closed, nothing reads what the socket still buffers.
  const unread = (): number => (closed ? pushed : pushed - (socket?.readableLength ?? 0));
  const start = (): void => {
    if (grow && slab !== undefined) nextSize = Math.max(Math.min(FIRST_SLAB, slabSize), Math.min(slabSize, 2 * largest));
    largest = 0;
    const next = Buffer.allocUnsafeSlow(nextSize);
    counts.started++;
    const nextRecord: SlabRecord = { buffer: next.buffer as ArrayBuffer, end: 0, unread, deliver, handed: 0, written: 0, retired: false, settled: false, pinned: false, waiting };
    slabs.set(next.buffer, nextRecord);
    if (record !== undefined) {
      record.retired = true;
      if (deliver === 'emit') {
        if (previous !== undefined) {
          previous.settled = true;
          free(previous);
        }
        previous = record;
      } else {
        waiting.add(record);
        // A slab whose data were cut short is never freed here: the set must not keep it alive.
        if (waiting.size > MAX_WAITING) waiting.delete(waiting.values().next().value!);
        free(record);
      }
    }
    slab = next;
    record = nextRecord;
    used = 0;
  };
  socket = connect({
    ...options.connect,
    host,
    port,
    onread: {
      buffer: () => {
        if (slab === undefined || slab.length - used < Math.min(MIN_ROOM, slab.length / 4)) start();
        return slab!.subarray(used);
      },
      callback: (bytes: number, buf: Uint8Array) => {
        // `buf` is the view `buffer()` returned for this read.
        const data = Buffer.from(buf.buffer, buf.byteOffset, bytes);
        used += bytes;
        if (bytes > largest) largest = bytes;
        if (deliver === 'push') {
          pushed += bytes;
          record!.end = pushed;
          return socket!.push(data);
        }
        socket!.emit('data', data);
        return true;
      },
    },
  });
  socket.once('close', () => {
    // Closed: the slab it read into is no longer the socket's, and its buffer is no one's.
    closed = true;
    if (record === undefined) return;
    record.retired = true;
    if (deliver === 'emit') {
      record.settled = true;
      if (previous !== undefined) previous.settled = true;
      free(record);
      if (previous !== undefined) free(previous);
    } else {
      waiting.add(record);
      for (const r of [...waiting]) free(r);
    }
  });
  return socket;
}
