import { createHash } from 'node:crypto';
import { DownloadError, ErrorCodes } from '../errors.js';
import type { PieceHashes } from './metalink.js';

/** Pieces longer than this are not checked in the stream (the final digest still is). */
export const MAX_HELD_PIECE = 8 * 1024 * 1024;

/** The piece-aligned span [start, end] (inclusive) that covers the bytes [first, last]. */
export function alignToPieces(first: number, last: number, size: number, length: number): { start: number; end: number } {
  return { start: Math.floor(first / length) * length, end: Math.min(size, (Math.floor(last / length) + 1) * length) - 1 };
}

/**
 * Checks every piece before any of its bytes go on. `body` yields the piece-aligned span that covers
 * [first, last] (see {@link alignToPieces}); each piece is held until its hash is checked, and only
 * its bytes inside [first, last] are yielded. A piece that does not match fails the stream with
 * MG_ERR_MIRROR_FAILED before a byte of it is yielded, so its range goes to another source and no
 * unchecked byte ever reaches the file.
 *
 * @param body - The source's bytes from the aligned start.
 * @param alignedStart - Offset of `body`'s first byte (a multiple of the piece length).
 * @param first - First byte the caller wants.
 * @param last - Last byte the caller wants (inclusive).
 * @param size - Size of the whole file.
 * @param pieces - The expected piece hashes.
 * @param label - The source, for the error message (no secrets).
 */
export async function* checkPieces(
  body: AsyncIterable<Uint8Array>,
  alignedStart: number,
  first: number,
  last: number,
  size: number,
  pieces: PieceHashes,
  label: string,
): AsyncGenerator<Uint8Array> {
  const { length } = pieces;
  let index = alignedStart / length;
  let pieceStart = alignedStart;
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  let hash = createHash(pieces.algorithm);
  const pieceLength = (): number => Math.min(size, pieceStart + length) - pieceStart;
  for await (const chunk of body) {
    let c = chunk;
    while (c.byteLength > 0) {
      const n = Math.min(pieceLength() - heldBytes, c.byteLength);
      const part = c.subarray(0, n);
      hash.update(part);
      held.push(part);
      heldBytes += n;
      c = c.subarray(n);
      if (heldBytes < pieceLength()) continue;
      const hex = hash.digest('hex');
      if (hex !== pieces.hashes[index]) {
        throw new DownloadError(
          ErrorCodes.MIRROR_FAILED,
          `${label} served piece ${index} (bytes ${pieceStart}-${pieceStart + pieceLength() - 1}) with another ${pieces.algorithm} than the Metalink's`,
        );
      }
      // Yield the part of the piece the caller asked for.
      let at = pieceStart;
      for (const h of held) {
        const from = Math.max(first, at);
        const to = Math.min(last + 1, at + h.byteLength);
        if (to > from) yield h.subarray(from - at, to - at);
        at += h.byteLength;
      }
      pieceStart += pieceLength();
      index++;
      held = [];
      heldBytes = 0;
      hash = createHash(pieces.algorithm);
      if (pieceStart > last) return;
    }
  }
  // The source ended inside a piece: nothing unchecked goes on; the engine sees a short body.
}
