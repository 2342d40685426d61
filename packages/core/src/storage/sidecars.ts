/**
 * The names of the files Multiget keeps beside a target while it downloads it. This module is the
 * one place that knows them: everything else asks it for the paths, and a name that a server
 * suggests is checked against {@link isSidecarName} so that a server can never plant a file that a
 * later download would mistake for its own bookkeeping.
 */

/** Suffix of the temporary file beside the target. */
export const TEMP_SUFFIX = '.mgpart';
/** Suffix of the sidecar state file beside the target. */
export const STATE_SUFFIX = '.mgstate';
/** Suffix of the lock file beside the target while a process downloads it. */
export const LOCK_SUFFIX = '.mglock';
/** Suffix of the state file while it is being rewritten (renamed over the state file when synced). */
export const STATE_TMP_SUFFIX = `${STATE_SUFFIX}.tmp`;

/** The sidecar paths of one target. */
export interface SidecarPaths {
  temp: string;
  state: string;
  stateTmp: string;
  lock: string;
}

/** The sidecar paths of `target`. */
export function sidecarPaths(target: string): SidecarPaths {
  return {
    temp: target + TEMP_SUFFIX,
    state: target + STATE_SUFFIX,
    stateTmp: target + STATE_TMP_SUFFIX,
    lock: target + LOCK_SUFFIX,
  };
}

// Case-insensitive: on macOS and Windows `F.BIN.MGSTATE` and `f.bin.mgstate` are one file. A lock
// is written as `NAME.mglock.new-PID` before it is linked into place, and one being taken over is
// renamed to `NAME.mglock.stale-PID` for a moment (see PidLock).
const SIDECAR = /\.mg(part|state|lock)(\.tmp|\.stale-\d*|\.new-\d*)?$/i;

/**
 * True when a file name (a single path component) is, or could be taken for, one of Multiget's
 * sidecar files: `*.mgpart`, `*.mgstate`, `*.mgstate.tmp`, `*.mglock`. Trailing dots and spaces are
 * ignored first, as Windows ignores them.
 */
export function isSidecarName(name: string): boolean {
  return SIDECAR.test(name.replace(/[. ]+$/, ''));
}

/** Makes a sidecar-like name an ordinary one by appending `_` (`f.bin.mgstate` → `f.bin.mgstate_`). */
export function defuseSidecarName(name: string): string {
  return isSidecarName(name) ? `${name}_` : name;
}
