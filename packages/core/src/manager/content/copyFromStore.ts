import { constants } from 'node:fs';
import { copyFile, link, lstat, open, rename, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { PidLock } from '../../storage/PidLock.js';
import { removeFile } from '../../storage/removeFile.js';
import { checkRenameTarget } from '../../storage/safeCreate.js';
import { isSidecarName, sidecarPaths } from '../../storage/sidecars.js';
import type { Digest, ExistingFilePolicy } from '../../types.js';
import type { ContentRecord } from '../store/ManagerStore.js';
import { proveFile, provable } from './recordDigest.js';

/** Where a copy from the content store should land: as the engine would choose the target. */
export interface CopyTarget {
  /** The exact file the caller named, if any. */
  output: string | undefined;
  /** Otherwise: this directory and name (numbered `name.1.ext` under `rename`). */
  dir: string;
  /** The file name the download would get (already sanitised). */
  name: string;
  /** What to do when the target exists. */
  existing: ExistingFilePolicy;
  /** Written into the target's lock while copying (the download's URL without credentials). */
  lockDetail: string;
  /** The checksum the caller asked for, if any: a copy must hash to it too. */
  checksum: Digest | undefined;
}

/**
 * How a copy went: `copied` to `file`; `stale` when the stored file is gone or no longer has the
 * recorded digest (the record should be forgotten); `unwanted` when it is the recorded file but
 * not the caller's checksum (the record stays; the file is not served); `declined` when the
 * target cannot be had without a decision the engine makes better (it exists and may not be
 * replaced, a partial download or another process holds it): the download then runs as usual and
 * reports what it finds.
 */
export type CopyOutcome = { kind: 'copied'; file: string } | { kind: 'stale' } | { kind: 'unwanted' } | { kind: 'declined' };

function numbered(base: string, n: number): string {
  const ext = extname(base);
  const stem = ext && ext !== base ? base.slice(0, -ext.length) : base;
  return `${stem}.${n}${ext === base ? '' : ext}`;
}

async function present(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Copies a stored file to a download's target (a reflink where the file system offers one, so the
 * copy costs no space and no time), and proves the copy: same size, same digest as recorded (a
 * hash, or the CRC-32 of each block), and the caller's checksum when one is given. The
 * copy goes to the target's temporary name, created exclusively (never through a link, never over
 * a file), under the target's lock, and is linked into place: an existing target is never replaced
 * unless the policy is `overwrite`.
 */
export async function copyFromStore(record: ContentRecord, target: CopyTarget): Promise<CopyOutcome> {
  let source;
  try {
    source = await lstat(record.file);
  } catch {
    return { kind: 'stale' };
  }
  if (!provable(record.digest) || !source.isFile() || source.size !== record.size) return { kind: 'stale' };
  try {
    if (!(await stat(target.output !== undefined ? join(target.output, '..') : target.dir)).isDirectory()) return { kind: 'declined' };
  } catch {
    return { kind: 'declined' };
  }
  const explicit = target.output !== undefined;
  if (!explicit && isSidecarName(target.name)) return { kind: 'declined' };
  for (let i = 0; i < 10_000; i++) {
    const file = explicit ? target.output! : join(target.dir, i === 0 ? target.name : numbered(target.name, i));
    const next = (): boolean => !explicit && target.existing === 'rename';
    if (file === record.file) return { kind: 'declined' };
    const exists = await present(file);
    if (exists && target.existing !== 'overwrite') {
      if (next()) continue;
      return { kind: 'declined' };
    }
    const sidecars = sidecarPaths(file);
    // Partial data of a download of this name: the engine resumes or replaces it, not us.
    if ((await present(sidecars.temp)) || (await present(sidecars.state))) {
      if (next()) continue;
      return { kind: 'declined' };
    }
    const lock = new PidLock(sidecars.lock);
    if (await lock.acquire(target.lockDetail)) {
      if (next()) continue;
      return { kind: 'declined' };
    }
    try {
      try {
        // COPYFILE_EXCL: the temporary name is created, never opened if something (a link) is there.
        await copyFile(record.file, sidecars.temp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      } catch {
        return { kind: 'declined' };
      }
      try {
        const copied = await lstat(sidecars.temp);
        if (copied.size !== record.size) return { kind: 'stale' };
        // The copy, not the source, is proven: what lands at the target is what was checked.
        const proof = await proveFile(sidecars.temp, record.digest, target.checksum);
        if (!proof.record) return { kind: 'stale' };
        if (!proof.checksum) return { kind: 'unwanted' };
        const fh = await open(sidecars.temp, constants.O_RDONLY | constants.O_NOFOLLOW);
        await fh.sync().finally(() => fh.close());
        if (exists) {
          await checkRenameTarget(file, 'the target');
          await rename(sidecars.temp, file);
        } else {
          try {
            // link(2) fails when the name exists: a file that appeared meanwhile is never replaced.
            await link(sidecars.temp, file);
          } catch {
            if (next()) continue;
            return { kind: 'declined' };
          }
        }
        return { kind: 'copied', file };
      } finally {
        await removeFile(sidecars.temp);
      }
    } finally {
      await lock.release();
    }
  }
  return { kind: 'declined' };
}

/**
 * How a download's own file, found at its target by a later start, compares with its record:
 * `proven` (the file has the recorded digest, and the caller's checksum when one is given),
 * `stale` (it does not: the record should be forgotten), `unwanted` (the recorded file, but not
 * the caller's checksum), `declined` (partial data of the name, or another writer holds it).
 */
export type InPlaceOutcome = 'proven' | 'stale' | 'unwanted' | 'declined';

/**
 * Proves the file at `file`, the target an earlier start of the same download chose, against the
 * record of it: a process that stopped between the file's completion and the write of its queue
 * (a crash, a kill) comes back with the download unfinished and its file complete. Nothing is
 * copied or moved: under the target's lock, with no partial data of the name beside it, the file
 * is read once (never through a link) and must be a regular file of the recorded size and digest.
 */
export async function proveInPlace(record: ContentRecord, file: string, lockDetail: string, checksum: Digest | undefined): Promise<InPlaceOutcome> {
  if (record.file !== file || !provable(record.digest)) return 'stale';
  const sidecars = sidecarPaths(file);
  if ((await present(sidecars.temp)) || (await present(sidecars.state)) || (await present(sidecars.stateTmp))) return 'declined';
  const lock = new PidLock(sidecars.lock);
  if (await lock.acquire(lockDetail)) return 'declined';
  try {
    const st = await lstat(file).catch(() => undefined);
    if (!st?.isFile() || st.size !== record.size) return 'stale';
    const proof = await proveFile(file, record.digest, checksum);
    if (!proof.record) return 'stale';
    return proof.checksum ? 'proven' : 'unwanted';
  } finally {
    await lock.release();
  }
}
