import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { ErrorCodes, UsageError } from '../errors.js';
import type { ChecksumOrigin, Digest, DigestAlgorithm } from '../types.js';
import type { ByteReader } from '../storage/Storage.js';

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha512: 128, sha256: 64, sha1: 40, md5: 32 };
/** Strongest first: when several digests are known, the strongest is checked. */
export const DIGEST_STRENGTH: readonly DigestAlgorithm[] = ['sha512', 'sha256', 'sha1', 'md5'];

/** Normalises `SHA-256`, `sha256`, `sha_256` to an algorithm name, or undefined if not supported. */
export function normalizeAlgorithm(name: string): DigestAlgorithm | undefined {
  const n = name.toLowerCase().replace(/[-_]/g, '');
  return n === 'sha512' || n === 'sha256' || n === 'sha1' || n === 'md5' ? n : undefined;
}

/**
 * Parses a user checksum `algo=value` (`sha256=9f86...`). The value is hex, or base64 when it is not
 * valid hex of the right length. Throws MG_ERR_INVALID_CHECKSUM on anything else.
 */
export function parseChecksum(spec: string): Digest {
  const eq = spec.indexOf('=');
  const algorithm = eq > 0 ? normalizeAlgorithm(spec.slice(0, eq).trim()) : undefined;
  if (!algorithm) {
    throw new UsageError(
      ErrorCodes.INVALID_CHECKSUM,
      `Invalid checksum "${spec}": expected ALGO=HEX with ALGO one of sha256, sha512, sha1, md5`,
    );
  }
  const value = spec.slice(eq + 1).trim();
  const want = HEX_LENGTH[algorithm];
  if (new RegExp(`^[0-9a-fA-F]{${want}}$`).test(value)) return { algorithm, hex: value.toLowerCase(), source: 'user' };
  const fromBase64 = Buffer.from(value, 'base64');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value) && fromBase64.length * 2 === want) {
    return { algorithm, hex: fromBase64.toString('hex'), source: 'user' };
  }
  throw new UsageError(
    ErrorCodes.INVALID_CHECKSUM,
    `Invalid ${algorithm} checksum "${value}": expected ${want} hex digits`,
  );
}

const SOURCE_RANK: Record<Digest['source'], number> = { user: 0, file: 1, server: 2 };

/**
 * Picks the strongest digest; at equal strength the caller's wins, then a checksum file's, then
 * the server's.
 */
export function strongestDigest(digests: readonly Digest[]): Digest | undefined {
  let best: Digest | undefined;
  for (const d of digests) {
    if (!best) best = d;
    else {
      const a = DIGEST_STRENGTH.indexOf(d.algorithm);
      const b = DIGEST_STRENGTH.indexOf(best.algorithm);
      if (a < b || (a === b && SOURCE_RANK[d.source] < SOURCE_RANK[best.source])) best = d;
    }
  }
  return best;
}

/** Hashes a file's bytes [0, length) without following a symlink. Returns lower-case hex. */
export async function hashFile(path: string, algorithm: DigestAlgorithm, signal?: AbortSignal): Promise<string> {
  return hashData(() => open(path, constants.O_RDONLY | constants.O_NOFOLLOW), algorithm, signal);
}

/** Hashes the bytes a reader yields from 0 to its end (a storage's data). Returns lower-case hex. */
export async function hashData(openReader: () => Promise<ByteReader>, algorithm: DigestAlgorithm, signal?: AbortSignal): Promise<string> {
  const hash = createHash(algorithm);
  const fh = await openReader();
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = 0;
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

/** Where a verified digest came from, as `DownloadResult.checksum` reports it. */
export function checksumOrigin(digest: Digest): ChecksumOrigin {
  return { algorithm: digest.algorithm, source: digest.source === 'file' ? (digest.url ?? 'file') : digest.source };
}
