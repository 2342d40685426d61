// Every process and temporary folder the benchmark creates is registered here, so that a normal
// end, an error and Ctrl-C all stop the same things, each with a bounded wait.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

const groups = new Set();
const tempDirs = new Set();

/**
 * Spawns `cmd` as the leader of a new process group (so its children, nginx workers or the tool
 * under GNU time, can be signalled together) and registers it until it exits.
 */
export function spawnGroup(cmd, args, options = {}) {
  const child = spawn(cmd, args, { ...options, detached: true });
  groups.add(child);
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  void child.exited.then(() => groups.delete(child));
  return child;
}

function signalGroup(child, signal) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function within(promise, ms) {
  let timer;
  return Promise.race([promise.then(() => true), new Promise((resolve) => { timer = setTimeout(() => resolve(false), ms); })])
    .finally(() => clearTimeout(timer));
}

/** Asks a process group to stop with `signal`, then kills it if it has not exited after `graceMs`. */
export async function stopGroup(child, signal = 'SIGTERM', graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) {
    signalGroup(child, 'SIGKILL'); // stray grandchildren of a finished leader
    return;
  }
  signalGroup(child, signal);
  if (await within(child.exited, graceMs)) {
    signalGroup(child, 'SIGKILL');
    return;
  }
  signalGroup(child, 'SIGKILL');
  await within(child.exited, 2000);
}

/** A temporary folder removed by {@link cleanupAll}. */
export function registerTempDir(dir) {
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Stops every registered process group (bounded) and removes every temporary folder. */
export async function cleanupAll() {
  await Promise.all([...groups].map((child) => stopGroup(child, 'SIGTERM', 3000)));
  cleanupAllSync();
}

/** Last resort from a process 'exit' handler: synchronous, so only SIGKILL and rmSync. */
export function cleanupAllSync() {
  for (const child of groups) signalGroup(child, 'SIGKILL');
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
  tempDirs.clear();
}
