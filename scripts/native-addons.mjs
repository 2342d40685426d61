#!/usr/bin/env node
// Run by `prepare` (npm install / npm ci), with the repo's Node 24 first on PATH. ssh2 compiles an
// optional native crypto binding at install time, but npm runs that install with the machine's own
// Node and headers, so the binding is missing or built for another Node's ABI, and ssh2 falls back to
// a JavaScript path that made SFTP ~35% slower than OpenSSH's sftp. Rebuild it for the Node that
// runs Multiget. Optional: without a C++ toolchain SFTP still works, only slower, so this never fails
// the install.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const nodeRoot = dirname(dirname(process.execPath));

function bindingLoads() {
  const probe = spawnSync(process.execPath, ['-e', "process.exit(require('ssh2/lib/protocol/crypto.js').bindingAvailable ? 0 : 1)"], {
    cwd: dirname(require.resolve('ssh2/package.json')),
  });
  return probe.status === 0;
}

try {
  require.resolve('ssh2/package.json');
} catch {
  process.exit(0); // SFTP not installed: nothing to build.
}
if (bindingLoads()) process.exit(0);
if (!existsSync(join(nodeRoot, 'include', 'node', 'node.h'))) {
  console.warn(`multiget: no Node headers under ${nodeRoot}; SFTP will use ssh2's slower JavaScript crypto`);
  process.exit(0);
}
const rebuilt = spawnSync('npm', ['rebuild', 'ssh2', `--nodedir=${nodeRoot}`], {
  stdio: ['ignore', 'ignore', 'pipe'],
  encoding: 'utf8',
  env: { ...process.env, npm_config_nodedir: nodeRoot },
});
if (rebuilt.status !== 0 || !bindingLoads()) {
  console.warn('multiget: could not build ssh2\'s native crypto (needs g++, make, python3); SFTP works, but slower');
}
