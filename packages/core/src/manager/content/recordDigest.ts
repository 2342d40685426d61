import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import type { BlockDigests } from '../../storage/blockDigests.js';
import { normalizeAlgorithm } from '../../util/checksum.js';
import type { Digest, DigestAlgorithm } from '../../types.js';
import type { ContentRecord } from '../store/ManagerStore.js';

/**
 * The digest kind of a record built from the CRC-32s the engine keeps per block while a file
 * downloads: recording it costs no read of the file. Its `hex` is the SHA-256 of the blocks'
 * CRC-32s in order (eight lower-case hex digits each, concatenated), so a record stays one short
 * line whatever the number of blocks; `blockSize` says where the blocks start.
 */
export const BLOCK_CRCS = 'crc32-blocks';

/** A content record's digest. */
export type RecordDigest = ContentRecord['digest'];

/** The `hex` of a {@link BLOCK_CRCS} digest: SHA-256 over the blocks' CRC-32s in order. */
function combine(crcs: readonly string[]): string {
  return createHash('sha256').update(crcs.join('')).digest('hex');
}

/**
 * The {@link BLOCK_CRCS} digest of a finished download of `size` bytes from the digests its
 * blocks got while it ran (call after `blocks.settle()`), or undefined when they do not cover the
 * file: a stream of unknown length, a block that could not be read back.
 */
export function digestOfBlocks(blocks: BlockDigests, size: number): RecordDigest | undefined {
  if (blocks.size !== size || !Number.isSafeInteger(size) || blocks.count !== Math.ceil(size / blocks.blockSize)) return undefined;
  const crcs: string[] = [];
  for (let i = 0; i < blocks.count; i++) {
    const d = blocks.digest(i);
    if (d === null) return undefined;
    crcs.push(d);
  }
  return { algorithm: BLOCK_CRCS, hex: combine(crcs), blockSize: blocks.blockSize };
}

/** True when a copy can be proven against `digest`: a hash this build knows, or block CRCs with a block size. */
export function provable(digest: RecordDigest): boolean {
  if (digest.algorithm === BLOCK_CRCS) return digest.blockSize !== undefined && Number.isSafeInteger(digest.blockSize) && digest.blockSize > 0;
  return normalizeAlgorithm(digest.algorithm) !== undefined;
}

/** What reading a file once told of it. */
export interface FileProof {
  /** It has the record's digest. */
  record: boolean;
  /** It has the caller's checksum (true when none was given). */
  checksum: boolean;
}

/**
 * Reads `path` once (never through a symlink) and checks it against a record's digest (see
 * {@link provable}) and, when given, a caller's checksum: one pass feeds the block CRCs and every
 * hash needed.
 */
export async function proveFile(path: string, digest: RecordDigest, checksum: Digest | undefined): Promise<FileProof> {
  const hashes = new Map<DigestAlgorithm, Hash>();
  const recordAlgorithm = digest.algorithm === BLOCK_CRCS ? undefined : normalizeAlgorithm(digest.algorithm);
  if (recordAlgorithm) hashes.set(recordAlgorithm, createHash(recordAlgorithm));
  if (checksum && !hashes.has(checksum.algorithm)) hashes.set(checksum.algorithm, createHash(checksum.algorithm));
  const blockSize = digest.algorithm === BLOCK_CRCS ? digest.blockSize : undefined;
  const crcs: string[] = [];
  let crc = 0;
  let inBlock = 0;
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = 0;
    for (;;) {
      // A read never crosses a block's end, so each block's CRC is its own.
      const want = blockSize !== undefined ? Math.min(buf.length, blockSize - inBlock) : buf.length;
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      for (const h of hashes.values()) h.update(chunk);
      if (blockSize !== undefined) {
        crc = crc32(chunk, crc);
        inBlock += bytesRead;
        if (inBlock === blockSize) {
          crcs.push(hex8(crc));
          crc = 0;
          inBlock = 0;
        }
      }
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  if (inBlock > 0) crcs.push(hex8(crc));
  const got = new Map([...hashes].map(([algorithm, h]) => [algorithm, h.digest('hex')]));
  const record = blockSize !== undefined ? combine(crcs) === digest.hex : recordAlgorithm !== undefined && got.get(recordAlgorithm) === digest.hex;
  const matches = checksum === undefined || got.get(checksum.algorithm) === checksum.hex;
  return { record, checksum: matches };
}

function hex8(c: number): string {
  return c.toString(16).padStart(8, '0');
}
