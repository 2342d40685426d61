import { ErrorCodes, type Manager, UsageError, newId, normalizeOptions, planFolder, printable, redactUrl } from '@multiget/core';
import type { CliOptions } from '../args/parseArgs.js';
import type { Palette } from '../display/Palette.js';
import type { TextOutput } from '../display/Reporter.js';
import type { Redactor } from '../redact.js';
import type { DownloadTask } from './buildTasks.js';

/** Schemes whose folders can be listed. */
const FOLDER_SCHEMES = new Set(['ftp:', 'ftps:', 'sftp:']);

/** Something about a folder's entry that is not a download: already complete, or skipped. */
export interface FolderNote {
  /** `complete`: a file already downloaded; `skipped`: an entry left out (see `reason`). */
  kind: 'complete' | 'skipped';
  /** The id of the folder's task (its JSON events carry it, as a download's carry its own). */
  id: string;
  /** The folder's URL, without credentials. */
  folder: string;
  /** The entry's path on the server below the folder. */
  remotePath: string;
  /** The local file, for a complete one. */
  file?: string;
  /** Why it was skipped. */
  reason?: string;
}

/**
 * `-r`: lists each task's URL as a folder and turns it into one task per file to download (new or
 * partial), its output the file's place in the local folder (`-o`, else `--dir`/the working
 * directory plus the folder's name). Lists in input order; a folder that cannot be listed fails the
 * run before anything is downloaded.
 *
 * @throws UsageError (MG_ERR_UNSUPPORTED_PROTOCOL) for a URL that is not ftp, ftps or sftp; the
 *   listing's errors.
 */
export async function expandFolders(
  manager: Manager,
  options: CliOptions,
  tasks: readonly DownloadTask[],
): Promise<{ tasks: DownloadTask[]; notes: FolderNote[] }> {
  const out: DownloadTask[] = [];
  const notes: FolderNote[] = [];
  for (const task of tasks) {
    const url = new URL(task.url);
    if (!FOLDER_SCHEMES.has(url.protocol)) {
      throw new UsageError(ErrorCodes.UNSUPPORTED_PROTOCOL, `-r downloads ftp://, ftps:// and sftp:// folders, not ${task.label}`);
    }
    const o = task.options;
    const plan = await planFolder(
      manager.engine,
      url,
      {
        ...(o.output !== undefined ? { output: o.output } : o.dir !== undefined ? { dir: o.dir } : {}),
        include: options.include,
        exclude: options.exclude,
        ...(options.depth !== undefined ? { depth: options.depth } : {}),
        ...(o.credentials !== undefined ? { credentials: o.credentials } : {}),
        ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
        ...(o.stallTimeoutMs !== undefined ? { stallTimeoutMs: o.stallTimeoutMs } : {}),
      },
      process.cwd(),
    );
    for (const c of plan.complete) notes.push({ kind: 'complete', id: task.id, folder: task.label, remotePath: c.remotePath, file: c.output });
    for (const s of plan.skipped) notes.push({ kind: 'skipped', id: task.id, folder: task.label, remotePath: s.remotePath, reason: s.reason });
    for (const file of plan.files) {
      const { dir: _dir, output: _output, ...rest } = o;
      out.push({
        index: out.length,
        id: newId(),
        url: file.url,
        parsedUrl: new URL(file.url),
        label: redactUrl(file.url),
        // Checked already (the folder's task): the same options, each file its own output.
        options: normalizeOptions({ ...rest, output: file.output }),
      });
    }
  }
  return { tasks: out, notes };
}

/**
 * Tells what `-r` did not download: `complete: FILE (already downloaded)` and `skipped: PATH:
 * REASON` on stderr, or `complete` / `skipped` JSON events on stdout; nothing with `--quiet`.
 */
export function reportFolderNotes(
  notes: readonly FolderNote[],
  mode: CliOptions['mode'],
  out: { stdout: TextOutput; stderr: TextOutput; palette: Palette; redactor: Redactor },
): void {
  for (const note of notes) {
    if (mode === 'quiet') return;
    if (mode === 'json') {
      const event = { type: note.kind, id: note.id, url: note.folder, path: note.remotePath, ...(note.file ? { file: note.file } : {}), ...(note.reason ? { reason: note.reason } : {}) };
      out.stdout.write(`${JSON.stringify(out.redactor.json(event))}\n`);
    } else if (note.kind === 'complete') {
      out.stderr.write(`${out.palette.green('complete:')} ${note.file} (already downloaded)\n`);
    } else {
      // The path is the server's: an unsafe name is skipped for its control characters, which must
      // not reach the terminal either.
      out.stderr.write(`${out.palette.yellow('skipped:')} ${printable(`${out.redactor.text(note.remotePath)}: ${note.reason}`)}\n`);
    }
  }
}
