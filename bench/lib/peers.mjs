// Finds the peer tools (aria2c, axel, curl, nginx, GNU time) and, as root, installs the missing ones
// from Debian. apt is the only network the benchmark ever uses.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, writeFileSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Absolute path of an executable on PATH (or in the sbin folders nginx lives in), or undefined. */
export function which(name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** GNU time, not the shell keyword nor BSD time: it must understand -f and -o. */
function gnuTime() {
  for (const candidate of ['/usr/bin/time', which('time')]) {
    if (candidate === undefined || !existsSync(candidate)) continue;
    const probe = spawnSync(candidate, ['-f', '%M', 'true'], { encoding: 'utf8', timeout: 5000 });
    if (probe.status === 0 && /^\d+\s*$/.test(probe.stderr.trim().split('\n').pop() ?? '')) return candidate;
  }
  return undefined;
}

function locate() {
  return { aria2c: which('aria2c'), axel: which('axel'), curl: which('curl'), nginx: which('nginx'), time: gnuTime() };
}

function run(cmd, args, env) {
  console.log(`  $ ${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env }, timeout: 10 * 60_000 });
  return result.status === 0;
}

function aptHas(pkg) {
  const r = spawnSync('apt-cache', ['show', '--no-all-versions', pkg], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 && /^Package:/m.test(r.stdout);
}

/**
 * Returns the paths of the peers, installing the missing ones with apt-get when allowed and root.
 * A peer that is still missing is undefined; the caller skips what needs it.
 */
export function ensurePeers({ install }) {
  let found = locate();
  const missing = [];
  if (!found.aria2c) missing.push('aria2');
  if (!found.axel) missing.push('axel');
  if (!found.curl) missing.push('curl');
  if (!found.nginx) missing.push('nginx');
  if (!found.time) missing.push('time');
  if (missing.length === 0) {
    console.log('Peers present: aria2c, axel, curl, nginx, GNU time (nothing to install).');
    return found;
  }
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = which('apt-get');
  if (!install || !root || !apt) {
    const why = !install ? '--no-install' : !root ? 'not root' : 'no apt-get';
    console.log(`Missing peers (${missing.join(', ')}); not installing (${why}). Whatever needs them is skipped.`);
    return found;
  }
  console.log(`Installing missing peers from Debian: ${missing.join(', ')}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  // The nginx package starts a system nginx on port 80 after installing unless policy-rc.d forbids
  // it; we want only our own instance, so forbid it for the duration when no policy exists.
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  try {
    if (ownPolicy) writeFileSync(policy, '#!/bin/sh\n# written by multiget bench/run.mjs while installing; removed after\nexit 101\n', { mode: 0o755 });
    run(apt, ['update'], env);
    const packages = missing.map((p) => (p === 'nginx' ? (aptHas('nginx-light') ? 'nginx-light' : 'nginx') : p));
    console.log(`Installing: ${packages.join(' ')}`);
    if (!run(apt, ['install', '-y', '--no-install-recommends', ...packages], env)) {
      console.log('apt-get install failed; continuing with what is present.');
    }
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
  found = locate();
  const still = Object.entries(found).filter(([, v]) => !v).map(([k]) => k);
  if (still.length > 0) console.log(`Still missing after install: ${still.join(', ')}`);
  return found;
}

/** First line of a tool's version output, for the results file. */
export function versionOf(cmd, args) {
  if (!cmd) return undefined;
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return text.split('\n')[0] || undefined;
}
