/** Hex digits of each digest algorithm the service verifies. */
export const CHECKSUM_HEX_LENGTH = { sha256: 64, sha512: 128, sha1: 40, md5: 32 } as const;

/** One of the algorithms in {@link CHECKSUM_HEX_LENGTH}. */
export type ChecksumAlgorithm = keyof typeof CHECKSUM_HEX_LENGTH;

/**
 * The `algo=hex` form the service expects, from what a user typed or pasted: `sha256=ABC…`,
 * `sha256:abc…`, `SHA-256 abc…`, or a bare hex string whose length tells the algorithm (64 hex
 * digits is SHA-256). `undefined` when it cannot be one; the hex is lower-cased.
 */
export function normalizeChecksum(text: string): string | undefined {
  const value = text.trim();
  const named = /^(sha-?256|sha-?512|sha-?1|md5)\s*[=: ]\s*([0-9a-f]+)$/i.exec(value);
  if (named) {
    const algorithm = named[1]!.toLowerCase().replace('-', '') as ChecksumAlgorithm;
    const hex = named[2]!.toLowerCase();
    return hex.length === CHECKSUM_HEX_LENGTH[algorithm] ? `${algorithm}=${hex}` : undefined;
  }
  if (/^[0-9a-f]+$/i.test(value)) {
    const algorithm = (Object.keys(CHECKSUM_HEX_LENGTH) as ChecksumAlgorithm[]).find((a) => CHECKSUM_HEX_LENGTH[a] === value.length);
    return algorithm === undefined ? undefined : `${algorithm}=${value.toLowerCase()}`;
  }
  return undefined;
}

/** Why `text` is not a checksum (see {@link normalizeChecksum}); `undefined` when empty or valid. */
export function validateChecksum(text: string): string | undefined {
  if (text.trim() === '') return undefined;
  return normalizeChecksum(text) === undefined
    ? 'Expected sha256=HEX (64 digits), sha512=HEX (128), sha1=HEX (40) or md5=HEX (32), or the bare hex digest.'
    : undefined;
}
