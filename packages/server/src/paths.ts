import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

// One rule for the per-user state directory, in core: the CLI keeps its content store there too.
export { resolveStateDir, type StateDirContext } from '@multiget/core';

/**
 * The download directory when nothing else says: `option` (`--dir`) resolved against the working
 * directory, else `~/Downloads` when it exists, else the working directory.
 */
export function resolveDownloadDir(option: string | undefined, home = homedir(), cwd = process.cwd()): string {
  if (option !== undefined && option !== '') return resolve(cwd, option);
  const downloads = join(home, 'Downloads');
  try {
    if (statSync(downloads).isDirectory()) return downloads;
  } catch {
    // No ~/Downloads: fall through to the working directory.
  }
  return cwd;
}
