import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Driver-test helpers come from core's kit for plugin authors; the names stay what these tests use.
export {
  createJob as makeJob,
  probeWith as probed,
  readSource as readAll,
  rejectionOf as rejection,
  rangeRequest as rangeOf,
} from '@multiget/core/testing';

/** A temporary home directory with an empty `.ssh` (mode 700), removed by `dispose`. */
export interface TempHome {
  readonly path: string;
  readonly ssh: string;
  /** Writes `~/.ssh/known_hosts` (replacing it). */
  knownHosts(...lines: string[]): Promise<string>;
  /** Writes a file under `~/.ssh` with mode 600. */
  sshFile(name: string, content: string): Promise<string>;
  dispose(): Promise<void>;
}

export async function tempHome(): Promise<TempHome> {
  const path = await mkdtemp(join(tmpdir(), 'mg-sftp-home-'));
  const ssh = join(path, '.ssh');
  await mkdir(ssh, { mode: 0o700 });
  return {
    path,
    ssh,
    async knownHosts(...lines: string[]) {
      const file = join(ssh, 'known_hosts');
      await writeFile(file, lines.map((l) => `${l}\n`).join(''));
      return file;
    },
    async sshFile(name: string, content: string) {
      const file = join(ssh, name);
      await writeFile(file, content, { mode: 0o600 });
      return file;
    },
    dispose: () => rm(path, { recursive: true, force: true }),
  };
}
