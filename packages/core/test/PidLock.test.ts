import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PidLock, isAlive } from '../src/storage/PidLock.js';

let dir: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-lock-'));
});

afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

/**
 * A process that exited and is never reaped. `sh` starts a background subshell blocked on reading
 * a pipe, prints its pid and replaces itself with `sleep`, which never waits for children. The
 * subshell is released only once /proc shows that the exec happened: had it exited earlier, `sh`
 * could have reaped it before the exec (that race made this test fail about 3 times in 20).
 * Resolves once /proc shows the subshell as a zombie (bounded).
 */
async function makeZombie(): Promise<number> {
  // fd 3: stdin duplicated, because the stdin of an asynchronous list is /dev/null in sh.
  const parent = spawn('sh', ['-c', 'exec 3<&0; (read -r line <&3) & echo $!; exec sleep 60'], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(parent);
  const pid = await new Promise<number>((resolve, reject) => {
    parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    parent.once('error', reject);
  });
  await until(async () => (await readFile(`/proc/${parent.pid}/comm`, 'latin1').catch(() => '')).trim() === 'sleep', `sh ${parent.pid} did not exec sleep`);
  parent.stdin.write('go\n');
  await until(async () => /\) Z /.test(await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => '')), `process ${pid} did not become a zombie`);
  return pid;
}

async function until(test: () => Promise<boolean>, failure: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await test()) return;
    await sleep(10);
  }
  throw new Error(failure);
}

describe('PidLock', () => {
  it('counts running processes as alive and missing or invalid pids as gone', () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(process.ppid)).toBe(true);
    expect(isAlive(2 ** 22 + 4321)).toBe(false);
    expect(isAlive(0)).toBe(false);
    expect(isAlive(-1)).toBe(false);
    expect(isAlive(1.5)).toBe(false);
  });

  it.runIf(process.platform === 'linux')('counts a zombie (exited, never reaped) as gone and takes over its lock', async () => {
    const zombie = await makeZombie();
    expect(isAlive(zombie)).toBe(false);

    const path = join(dir, 'file.bin.mglock');
    await writeFile(path, JSON.stringify({ pid: zombie, host: hostname(), detail: 'killed run' }));
    const lock = new PidLock(path);
    expect(await lock.acquire('this run')).toBeUndefined();
    expect(lock.held).toBe(true);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid, detail: 'this run' });
    await lock.release();
  });

  it('refuses a lock held by a live process and leaves its file alone', async () => {
    const path = join(dir, 'file.bin.mglock');
    const holder = { pid: process.ppid, host: hostname(), detail: 'other run' };
    await writeFile(path, JSON.stringify(holder));
    const lock = new PidLock(path);
    expect(await lock.acquire()).toEqual(holder);
    expect(lock.held).toBe(false);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(holder);
  });
});

describe('PidLock within one process', () => {
  it('gives a lock of this process to one PidLock at a time, also when several ask at once, and takes over a file of its pid that none holds', async () => {
    const path = join(dir, 'g.bin.mglock');
    const [a, b, c] = [new PidLock(path), new PidLock(join(dir, '.', 'g.bin.mglock')), new PidLock(path)];
    // Asked together: the file names this very process either way, yet only one may hold it.
    const answers = await Promise.all([a.acquire('first'), b.acquire('second'), c.acquire('third')]);
    expect(answers.filter((h) => h === undefined)).toHaveLength(1);
    const winner = [a, b, c].find((l) => l.held)!;
    const winnerDetail = JSON.parse(await readFile(path, 'utf8')).detail as string;
    for (const h of answers) if (h !== undefined) expect(h).toEqual({ pid: process.pid, host: hostname(), detail: winnerDetail });
    // The file is left alone while it is held, and free once released.
    const loser = [a, b, c].find((l) => !l.held)!;
    expect(await loser.acquire('again')).toMatchObject({ pid: process.pid, detail: winnerDetail });
    await winner.release();
    expect(await loser.acquire('again')).toBeUndefined();
    await loser.release();
    // A file naming this pid that no PidLock of this process holds (a former process that had the
    // same pid) is stale.
    await writeFile(path, JSON.stringify({ pid: process.pid, host: hostname(), detail: 'former' }));
    expect(await a.acquire('now')).toBeUndefined();
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ detail: 'now' });
    await a.release();
  });
});

describe('PidLock and a lock being written', () => {
  it('counts a new lock file it cannot read yet as held, and an old unreadable one as stale', async () => {
    const path = join(dir, 'f.bin.mglock');
    // Another process has just created the lock and not yet written its holder into it.
    await writeFile(path, '');
    const refused = await new PidLock(path).acquire();
    expect(refused).toEqual({ pid: -1, host: 'unknown' });
    expect(await readFile(path, 'utf8')).toBe('');
    // Left like that by a crash long ago: taken over.
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    const lock = new PidLock(path);
    expect(await lock.acquire()).toBeUndefined();
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    // Nothing of the lock's making is left beside it.
    expect((await readdir(dir)).sort()).toEqual(['f.bin.mglock']);
    await lock.release();
  });
});

describe('PidLock under contention', () => {
  // Several processes race for one lock, released by one line on stdin at once. A lock file that
  // another process had created but not yet filled used to look "unreadable", hence stale, and was
  // taken over: two holders. The holder keeps the lock until every racer has answered.
  it.runIf(process.platform !== 'win32')('gives a lock to exactly one of several processes that take it at the same moment', async () => {
    const lockModule = new URL('../dist/index.js', import.meta.url).href;
    const script = `
      import { PidLock } from ${JSON.stringify(lockModule)};
      const lock = new PidLock(process.argv[1]);
      process.stdin.once('data', async () => {
        const holder = await lock.acquire();
        process.stdout.write(holder === undefined ? 'held\\n' : 'refused\\n');
        if (holder !== undefined) process.exit(0);
        // The holder keeps the lock until every racer has answered (the test's second line), so a
        // racer slowed down by a loaded machine still meets a held lock, never a released one.
        process.stdin.once('data', async () => { await lock.release(); process.exit(0); });
      });`;
    for (let round = 0; round < 12; round++) {
      const path = join(dir, `round-${round}.mglock`);
      const racers = Array.from({ length: 6 }, () => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, path], { stdio: ['pipe', 'pipe', 'inherit'] });
        // A racer that was refused exits at once: a later write to its stdin may meet a closed pipe.
        child.stdin!.on('error', () => undefined);
        children.push(child);
        return child;
      });
      const answers = racers.map(
        (child) =>
          new Promise<string>((resolve) => {
            let out = '';
            child.stdout!.on('data', (d: Buffer) => {
              out += d.toString();
              if (out.includes('\n')) resolve(out.trim());
            });
            child.once('exit', () => resolve(out.trim()));
          }),
      );
      // Every racer is up and listening before the start signal.
      await sleep(300);
      for (const child of racers) child.stdin!.write('go\n');
      const results = await Promise.all(answers);
      for (const child of racers) if (child.exitCode === null) child.stdin!.write('end\n');
      expect(results.filter((r) => r === 'held'), `round ${round}: ${results.join(', ')}`).toHaveLength(1);
    }
  }, 60_000);
});
