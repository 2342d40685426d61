import { ErrorCodes, FileSystemError } from '../errors.js';
import { metadata } from './metadataCalls.js';

/**
 * Space promised to the downloads of this process, per file system. Node cannot fallocate(2), and
 * writing zeros to claim the space would write every byte twice, so the reservation is kept in
 * memory: a download counts the free space minus what the others still have to write there.
 * (Downloads in other processes are not seen; a disk that fills up anyway stops the download with
 * MG_ERR_NO_SPACE and a resumable partial file.)
 */
const reservations = new Set<Reservation>();

/** Space a running download still needs on one file system. Release it when the download stops. */
export interface Reservation {
  readonly device: number;
  /** Bytes still to be written: shrinks as the download progresses (the free space shrinks with it). */
  readonly remaining: () => number;
  release(): void;
}

/** Formats a byte count with binary units (`1.5 MiB`). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}

/**
 * Checks that `remaining()` bytes fit in `dir` besides what the other downloads of this process
 * still need there, and reserves them. Throws MG_ERR_NO_SPACE when they do not fit. Returns
 * undefined when the file system does not say (statfs unsupported): nothing to check against.
 */
export async function reserveSpace(dir: string, remaining: () => number): Promise<Reservation | undefined> {
  const [st, fs] = await Promise.all([
    metadata.statDirectory(dir).catch(() => undefined),
    metadata.statfsDirectory(dir).catch(() => undefined),
  ]);
  if (!st || !fs) return undefined;
  // From here to the registration nothing awaits: two downloads checking at once see each other.
  const free = fs.bavail * fs.bsize;
  let promised = 0;
  for (const r of reservations) if (r.device === st.dev) promised += Math.max(0, r.remaining());
  const needed = Math.max(0, remaining());
  if (needed > free - promised) {
    const others = promised > 0 ? ` (${formatBytes(promised)} of it promised to other running downloads)` : '';
    throw new FileSystemError(
      ErrorCodes.NO_SPACE,
      `Not enough space in ${dir}: ${formatBytes(needed)} needed, ${formatBytes(free)} free${others}`,
    );
  }
  const r: Reservation = {
    device: st.dev,
    remaining,
    release: () => void reservations.delete(r),
  };
  reservations.add(r);
  return r;
}
