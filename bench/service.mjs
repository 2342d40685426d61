#!/usr/bin/env node
// The VS Code extension's service on a list of files: its bundled service
// (packages/vscode-extension/dist/server.mjs) started as the extension starts it (MALLOC_ARENA_MAX=1,
// --max-semi-space-size=1, the transport on stdio), given the bench's `many` files (1,000 of 64 KiB
// and 20 of 32 MiB, from nginx on 127.0.0.1) with `multiget/addMany`, 8 downloads at once and 8
// connections each. Prints, per run and as medians: the time from the first add to the last
// download's end, the service's CPU seconds and its peak RSS (Linux: /proc/PID/stat and status).
// Every file is checked by size and sha256. A comparison, never a timed test.
//
//   node bench/service.mjs [--runs N] [--baseline DIR]
//
// --baseline DIR: a built checkout whose bundle runs interleaved with this tree's, as in run.mjs.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { MANY_FILES, writeFileSet } from './lib/files.mjs';
import { checkFiles } from './lib/measure.mjs';
import { startNginx } from './lib/nginx.mjs';
import { which } from './lib/peers.mjs';
import { registerTempDir, removeTempDir, cleanupAll } from './lib/procs.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'packages/server/package.json'));
const { createMessageConnection, StreamMessageReader, StreamMessageWriter } = require('vscode-jsonrpc/node');

function parseArgs(argv) {
  const options = { runs: 3, baseline: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') options.runs = Math.max(1, Number(argv[++i]) || 1);
    else if (argv[i] === '--baseline') options.baseline = resolve(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]} (see the comment at the top of bench/service.mjs)`);
  }
  return options;
}

/** CPU seconds (user + system) and peak RSS in MiB of a live process. */
function usage(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  return { cpu: (Number(fields[11]) + Number(fields[12])) / 100, rssMiB: hwm / 1024 };
}

/** One run of a bundle on the files: resolves with its figures once every download ended. */
async function runOnce(bundle, files, origin, workDir) {
  const base = mkdtempSync(join(workDir, 'run-'));
  registerTempDir(base);
  const out = join(base, 'dl');
  const child = spawn(process.execPath, ['--max-semi-space-size=1', bundle, '--stdio', '--state-dir', join(base, 'state'), '--dir', out], {
    stdio: ['pipe', 'pipe', 'ignore'],
    env: { ...process.env, MALLOC_ARENA_MAX: '1' },
  });
  const rpc = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  let ended = 0;
  let failed = 0;
  let allEnded;
  const done = new Promise((r) => (allEnded = r));
  rpc.onNotification('multiget/historyAdded', (p) => {
    ended++;
    if (p.entry.state !== 'completed') failed++;
    if (ended === files.length) allEnded(performance.now());
  });
  rpc.listen();
  try {
    await rpc.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} });
    rpc.sendNotification('initialized', {});
    await rpc.sendRequest('multiget/setSettings', { maxConcurrent: 8, connections: 8 });
    const started = performance.now();
    for (let i = 0; i < files.length; i += 1000) {
      await rpc.sendRequest('multiget/addMany', { items: files.slice(i, i + 1000).map((f) => ({ url: `${origin}/${f.name}` })) });
    }
    const deadline = setTimeout(() => allEnded(undefined), 600_000);
    const finished = await done;
    clearTimeout(deadline);
    if (finished === undefined) throw new Error(`timed out with ${ended} of ${files.length} downloads ended`);
    const { cpu, rssMiB } = usage(child.pid);
    const error = failed > 0 ? `${failed} downloads did not complete` : (await checkFiles(out, files)).error;
    return { wall: (finished - started) / 1000, cpu, rssMiB, error };
  } finally {
    rpc.dispose();
    child.kill('SIGKILL');
    removeTempDir(base);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const bundles = { multiget: join(ROOT, 'packages/vscode-extension/dist/server.mjs') };
  if (options.baseline) bundles.baseline = join(options.baseline, 'packages/vscode-extension/dist/server.mjs');
  for (const [name, path] of Object.entries(bundles)) if (!existsSync(path)) throw new Error(`${name}: ${path} is missing (npm run build there)`);
  const nginx = which('nginx');
  if (!nginx) throw new Error('nginx is not installed (apt-get install nginx-light)');
  const workDir = registerTempDir(mkdtempSync(join(tmpdir(), 'multiget-service-bench-')));
  const www = join(workDir, 'www');
  mkdirSync(www);
  const files = await writeFileSet(www, MANY_FILES);
  const server = await startNginx({ nginx, workDir: join(workDir, 'nginx'), docRoot: www, workers: 1 });
  const results = Object.fromEntries(Object.keys(bundles).map((k) => [k, []]));
  try {
    console.log(`${files.length} files from nginx on 127.0.0.1, ${options.runs} run(s) per bundle; temporary files in ${workDir}`);
    for (let run = 1; run <= options.runs; run++) {
      const order = run % 2 === 1 ? Object.keys(bundles) : Object.keys(bundles).reverse();
      for (const name of order) {
        const r = await runOnce(bundles[name], files, server.origin, workDir);
        results[name].push(r);
        console.log(`   run ${run}/${options.runs} ${name.padEnd(8)} ${r.error ? `FAILED (${r.error})` : 'ok    '} wall ${r.wall.toFixed(2)} s  cpu ${r.cpu.toFixed(2)} s  rss ${r.rssMiB.toFixed(0)} MiB`);
      }
    }
  } finally {
    await server.stop();
  }
  console.log('\nservice    wall s (median)  cpu s (median)  peak RSS MiB (highest)');
  for (const [name, rs] of Object.entries(results)) {
    const ok = rs.filter((r) => !r.error);
    if (ok.length === 0) {
      console.log(`${name.padEnd(9)}  no good run`);
      continue;
    }
    console.log(`${name.padEnd(9)}  ${median(ok.map((r) => r.wall)).toFixed(2).padStart(15)}  ${median(ok.map((r) => r.cpu)).toFixed(2).padStart(14)}  ${Math.max(...ok.map((r) => r.rssMiB)).toFixed(0).padStart(22)}`);
  }
  return Object.values(results).flat().some((r) => r.error) ? 1 : 0;
}

main().then(
  async (code) => {
    await cleanupAll();
    process.exit(code);
  },
  async (err) => {
    process.stderr.write(`bench/service.mjs: ${err instanceof Error ? err.message : String(err)}\n`);
    await cleanupAll();
    process.exit(2);
  },
);
