import { normalizeAlgorithm } from '../util/checksum.js';
import type { DigestAlgorithm } from '../types.js';

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha512: 128, sha256: 64, sha1: 40, md5: 32 };

/** One digest read from a checksum file. */
export interface ChecksumLine {
  /** The hash function. */
  algorithm: DigestAlgorithm;
  /** Lower-case hex. */
  hex: string;
}

/**
 * Finds the digest of `fileName` in the text of a checksum file, in the forms `sha256sum` and
 * `shasum` write and read:
 * - GNU: `HEX  NAME` (text mode) or `HEX *NAME` (binary mode); a line that starts with `\` has
 *   `\\` and `\n` escapes in its name (GNU coreutils writes names with a backslash or a line
 *   break that way).
 * - BSD (`--tag`, `shasum --tag`, OpenBSD's `sha256`): `SHA256 (NAME) = HEX`.
 * - A bare `HEX` as the file's only content: the single-file forms (`NAME.sha256`) often hold just that.
 *
 * A name matches when it is `fileName` itself, or `fileName` under `./` (sums written in the
 * folder itself with `./*`). Names under another folder do not match: `SHA256SUMS` beside a file
 * speaks of the files beside it. GNU lines take their algorithm from `algorithm` (the file name
 * says it: SHA256SUMS, NAME.sha512) and must have its length; BSD lines name their own.
 * The first matching line wins. Comment lines (`#`) and blank lines are skipped; `\r\n` line ends
 * are accepted.
 *
 * @param text - the checksum file's content
 * @param fileName - the name of the downloaded file, decoded (as it appears in the checksum file)
 * @param algorithm - the algorithm the checksum file's own name announces
 * @param bareAllowed - accept a lone hash as the whole content (single-file forms only)
 * @returns the digest, or undefined when the file does not speak of `fileName`
 */
export function findChecksum(text: string, fileName: string, algorithm: DigestAlgorithm, bareAllowed: boolean): ChecksumLine | undefined {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const meaningful = lines.filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (bareAllowed && meaningful.length === 1) {
    const only = meaningful[0]!.trim();
    if (isHex(only, algorithm)) return { algorithm, hex: only.toLowerCase() };
  }
  for (const line of meaningful) {
    const found = parseLine(line, algorithm);
    if (found && sameName(found.name, fileName)) return { algorithm: found.algorithm, hex: found.hex };
    // A single-file form may name the file differently (renamed on the mirror): one entry is enough.
    if (found && bareAllowed && meaningful.length === 1) return { algorithm: found.algorithm, hex: found.hex };
  }
  return undefined;
}

function isHex(value: string, algorithm: DigestAlgorithm): boolean {
  return value.length === HEX_LENGTH[algorithm] && /^[0-9a-fA-F]+$/.test(value);
}

function sameName(listed: string, fileName: string): boolean {
  return listed === fileName || listed === `./${fileName}`;
}

/** One line of a checksum file: its name and digest, or undefined when it is not a checksum line. */
function parseLine(line: string, algorithm: DigestAlgorithm): (ChecksumLine & { name: string }) | undefined {
  const bsd = /^([A-Za-z0-9-]+) \((.*)\) ?= ?([0-9a-fA-F]+)\s*$/.exec(line);
  if (bsd) {
    const named = normalizeAlgorithm(bsd[1]!);
    if (!named || !isHex(bsd[3]!, named)) return undefined;
    return { algorithm: named, hex: bsd[3]!.toLowerCase(), name: bsd[2]! };
  }
  let rest = line;
  const escaped = rest.startsWith('\\');
  if (escaped) rest = rest.slice(1);
  const gnu = /^([0-9a-fA-F]+) [ *](.+)$/.exec(rest);
  if (!gnu || !isHex(gnu[1]!, algorithm)) return undefined;
  const name = escaped ? unescapeName(gnu[2]!) : gnu[2]!;
  if (name === undefined) return undefined;
  return { algorithm, hex: gnu[1]!.toLowerCase(), name };
}

/** GNU's escapes in a name: `\\` and `\n` (and `\r` from newer coreutils); anything else is malformed. */
function unescapeName(name: string): string | undefined {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = name[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else if (next === 'r') out += '\r';
    else return undefined;
  }
  return out;
}
