import type { Validators } from '../types.js';

/** What identifies one version of a remote file: its size and its validators. */
export interface FileVersion {
  /** Size in bytes, or undefined when unknown (null as a state file stores it). */
  size: number | null | undefined;
  /** ETag, Last-Modified, modification time, size. */
  validators: Validators;
}

/**
 * Why bytes of `was` must not be continued with bytes of `now`, or undefined when they are the same
 * version: the same size, and every validator `was` had is the same in `now`. At least one of
 * ETag, Last-Modified and modification time is needed: a size alone proves nothing. The one
 * comparison of validators in Multiget (resume from a state file, a refreshed link).
 */
export function versionProblem(was: FileVersion, now: FileVersion): string | undefined {
  const before = was.validators;
  const after = now.validators;
  if ((was.size ?? undefined) !== (now.size ?? undefined)) {
    return `the remote file changed (size ${was.size ?? 'unknown'} → ${now.size ?? 'unknown'})`;
  }
  if (before.etag === undefined && before.lastModified === undefined && before.mtime === undefined) {
    return 'the server gave no validator (ETag, Last-Modified or modification time) that proves the partial file is of the same file';
  }
  if (before.etag !== undefined && before.etag !== after.etag) {
    return `the remote file changed (ETag ${before.etag} → ${after.etag ?? 'none'})`;
  }
  if (before.lastModified !== undefined && before.lastModified !== after.lastModified) {
    return `the remote file changed (Last-Modified ${before.lastModified} → ${after.lastModified ?? 'none'})`;
  }
  if (before.mtime !== undefined && before.mtime !== after.mtime) return 'the remote file changed (modification time changed)';
  if (before.size !== undefined && before.size !== after.size) return 'the remote file changed (size)';
  return undefined;
}

/** What a server reports about a file now: any of the validators, and the size, when it says. */
export interface SeenVersion {
  /** ETag, exactly as sent. */
  etag?: string | undefined;
  /** Last-Modified, exactly as sent. */
  lastModified?: string | undefined;
  /** Modification time in milliseconds since the epoch. */
  mtime?: number | undefined;
  /** Size in bytes. */
  size?: number | undefined;
}

/**
 * Why what a server reports now (a response's headers, a stat) is not the version `expected`
 * describes, or undefined when nothing says so. A validator either side lacks counts as agreeing
 * (the driver asked conditionally where it could). ETags are compared exactly (a weak and a strong
 * tag never match); Last-Modified only when neither side has an ETag (a server may send both and
 * change only its clock); modification times and sizes when both are known. The check drivers make
 * on every response, so that bytes of two versions never meet in one file.
 */
export function validatorMismatch(expected: SeenVersion, seen: SeenVersion): string | undefined {
  if (seen.etag !== undefined && expected.etag !== undefined) {
    if (seen.etag !== expected.etag) return `ETag ${seen.etag}, was ${expected.etag}`;
  } else if (seen.etag === undefined && expected.etag === undefined) {
    if (seen.lastModified !== undefined && expected.lastModified !== undefined && seen.lastModified !== expected.lastModified) {
      return `Last-Modified ${seen.lastModified}, was ${expected.lastModified}`;
    }
  }
  if (seen.size !== undefined && expected.size !== undefined && seen.size !== expected.size) {
    return `size ${seen.size}, was ${expected.size}`;
  }
  if (seen.mtime !== undefined && expected.mtime !== undefined && seen.mtime !== expected.mtime) {
    return `modified ${new Date(seen.mtime).toISOString()}, was ${new Date(expected.mtime).toISOString()}`;
  }
  return undefined;
}
