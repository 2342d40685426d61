import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PidLock, isAlive } from '../src/PidLock.js';

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
