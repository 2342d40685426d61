import { metadata } from './metadataCalls.js';

/**
 * Removes a file if it exists. One unlink(2): cheaper than `fs.rm({ force: true })`, which
 * validates and stats first, and it never follows a symlink (it removes the link itself).
 */
export async function removeFile(path: string): Promise<void> {
  try {
    await metadata.unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
