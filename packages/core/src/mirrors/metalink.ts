import { ErrorCodes, UsageError } from '../errors.js';
import type { Digest, DigestAlgorithm } from '../types.js';
import { parseXml, XmlError, type XmlElement } from './xml.js';

/** The Metalink 4 namespace (RFC 5854). */
export const METALINK_NS = 'urn:ietf:params:xml:ns:metalink';

/** Hashes of consecutive pieces of a file, as a Metalink lists them. */
export interface PieceHashes {
  /** The hash function. */
  algorithm: DigestAlgorithm;
  /** Bytes per piece; the last piece may be shorter. */
  length: number;
  /** Lower-case hex digest of each piece, in file order. */
  hashes: string[];
}

/** One source of a Metalink file. */
export interface MetalinkUrl {
  /** The URL. */
  url: URL;
  /** Lower is preferred (RFC 5854: 1..999999); undefined when not given. */
  priority?: number;
  /** ISO 3166-1 country code of the mirror, when given. */
  location?: string;
}

/** One file a Metalink describes. */
export interface MetalinkFile {
  /** The relative path the document names (already checked: no absolute path, no `..`). */
  name: string;
  /** Size in bytes, when given. */
  size?: number;
  /** Digests of the whole file (strongest first). */
  hashes: Digest[];
  /** Piece hashes, when given. */
  pieces?: PieceHashes;
  /** Sources, most preferred first (by priority, then document order). */
  urls: MetalinkUrl[];
}

/** Media type of Metalink 4 documents. */
export const METALINK_MEDIA_TYPE = 'application/metalink4+xml';

/** Largest Metalink document Multiget reads, in bytes. */
export const MAX_METALINK_BYTES = 4 * 1024 * 1024;

const ALGORITHMS: Readonly<Record<string, DigestAlgorithm>> = {
  'sha-512': 'sha512',
  'sha-256': 'sha256',
  'sha-1': 'sha1',
  md5: 'md5',
};
const STRENGTH: readonly DigestAlgorithm[] = ['sha512', 'sha256', 'sha1', 'md5'];
const HEX_LENGTH: Readonly<Record<DigestAlgorithm, number>> = { sha512: 128, sha256: 64, sha1: 40, md5: 32 };
const SCHEMES = new Set(['http:', 'https:', 'ftp:', 'ftps:', 'sftp:']);

function invalid(message: string, cause?: unknown): UsageError {
  return new UsageError(ErrorCodes.INVALID_METALINK, `Invalid Metalink: ${message}`, { cause });
}

/**
 * Checks a file name from a Metalink: a relative path of plain segments. RFC 5854 forbids
 * directory traversal; a document that tries it is refused, not repaired.
 */
function checkName(name: string | undefined): string {
  if (name === undefined || name === '') throw invalid('a <file> without a name');
  const parts = name.split('/');
  const bad = parts.some((p) => p === '' || p === '.' || p === '..' || /[\\\0]/.test(p) || /^[A-Za-z]:/.test(p));
  if (bad) throw invalid(`unsafe file name "${name}"`);
  return name;
}

function childrenOf(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name && c.ns === METALINK_NS);
}

function hashOf(el: XmlElement): { algorithm: DigestAlgorithm; hex: string } | undefined {
  const algorithm = ALGORITHMS[(el.attrs.type ?? '').toLowerCase()];
  const hex = el.text.trim().toLowerCase();
  if (!algorithm) return undefined;
  if (hex.length !== HEX_LENGTH[algorithm] || !/^[0-9a-f]+$/.test(hex)) throw invalid(`a malformed ${algorithm} hash`);
  return { algorithm, hex };
}

function parseFile(el: XmlElement): MetalinkFile {
  const name = checkName(el.attrs.name);
  const file: MetalinkFile = { name, hashes: [], urls: [] };
  const size = childrenOf(el, 'size')[0];
  if (size) {
    const text = size.text.trim();
    if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) throw invalid(`size "${text}" of ${name}`);
    file.size = Number(text);
  }
  for (const h of childrenOf(el, 'hash')) {
    const hash = hashOf(h);
    if (hash) file.hashes.push({ ...hash, source: 'server' });
  }
  file.hashes.sort((a, b) => STRENGTH.indexOf(a.algorithm) - STRENGTH.indexOf(b.algorithm));
  // The strongest supported piece list wins.
  let best: PieceHashes | undefined;
  for (const p of childrenOf(el, 'pieces')) {
    const algorithm = ALGORITHMS[(p.attrs.type ?? '').toLowerCase()];
    const length = Number(p.attrs.length);
    if (!algorithm) continue;
    if (!Number.isSafeInteger(length) || length <= 0) throw invalid(`piece length "${p.attrs.length}" of ${name}`);
    const hashes = childrenOf(p, 'hash').map((h) => {
      const hex = h.text.trim().toLowerCase();
      if (hex.length !== HEX_LENGTH[algorithm] || !/^[0-9a-f]+$/.test(hex)) throw invalid(`a malformed piece hash of ${name}`);
      return hex;
    });
    if (file.size !== undefined && hashes.length !== Math.max(1, Math.ceil(file.size / length))) {
      throw invalid(`${name} has ${hashes.length} piece hashes for ${file.size} bytes in pieces of ${length}`);
    }
    if (!best || STRENGTH.indexOf(algorithm) < STRENGTH.indexOf(best.algorithm)) best = { algorithm, length, hashes };
  }
  if (best) file.pieces = best;
  const urls: Array<MetalinkUrl & { order: number }> = [];
  childrenOf(el, 'url').forEach((u, order) => {
    let url: URL;
    try {
      url = new URL(u.text.trim());
    } catch {
      return; // An unusable source is skipped; the others may do.
    }
    if (!SCHEMES.has(url.protocol)) return;
    const entry: MetalinkUrl & { order: number } = { url, order };
    const priority = Number(u.attrs.priority);
    if (u.attrs.priority !== undefined && Number.isInteger(priority) && priority >= 1) entry.priority = priority;
    if (u.attrs.location) entry.location = u.attrs.location;
    urls.push(entry);
  });
  urls.sort((a, b) => (a.priority ?? 1_000_000) - (b.priority ?? 1_000_000) || a.order - b.order);
  file.urls = urls.map(({ order: _order, ...rest }) => rest);
  if (file.urls.length === 0) throw invalid(`no usable URL for ${name}`);
  return file;
}

/**
 * Reads a Metalink 4 document (RFC 5854): every `<file>` with its size, hashes, piece hashes and
 * URLs (http, https, ftp, ftps and sftp; others, such as `<metaurl>` torrents, are left out).
 *
 * @throws UsageError `MG_ERR_INVALID_METALINK` for a document that is not Metalink 4, is larger
 *   than {@link MAX_METALINK_BYTES}, names a file unsafely or has a file without a usable URL.
 */
export function parseMetalink(text: string): MetalinkFile[] {
  if (Buffer.byteLength(text) > MAX_METALINK_BYTES) throw invalid(`larger than ${MAX_METALINK_BYTES} bytes`);
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (err) {
    throw invalid(err instanceof XmlError ? err.message : 'not XML', err);
  }
  if (root.name !== 'metalink' || root.ns !== METALINK_NS) {
    throw invalid(`not a Metalink 4 document (root <${root.name}> in namespace "${root.ns}")`);
  }
  const files = childrenOf(root, 'file').map(parseFile);
  if (files.length === 0) throw invalid('no <file>');
  const names = new Set<string>();
  for (const f of files) {
    if (names.has(f.name)) throw invalid(`the file ${f.name} is listed twice`);
    names.add(f.name);
  }
  return files;
}

/** True when a URL or media type names a Metalink 4 document. */
export function looksLikeMetalink(nameOrUrl: string, contentType?: string): boolean {
  if (contentType !== undefined && contentType.split(';')[0]!.trim().toLowerCase() === METALINK_MEDIA_TYPE) return true;
  let path = nameOrUrl;
  try {
    path = new URL(nameOrUrl).pathname;
  } catch {
    // A local path.
  }
  return /\.meta4$/i.test(path);
}
