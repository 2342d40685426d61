import { redactUrl } from '../storage/StateFile.js';
import type { DownloadResult, Progress } from '../types.js';
import { checksumOrigin } from '../util/checksum.js';
import type { Job } from './Job.js';

// What a download reports of itself: its progress snapshots and, at the end, its result.

/**
 * A progress snapshot of `job` now, at `speed` bytes per second over `connections` open
 * connections. The ETA is undefined while the size or the speed is unknown (0 once every byte is in).
 */
export function progressOf(job: Job, speed: number, connections: number): Progress {
  const bytesDone = job.bytesDone;
  const total = job.remote?.size;
  const eta = total !== undefined && speed > 0 ? Math.max(0, (total - bytesDone) / speed) : total === bytesDone ? 0 : undefined;
  return { bytesDone, total, speed, eta, connections };
}

/**
 * The result of a verified, committed download of `size` bytes: where it is, from where (without
 * credentials), its digest and where that came from, whether it resumed, its `restarts` and its
 * duration since `startedAt` (a `performance.now()` time).
 */
export function resultOf(job: Job, size: number, restarts: number, startedAt: number): DownloadResult {
  return {
    file: job.target!,
    size,
    url: redactUrl(job.remote!.url),
    ...(job.verifiedDigest ? { digest: job.verifiedDigest, checksum: checksumOrigin(job.verifiedDigest) } : {}),
    verified: job.verifiedDigest !== undefined,
    resumed: job.resumed,
    restarts,
    durationMs: Math.round(performance.now() - startedAt),
  };
}
