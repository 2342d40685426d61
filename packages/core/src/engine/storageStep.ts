import { DownloadError, ErrorCodes } from '../errors.js';
import type { Storage } from '../storage/Storage.js';
import type { DownloadEvents } from '../types.js';
import type { EngineContext } from './Download.js';
import type { Job } from './Job.js';

// A download's side of its storage: opening it through the `openStorage` hook (which chooses the
// target), and dropping its partial data when a run starts over.

/**
 * Asks the `openStorage` hook for the storage of download `id`, sets `job.storage` and
 * `job.target`, and reports (a `restart`) a saved state the storage dropped as unusable.
 */
export async function openStorage(
  engine: Pick<EngineContext, 'hooks' | 'claimTarget' | 'releaseTarget'>,
  job: Job,
  id: string,
  emitRestart: (...args: DownloadEvents['restart']) => void,
): Promise<Storage> {
  const storage = await engine.hooks.openStorage.promise(job, {
    claim: (target) => engine.claimTarget(target, id),
    unclaim: (target) => engine.releaseTarget(target, id),
  });
  if (!storage) throw new DownloadError(ErrorCodes.INTERNAL, 'No plugin opened a storage for the download');
  job.storage = storage;
  job.target = storage.target;
  if (storage.dropped) emitRestart({ reason: storage.dropped });
  return storage;
}

/** Drops the partial data of `job` (the remote changed, or ranges proved unusable) and reports why (a `restart`). */
export async function discardPartial(job: Job, reason: string, emitRestart: (...args: DownloadEvents['restart']) => void): Promise<void> {
  await job.sink?.close().catch(() => undefined);
  job.sink = undefined;
  await job.storage?.forget();
  job.segments = [];
  job.blocks = undefined;
  job.resumed = false;
  emitRestart({ reason });
}
