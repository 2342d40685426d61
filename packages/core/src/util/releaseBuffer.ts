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
 * @returns true when the buffer was freed
 */
export function releaseBuffer(chunk: Uint8Array): boolean {
  const buffer = chunk.buffer;
  if (chunk.byteOffset !== 0 || chunk.byteLength === 0 || chunk.byteLength !== buffer.byteLength || !(buffer instanceof ArrayBuffer)) return false;
  const transfer = (buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer }).transfer;
  if (transfer === undefined) return false;
  transfer.call(buffer, 0);
  return true;
}
