import { createHash } from 'node:crypto';
import { forEachBlock } from '../generatedContent.js';
import type { FileContent } from '../content.js';

/** Raw SHA-256 and MD5 of a representation, the inputs of the integrity headers. */
export interface RawDigests {
  readonly sha256: Buffer;
  readonly md5: Buffer;
}

// Yield every 16 MiB so a request that needs the digest of a large generated file does not starve
// the responses already streaming on other connections.
const YIELD_EVERY = 16 * 1024 * 1024;

/**
 * SHA-256 and MD5 of `content` in one pass; with `wrong`, the digests of other bytes (derived from
 * the true ones, so they are stable and certainly different).
 */
export async function computeDigests(content: FileContent, wrong: boolean): Promise<RawDigests> {
  const sha = createHash('sha256');
  const md5 = createHash('md5');
  await forEachBlock(content, (block) => {
    sha.update(block);
    md5.update(block);
  }, YIELD_EVERY);
  const digests = { sha256: sha.digest(), md5: md5.digest() };
  if (!wrong) return digests;
  const other = Buffer.concat([Buffer.from('not the served bytes:'), digests.sha256]);
  return { sha256: createHash('sha256').update(other).digest(), md5: createHash('md5').update(other).digest() };
}

/** The integrity headers a file asked for, from its digests. */
export function digestHeaders(
  digests: RawDigests,
  wanted: { reprDigest?: boolean; digest?: boolean; contentMd5?: boolean },
  fullBody: boolean,
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (wanted.reprDigest === true) headers['repr-digest'] = `sha-256=:${digests.sha256.toString('base64')}:`;
  if (wanted.digest === true) headers['digest'] = `SHA-256=${digests.sha256.toString('base64')}`;
  // Content-MD5 is a digest of the message body, so on a 206 it would describe the wrong bytes.
  if (wanted.contentMd5 === true && fullBody) headers['content-md5'] = digests.md5.toString('base64');
  return headers;
}
