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
