import type { Digest, DigestAlgorithm } from '@multiget/core';
import { joinedHeader, type HeaderMap } from './headerValues.js';

/** Digest lengths in bytes: a value of another length is not that algorithm's digest. */
const LENGTHS: Readonly<Record<DigestAlgorithm, number>> = { sha512: 64, sha256: 32, sha1: 20, md5: 16 };

/** Strongest first, so a caller that wants one digest can take the first. */
const STRENGTH: readonly DigestAlgorithm[] = ['sha512', 'sha256', 'sha1', 'md5'];

/** Names in the RFC 9530 registry and RFC 3230 (case-insensitive there; `sha` is SHA-1). */
const NAMES: Readonly<Record<string, DigestAlgorithm>> = {
  'sha-512': 'sha512',
  'sha-256': 'sha256',
  sha: 'sha1',
  md5: 'md5',
};

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Reads the whole-file digests a response announces.
 *
 * - `Repr-Digest` (RFC 9530): a structured dictionary, `sha-256=:BASE64:, sha-512=:BASE64:`.
 *   It describes the whole representation, so it counts on a 206 too.
 * - `Digest` (RFC 3230): `SHA-256=BASE64, MD5=BASE64`; an instance digest, also range-independent.
 * - `Content-MD5` (RFC 1864) and `Content-Digest` (RFC 9530) describe the message body, which is the
 *   whole file only in a full 200 response; on a 206 they describe the part and are ignored.
 *
 * Unknown algorithms, malformed values and values of the wrong length are skipped. Duplicates are
 * dropped; the result is ordered strongest first.
 *
 * @param headers - Response headers with lower-case names.
 * @param statusCode - Status of the response; body digests are used only when it is 200 (the default).
 * @returns Digests in lower-case hex with `source: 'server'`.
 */
export function parseDigestHeaders(headers: HeaderMap, statusCode = 200): Digest[] {
  const found: Digest[] = [];
  const add = (name: string, base64: string): void => {
    const algorithm = NAMES[name.trim().toLowerCase()];
    if (algorithm === undefined) return;
    const hex = base64ToHex(base64.trim(), LENGTHS[algorithm]);
    if (hex === undefined) return;
    if (found.some((d) => d.algorithm === algorithm && d.hex === hex)) return;
    found.push({ algorithm, hex, source: 'server' });
  };

  const structured = [joinedHeader(headers, 'repr-digest')];
  if (statusCode === 200) structured.push(joinedHeader(headers, 'content-digest'));
  for (const value of structured) {
    if (value === undefined) continue;
    for (const [name, bytes] of parseByteSequenceDictionary(value)) add(name, bytes);
  }

  const legacy = joinedHeader(headers, 'digest');
  if (legacy !== undefined) {
    for (const member of legacy.split(',')) {
      // Base64 padding contains `=`, so only the first one separates name and value.
      const eq = member.indexOf('=');
      if (eq > 0) add(member.slice(0, eq), member.slice(eq + 1));
    }
  }

  const contentMd5 = statusCode === 200 ? joinedHeader(headers, 'content-md5') : undefined;
  if (contentMd5 !== undefined) add('md5', contentMd5);

  return found.sort((a, b) => STRENGTH.indexOf(a.algorithm) - STRENGTH.indexOf(b.algorithm));
}

/**
 * The `key=:bytes:` members of an RFC 8941 dictionary. Members of other types (tokens, numbers,
 * inner lists) are skipped; parameters after a value (`;foo=1`) are ignored. Byte sequences are
 * base64, which has no commas, so members can be split on commas.
 */
function parseByteSequenceDictionary(value: string): Array<[string, string]> {
  const members: Array<[string, string]> = [];
  for (const member of value.split(',')) {
    const match = /^\s*([a-z*][a-z0-9_\-.*]*)\s*=\s*:([A-Za-z0-9+/=]*):\s*(?:;.*)?$/i.exec(member);
    if (match !== null) members.push([match[1] as string, match[2] as string]);
  }
  return members;
}

/**
 * Base64 to hex, checked against the algorithm's length. Some servers send hex where base64 is
 * due (Content-MD5 especially); hex of the right length never decodes as base64 of that length,
 * so accepting it too is unambiguous.
 */
function base64ToHex(value: string, length: number): string | undefined {
  if (value.length === length * 2 && /^[0-9a-fA-F]+$/.test(value)) return value.toLowerCase();
  if (!BASE64.test(value) || value.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === length ? bytes.toString('hex') : undefined;
}
