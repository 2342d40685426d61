// Crash torture: a real `multiget` process is killed with SIGKILL at random points of one download
// (no chance to save anything), run again each time, and must end with the exact bytes. Over HTTP
// (test-servers), FTP against a real vsftpd and SFTP against a real OpenSSH sshd. The bytes each
// kill cost (claimed on disk before the kill but fetched again after it) are printed per kill.
import { join } from 'node:path';
import {
  type GeneratedContent,
  sha256,
  startHttpServer,
  startOpenSshServer,
  startVsftpd,
} from '@multiget/test-servers';
import { afterAll, describe, expect, it } from 'vitest';
import { Cleanup, type CliEvent, cliEnv, fileSha256 } from './helpers.js';

const MiB = 1024 * 1024;
/** Kills per protocol; each at a random moment of a run that is still downloading. */
const KILLS = 5;
const SIZE = 32 * MiB + 12345;
/** Client-side rate limit: a whole run takes about 8 s, so kills land all over the file. */
const RATE = '4M';

const cleanup = new Cleanup();
afterAll(() => cleanup.dispose());

/** A small seeded PRNG: the kill points of a failing run can be replayed with MULTIGET_TORTURE_SEED. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const seed = Number(process.env.MULTIGET_TORTURE_SEED ?? Date.now() % 1_000_000);
const random = prng(seed);

interface Target {
  url: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Kills the CLI KILLS times at random points, then lets it finish; returns the bytes each kill
 * cost. Every run is the same command in the same directory, as a user would retype it.
 */
async function torture(name: string, target: Target, content: GeneratedContent): Promise<void> {
  const dir = await cleanup.tempDir();
  const args = ['--json', '-c', '4', '--min-split-size', '512K', '--limit-rate', RATE, '-o', 'out.bin', ...target.args, target.url];
  const options = { cwd: dir, env: target.env ?? cliEnv() };
  const lines: string[] = [];
  let lastDone = 0;
  for (let kill = 1; kill <= KILLS + 1; kill++) {
    const p = cleanup.start(args, options);
    const events = (): CliEvent[] => p.events();
    if (kill <= KILLS) {
      // Wait for the transfer to be under way, then a random moment more: before the first
      // checkpoint (1 s) sometimes, mostly after it, mid-write always.
      await p.waitFor(() => events().some((e) => e.type === 'progress'), 'the first progress event');
      await new Promise((resolve) => setTimeout(resolve, 300 + random() * 1700));
      p.kill('SIGKILL');
      const r = await p.exited;
      const start = events().find((e) => e.type === 'start');
      const progress = events().filter((e) => e.type === 'progress');
      const resumed = Number(start?.resumedBytes ?? 0);
      if (r.signal !== 'SIGKILL') {
        // It finished before the kill: nothing more to torture.
        expect(r.code, r.stderr).toBe(0);
        break;
      }
      lines.push(
        `${name} kill ${kill}: resumed ${fmt(resumed)} of the ${fmt(lastDone)} on disk at the last kill ` +
          `(re-fetched ${fmt(Math.max(0, lastDone - resumed))}), killed at ≥ ${fmt(Number(progress.at(-1)?.bytesDone ?? resumed))}`,
      );
      lastDone = Number(progress.at(-1)?.bytesDone ?? resumed);
      continue;
    }
    const r = await p.exited;
    expect(r.code, r.stderr).toBe(0);
    const start = events().find((e) => e.type === 'start');
    const resumed = Number(start?.resumedBytes ?? 0);
    lines.push(`${name} final run: resumed ${fmt(resumed)} of the ${fmt(lastDone)} on disk (re-fetched ${fmt(Math.max(0, lastDone - resumed))})`);
  }
  console.log(`crash torture (seed ${seed}):\n  ${lines.join('\n  ')}`);
  expect(await fileSha256(join(dir, 'out.bin'))).toBe(sha256(content));
}

function fmt(n: number): string {
  return `${(n / MiB).toFixed(2)} MiB`;
}

describe('SIGKILL at random points, then the same command again, ends exact', () => {
  it('over HTTP', async () => {
    const server = cleanup.server(await startHttpServer());
    const content = { size: SIZE, seed: 31 };
    server.addFile('/t.bin', content);
    await torture('HTTP', { url: server.url('/t.bin'), args: [] }, content);
  });

  it('over FTP against vsftpd', async () => {
    const content = { size: SIZE, seed: 32 };
    const server = cleanup.server(await startVsftpd({ files: { 't.bin': content } }));
    await torture('FTP', { url: server.url('t.bin'), args: [] }, content);
  });

  it('over SFTP against OpenSSH', async () => {
    const server = cleanup.server(await startOpenSshServer());
    const content = { size: SIZE, seed: 33 };
    const path = await server.writeFile('t.bin', content);
    const dir = await cleanup.tempDir();
    await torture(
      'SFTP',
      {
        url: server.url(path),
        args: ['--ssh-key', server.userKeyPath, '--known-hosts', server.knownHostsPath],
        // An empty HOME and no agent: nothing of the machine's user leaks in.
        env: cliEnv({ HOME: dir, SSH_AUTH_SOCK: '' }),
      },
      content,
    );
  });
});
