import type { AddFolderResult } from '@multiget/server/protocol';
import { validateDownloadUrl } from './url';

/**
 * Schemes whose folders the service can list (its FTP and SFTP plugins have `list`; HTTP has no
 * folder listing to trust). The service refuses any other with MG_ERR_UNSUPPORTED_PROTOCOL; the
 * box says so as the user types.
 */
export const FOLDER_SCHEMES = ['ftp', 'ftps', 'sftp'] as const;

/**
 * Why `text` is not a folder URL the service can download, or `undefined` when it is: a URL
 * "Download URL" would take (same checks, same messages), of a scheme whose folders can be listed.
 */
export function validateFolderUrl(text: string, served?: readonly string[]): string | undefined {
  const value = text.trim();
  if (value === '') return 'Enter the URL of a folder (ftp, ftps or sftp).';
  const problem = validateDownloadUrl(value, served);
  if (problem !== undefined) return problem;
  const scheme = new URL(value).protocol.slice(0, -1).toLowerCase();
  if (!(FOLDER_SCHEMES as readonly string[]).includes(scheme)) {
    return `Multiget downloads whole folders over ftp, ftps and sftp, not "${scheme}:" (a web server's folder has no listing to trust).`;
  }
  return undefined;
}

/** Counts in words: `1 file`, `3 files`. */
function files(n: number): string {
  return `${n} file${n === 1 ? '' : 's'}`;
}

/**
 * The one line the user reads after "Download Folder…": how many files were queued and where,
 * and how many were already there or left out. `warn` when something was left out (the log has
 * each entry and its reason).
 */
export function folderSummary(result: Pick<AddFolderResult, 'folder' | 'downloads' | 'complete' | 'skipped'>): { message: string; warn: boolean } {
  const queued = result.downloads.length;
  const done = result.complete.length;
  const skipped = result.skipped.length;
  const head =
    queued > 0 ? `queued ${files(queued)} into ${result.folder}`
    : done > 0 ? `nothing to download: ${done === 1 ? 'the file is' : `all ${done} files are`} already in ${result.folder}`
    : `the folder has no file to download (${result.folder})`;
  const notes: string[] = [];
  if (queued > 0 && done > 0) notes.push(`${done} already downloaded`);
  if (skipped > 0) notes.push(`${skipped} skipped: see the Multiget log`);
  return { message: notes.length > 0 ? `${head} (${notes.join('; ')}).` : `${head}.`, warn: skipped > 0 };
}
