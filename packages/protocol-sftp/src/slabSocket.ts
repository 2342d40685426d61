import { type Socket, connect } from 'node:net';
import { releaseBuffer } from '@multiget/core';

/** Bytes of one slab. */
export const SLAB_SIZE = 1024 * 1024;
/** A slab with less room than this is retired and the next read starts a new one. */
const MIN_ROOM = 64 * 1024;

/** What is known of the SFTP data one slab carried: bytes handed on to readers, and written. */
interface SlabRecord {
  readonly buffer: ArrayBuffer;
  handed: number;
  written: number;
  /** Nothing but the data handed on can refer to the slab any more (see {@link connectSlabSocket}). */
  settled: boolean;
}

/** Every slab still in memory, by its buffer (weakly: a slab nobody holds is the collector's). */
const slabs = new WeakMap<ArrayBufferLike, SlabRecord>();
/** Slabs started and freed here since the process started (for tests and diagnostics). */
const counts = { started: 0, freed: 0 };

/** How many slabs were started, and how many of them freed as soon as their data were written. */
export function slabCounts(): { started: number; freed: number } {
  return { ...counts };
}

/**
 * Notes a view of a slab that is handed on as file data (an SFTP DATA reply's bytes). Views of any
 * other buffer (a packet ssh2 copied because it straddled two reads) are not tracked.
 */
export function slabHandedOn(view: Uint8Array): void {
  const record = slabs.get(view.buffer);
  if (record !== undefined) record.handed += view.byteLength;
}

/**
 * Notes that the engine wrote `chunk` (a view handed on, or part of one) and holds it no more. Once
 * every byte a settled slab handed on was written, the slab is freed now, rather than at the next
 * full garbage collection. A view cut short and never written keeps its slab for the collector.
 */
export function slabWritten(chunk: Uint8Array): void {
  const record = slabs.get(chunk.buffer);
  if (record === undefined) return;
  record.written += chunk.byteLength;
  free(record);
}

/** Frees a settled slab whose data were all written. */
function free(record: SlabRecord): void {
  if (!record.settled || record.handed === 0 || record.written !== record.handed) return;
  slabs.delete(record.buffer);
  if (releaseBuffer(new Uint8Array(record.buffer))) counts.freed++;
}

/**
 * Connects a TCP socket whose reads land back to back in large slabs, and that hands each read on
 * as a `'data'` event carrying a view of its slab, as a plain socket's would.
 *
 * Why: a plain socket allocates a fresh 64 KiB buffer for every read. At SFTP speeds that is
 * thousands of buffers per second whose memory V8 only returns after a full garbage collection, and
 * ssh2 copies every packet that straddles two reads. Here a read takes all the room left in the
 * current slab (up to 1 MiB when the peer is fast), so there are fewer reads, fewer straddled
 * packets and far fewer buffers to collect. ssh2 decrypts in place, so the payload of an SSH packet
 * is a view of the slab; a slab is never written twice: the views handed on stay valid for as long
 * as anyone holds them.
 *
 * A slab is freed as soon as all its file data were written ({@link slabHandedOn},
 * {@link slabWritten}), once it is settled: when a second slab after it begins. ssh2 parses every
 * read as it arrives, and the only view of an earlier read it keeps is the packet whose MAC or tag
 * has not arrived yet (at most 64 bytes later); a slab is retired only after 960 KiB more landed in
 * the next one. Until then, and for a slab whose data were not all written (a range cut short), the
 * garbage collector frees it, as it frees any buffer.
 */
export function connectSlabSocket(host: string, port: number, slabSize = SLAB_SIZE): Socket {
  let slab = startSlab(slabSize);
  /** The slab before the current one: settled when the next one begins. */
  let previous: SlabRecord | undefined;
  let used = 0;
  const socket: Socket = connect({
    host,
    port,
    onread: {
      buffer: () => {
        if (slab.length - used < Math.min(MIN_ROOM, slabSize)) {
          if (previous !== undefined) {
            previous.settled = true;
            free(previous);
          }
          previous = slabs.get(slab.buffer);
          slab = startSlab(slabSize);
          used = 0;
        }
        return slab.subarray(used);
      },
      callback: (bytes: number, buf: Uint8Array) => {
        // `buf` is the view `buffer()` returned for this read.
        const data = Buffer.from(buf.buffer, buf.byteOffset, bytes);
        used += bytes;
        socket.emit('data', data);
        return true;
      },
    },
  });
  return socket;
}

function startSlab(size: number): Buffer {
  const slab = Buffer.allocUnsafeSlow(size);
  counts.started++;
  slabs.set(slab.buffer, { buffer: slab.buffer as ArrayBuffer, handed: 0, written: 0, settled: false });
  return slab;
}
