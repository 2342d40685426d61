/**
 * Frees the memory of a chunk nothing needs any more, now rather than at the garbage collector's
 * next pass: detaching its ArrayBuffer drops the backing store, and every view of that buffer
 * reads as empty from then on. Only a chunk that spans its whole ArrayBuffer is freed: a view of
 * part of one (a chunk cut at a segment's end, a body that began after the headers of the same
 * read) may share it with bytes still in use. Never an empty chunk: an empty buffer holds no memory
 * worth freeing and is often a constant shared by a library (undici parses one it keeps for every
 * connection, and hands out empty views of it). For a protocol plugin's `ByteSource.written`, on
 * chunks it knows nothing else refers to.
 *
 * @param options - `unusedBefore`: see {@link ReleaseBufferOptions}.
 * @returns true when the buffer was freed
 */
export function releaseBuffer(chunk: Uint8Array, options?: ReleaseBufferOptions): boolean {
  const buffer = chunk.buffer;
  const start = options?.unusedBefore === true ? chunk.byteOffset : 0;
  if (chunk.byteOffset !== start || chunk.byteLength === 0 || start + chunk.byteLength !== buffer.byteLength || !(buffer instanceof ArrayBuffer)) return false;
  const transfer = (buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer }).transfer;
  if (transfer === undefined) return false;
  transfer.call(buffer, 0);
  return true;
}

/** How {@link releaseBuffer} may free a chunk that is a view of part of its buffer. */
export interface ReleaseBufferOptions {
  /**
   * The bytes of the chunk's buffer before the chunk are known to be unused: the chunk is the rest of
   * a socket read whose head the plugin has parsed and holds no view of (the status line and headers
   * of an HTTP response, before its first body bytes). A chunk that runs to the end of its buffer is
   * then freed too.
   */
  unusedBefore?: boolean;
}
