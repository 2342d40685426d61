import type { DownloadInfo } from '@multiget/server/protocol';
import { formatBytes } from './format';

/** Cancel deletes the partial data; above this much it asks first (8 MiB). */
export const CANCEL_CONFIRM_BYTES = 8 * 1024 * 1024;

/** What Remove must ask before it acts. */
export type RemoveQuestion =
  /** Nothing on disk to lose or leave behind: remove at once. */
  | { kind: 'none' }
  /** Partial data is on disk: delete it (the default) or keep it. */
  | { kind: 'partialData'; message: string; detail: string };

/** The fields the rules look at. */
export type DownloadFacts = Pick<DownloadInfo, 'state' | 'bytes' | 'file'>;

/** States whose partial data stays on disk while the download is in the list (so Retry can resume). */
const KEEPS_PARTIAL_DATA: ReadonlySet<DownloadInfo['state']> = new Set(['queued', 'probing', 'downloading', 'verifying', 'paused', 'failed']);

/**
 * Remove on an unfinished (or failed) download that has data on disk asks whether to delete the
 * partial data, because afterwards nothing in the list leads to NAME.mgpart / NAME.mgstate.
 * A completed download's file is the user's and is never deleted by Remove; a cancelled one has no
 * partial data left; a download that never started has none yet.
 */
export function removeQuestion(d: DownloadFacts, name: string): RemoveQuestion {
  if (!KEEPS_PARTIAL_DATA.has(d.state)) return { kind: 'none' };
  if (d.bytes <= 0 && d.file === null) return { kind: 'none' };
  const amount = d.bytes > 0 ? `${formatBytes(d.bytes)} of partial data` : 'Its partial data';
  return {
    kind: 'partialData',
    message: `Remove ${name} from the list?`,
    detail: `${amount} is on disk${d.file !== null ? ` next to ${d.file}` : ''}. Delete it too, or keep it (to resume later with the same URL and folder)?`,
  };
}

/**
 * Cancel stops a download and deletes its partial data; when more than {@link CANCEL_CONFIRM_BYTES}
 * would be lost it asks first (returns the question), otherwise `undefined` (cancel at once).
 */
export function cancelQuestion(d: DownloadFacts, name: string): string | undefined {
  if (!KEEPS_PARTIAL_DATA.has(d.state) || d.state === 'failed') return undefined;
  if (d.bytes <= CANCEL_CONFIRM_BYTES) return undefined;
  return `Cancel ${name}? The ${formatBytes(d.bytes)} downloaded so far will be deleted.`;
}
