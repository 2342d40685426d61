import type { RemoteInfo, Validators } from '../types.js';
import { versionProblem } from '../util/validators.js';

/**
 * What the sidecar state file records. Never credentials: URLs are stored without userinfo.
 *
 * Version 2 added `target` (the state belongs to one file name) and `blocks` (a digest per block of
 * the temporary file). A version 1 state is not adopted: it cannot prove its bytes.
 */
export interface SavedState {
  format: 'multiget-state';
  version: 2;
  /** The base name of the target this state was written for. */
  target: string;
  /** The URL as the caller gave it, without credentials. */
  url: string;
  /** The URL the bytes came from (after redirects), without credentials. */
  finalUrl: string;
  size: number | null;
  ranges: boolean;
  validators: Validators;
  /** [start, end (exclusive, null = unknown), pos] per segment; bytes [start, pos) are on disk. */
  segments: Array<[number, number | null, number]>;
  /**
   * Digests of the completed blocks of the temporary file: block i covers bytes
   * [i * size, (i + 1) * size); `null` for a block not (yet) complete.
   */
  blocks?: SavedBlocks;
  updatedAt: string;
}

/** The block digests of a saved state. */
export interface SavedBlocks {
  /** The digest: CRC-32 (the only one so far; a state naming another is discarded). */
  algorithm: 'crc32';
  /** Block size in bytes: a power of two. */
  size: number;
  /** The CRC-32 of each block, 8 lower-case hex digits, or null. */
  digests: Array<string | null>;
  /**
   * Bytes of incomplete blocks that arrived in order: [start, length, digest of those bytes], each
   * inside one block whose digest is null.
   */
  runs?: Array<[number, number, string]>;
}

/** Longest state file read (a state of a huge file with 1 MiB blocks stays far below). */
export const MAX_STATE_BYTES = 16 * 1024 * 1024;
const MAX_SEGMENTS = 65_536;
const MIN_BLOCK = 64 * 1024;
const MAX_BLOCK = 2 ** 40;
const DIGEST = /^[0-9a-f]{8}$/;

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isValidators(v: unknown): v is Validators {
  if (!isRecord(v)) return false;
  if (v.etag !== undefined && typeof v.etag !== 'string') return false;
  if (v.lastModified !== undefined && typeof v.lastModified !== 'string') return false;
  if (v.mtime !== undefined && !(typeof v.mtime === 'number' && Number.isFinite(v.mtime))) return false;
  if (v.size !== undefined && !isNonNegInt(v.size)) return false;
  return true;
}

/**
 * Checks that a parsed JSON value is a complete, self-consistent state: every field of the right
 * type, the segments tile [0, size) exactly (no gap, no overlap, none out of range, no segment
 * claiming more than its length), and the block digests belong to bytes the segments claim.
 * Returns the state, or undefined: a state either validates fully or is discarded, never repaired.
 * Never throws.
 */
export function parseSavedState(v: unknown): SavedState | undefined {
  if (!isRecord(v)) return undefined;
  if (v.format !== 'multiget-state' || v.version !== 2) return undefined;
  if (typeof v.target !== 'string' || v.target === '' || /[/\\\0]/.test(v.target)) return undefined;
  if (typeof v.url !== 'string' || typeof v.finalUrl !== 'string' || typeof v.ranges !== 'boolean') return undefined;
  if (typeof v.updatedAt !== 'string') return undefined;
  if (!(v.size === null || isNonNegInt(v.size))) return undefined;
  if (!isValidators(v.validators)) return undefined;
  const size = v.size;
  const segments = readSegments(v.segments, size);
  if (!segments) return undefined;
  let blocks: SavedBlocks | undefined;
  if (v.blocks !== undefined) {
    blocks = readBlocks(v.blocks, size ?? Infinity, segments);
    if (!blocks) return undefined;
  }
  return {
    format: 'multiget-state',
    version: 2,
    target: v.target,
    url: v.url,
    finalUrl: v.finalUrl,
    size,
    ranges: v.ranges,
    validators: v.validators,
    segments,
    ...(blocks ? { blocks } : {}),
    updatedAt: v.updatedAt,
  };
}

/** The segments when they tile [0, size) exactly (one open segment from 0 when the size is unknown). */
function readSegments(v: unknown, size: number | null): Array<[number, number | null, number]> | undefined {
  if (!Array.isArray(v) || v.length > MAX_SEGMENTS) return undefined;
  const out: Array<[number, number | null, number]> = [];
  for (const seg of v as unknown[]) {
    if (!Array.isArray(seg) || seg.length !== 3) return undefined;
    const [start, end, pos] = seg as unknown[];
    if (!isNonNegInt(start) || !isNonNegInt(pos) || !(end === null || isNonNegInt(end))) return undefined;
    if (pos < start || (end !== null && (end < start || pos > end))) return undefined;
    out.push([start, end, pos]);
  }
  if (size === null) {
    // A stream of unknown length is one segment from byte 0.
    return out.length === 1 && out[0]![0] === 0 && out[0]![1] === null ? out : undefined;
  }
  const sorted = [...out].sort((a, b) => a[0] - b[0] || (a[1] ?? 0) - (b[1] ?? 0));
  let next = 0;
  for (const [start, end] of sorted) {
    if (end === null || start !== next) return undefined;
    next = end;
  }
  return next === size ? out : undefined;
}

function readBlocks(v: unknown, size: number, segments: ReadonlyArray<[number, number | null, number]>): SavedBlocks | undefined {
  if (!isRecord(v) || v.algorithm !== 'crc32') return undefined;
  const blockSize = v.size;
  if (!isNonNegInt(blockSize) || blockSize < MIN_BLOCK || blockSize > MAX_BLOCK) return undefined;
  if (!Number.isInteger(Math.log2(blockSize))) return undefined;
  if (!Array.isArray(v.digests)) return undefined;
  // Known size: one entry per block. Unknown: one per block begun so far.
  if (Number.isFinite(size) ? v.digests.length !== Math.ceil(size / blockSize) : v.digests.length > MAX_STATE_BYTES / 4) {
    return undefined;
  }
  // The segments tile [0, size) (checked before), so walking both in order is linear.
  const sorted = [...segments].sort((a, b) => a[0] - b[0]);
  let j = 0;
  const digests: Array<string | null> = [];
  for (const [i, d] of (v.digests as unknown[]).entries()) {
    if (d === null) {
      digests.push(null);
      continue;
    }
    if (typeof d !== 'string' || !DIGEST.test(d)) return undefined;
    // A digest stands for bytes on disk: the segments must claim the whole block.
    const from = i * blockSize;
    const to = Math.min(size, from + blockSize);
    if (to === Infinity) return undefined;
    while (j < sorted.length && (sorted[j]![1] ?? Infinity) <= from) j++;
    for (let k = j; k < sorted.length && sorted[k]![0] < to; k++) {
      const [, end, pos] = sorted[k]!;
      if (pos < Math.min(end ?? Infinity, to)) return undefined;
    }
    digests.push(d);
  }
  if (v.runs === undefined) return { algorithm: 'crc32', size: blockSize, digests };
  const runs = readRuns(v.runs, size, blockSize, digests, sorted);
  return runs ? { algorithm: 'crc32', size: blockSize, digests, runs } : undefined;
}

const MAX_RUNS = 4096;

/** The runs when each lies inside one block without a digest, in order, on bytes the segments claim. */
function readRuns(
  v: unknown,
  size: number,
  blockSize: number,
  digests: ReadonlyArray<string | null>,
  sorted: ReadonlyArray<[number, number | null, number]>,
): Array<[number, number, string]> | undefined {
  if (!Array.isArray(v) || v.length > MAX_RUNS) return undefined;
  const out: Array<[number, number, string]> = [];
  let prevEnd = 0;
  let j = 0;
  for (const run of v as unknown[]) {
    if (!Array.isArray(run) || run.length !== 3) return undefined;
    const [start, length, d] = run as unknown[];
    if (!isNonNegInt(start) || !isNonNegInt(length) || length === 0 || typeof d !== 'string' || !DIGEST.test(d)) return undefined;
    const end = start + length;
    const block = Math.floor(start / blockSize);
    if (start < prevEnd || end > size || Math.floor((end - 1) / blockSize) !== block || block >= digests.length || digests[block] !== null) {
      return undefined;
    }
    while (j < sorted.length && (sorted[j]![1] ?? Infinity) <= start) j++;
    for (let k = j; k < sorted.length && sorted[k]![0] < end; k++) {
      const [, segEnd, pos] = sorted[k]!;
      if (pos < Math.min(segEnd ?? Infinity, end)) return undefined;
    }
    out.push([start, length, d]);
    prevEnd = end;
  }
  return out;
}

/**
 * Why a valid state of this URL cannot be resumed against what the server says now, or undefined
 * when it can. The rule: same target name, same size, and the file must be provably the same one,
 * so the saved state must hold at least one validator besides the size (ETag, Last-Modified, or an
 * FTP/SFTP modification time), and every one it holds must equal the server's. A state without such
 * a validator matches nothing: a server that gives none cannot prove a partial file is its file.
 */
export function resumeProblem(saved: SavedState, targetName: string, remote: RemoteInfo): string | undefined {
  if (saved.target !== targetName) return `the state was written for ${saved.target}, not ${targetName}`;
  return versionProblem(saved, remote)?.replace('the remote file changed', 'the remote file changed since the partial download');
}
