import { PartialFile } from '../storage/PartialFile.js';
import { ACTIVE, type Entry, UNFINISHED } from './Queue.js';

/**
 * Stops what runs for `e`, for a pause, cancel, removal or new URL (the caller sets its state
 * after). A content-store lookup of its current start is dropped (`e.run` moves on); its Download,
 * while unfinished, is paused (partial data kept) or, with `deleteData`, cancelled. With
 * `deleteData` and no Download, its partial data is deleted through the storage: never a finished
 * file.
 */
export async function stopRun(e: Entry, deleteData: boolean): Promise<void> {
  e.run++;
  if (e.download && UNFINISHED.has(e.state)) {
    await (deleteData ? e.download.cancel() : e.download.pause());
  } else if (deleteData && e.state !== 'completed' && e.file) {
    await PartialFile.removePartial(e.file);
  }
}

/**
 * Pauses the running downloads among `entries` for a close of the manager. Their state stays
 * `downloading` (and is saved so), so that the next manager on the same store resumes them.
 * `backToDownloading` sets it (the queue's `enter`, which keeps its indexes).
 */
export async function pauseForRestart(entries: readonly Entry[], backToDownloading: (e: Entry) => void): Promise<void> {
  const running = entries.filter((e) => e.download && ACTIVE.has(e.state));
  await Promise.all(running.map((e) => e.download!.pause()));
  for (const e of running) if (e.state === 'paused') backToDownloading(e);
}
