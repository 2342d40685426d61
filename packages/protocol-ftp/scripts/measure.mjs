#!/usr/bin/env node
// Measures a download of one file from a real vsftpd on 127.0.0.1: multiget (the engine with the
// FTP plugin, 1/4/8 connections), aria2c (1/4/8 connections) and curl (1 connection). Not a test:
// it prints figures. Every run's bytes are checked by SHA-256; a wrong or failed run is reported.
//
//   npm run build && (cd ../../test-servers && npm run build)
//   node scripts/measure.mjs [--size 256M] [--runs 3] [--tls] [--rate 8M] [--dir /dev/shm]
// --rate paces every vsftpd session (anon_max_rate), as a server that limits each connection.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sha256, startVsftpd } from '@multiget/test-servers';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '256M' },
    runs: { type: 'string', default: '3' },
    tls: { type: 'boolean', default: false },
    dir: { type: 'string', default: tmpdir() },
    rate: { type: 'string' },
  },
});
const units = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
const bytes = (text) => Number.parseInt(text, 10) * (units[text.slice(-1).toUpperCase()] ?? 1);
const size = bytes(values.size);
const rate = values.rate === undefined ? undefined : bytes(values.rate);
const runs = Number(values.runs);
const FETCH = fileURLToPath(new URL('./fetch.mjs', import.meta.url));
const spec = { size, seed: 256 };

/** Runs a tool under GNU time (for its CPU seconds) when there is one. */
function run(cmd, args) {
  const timed = existsSync('/usr/bin/time');
  return new Promise((resolve) => {
    const started = performance.now();
    const child = timed
      ? spawn('/usr/bin/time', ['-f', 'CPU %U %S', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => {
      const cpu = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(output);
      resolve({ code, seconds: (performance.now() - started) / 1000, cpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN, output });
    });
  });
}

async function hashFile(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const what = `${values.size} from vsftpd on 127.0.0.1${values.tls ? ' over explicit FTPS' : ''}${rate ? `, each session paced to ${values.rate}/s` : ''}`;
console.log(`preparing ${what} ...`);
const expected = sha256(spec);
const server = await startVsftpd({
  files: { 'big.bin': spec },
  ...(values.tls ? { tls: 'explicit' } : {}),
  ...(rate ? { config: { anon_max_rate: String(rate) } } : {}),
});
const work = await mkdtemp(join(values.dir, 'mg-ftp-measure-'));
const caFile = join(work, 'ca.pem');
if (server.ca !== undefined) await writeFile(caFile, server.ca);
const url = server.url('big.bin');
const tools = [
  ...[1, 4, 8].map((n) => ({ name: `multiget -c${n}`, cmd: process.execPath, args: (dir) => [FETCH, url, dir, String(n), ...(values.tls ? [caFile] : [])] })),
  ...[1, 4, 8].map((n) => ({
    name: `aria2c -x${n}`,
    cmd: 'aria2c',
    args: (dir) => ['--no-conf=true', '-q', `-x${n}`, `-s${n}`, '-k1M', '--file-allocation=none', '--allow-overwrite=true',
      ...(values.tls ? [`--ca-certificate=${caFile}`, '--ftp-pasv=true'] : []), '-d', dir, '-o', 'big.bin', url],
  })),
  { name: 'curl', cmd: 'curl', args: (dir) => ['-q', '-s', '-S', '-f', ...(values.tls ? ['--ssl-reqd', '--cacert', caFile] : []), '-o', join(dir, 'big.bin'), url] },
];
const times = new Map(tools.map((t) => [t.name, []]));
const cpus = new Map(tools.map((t) => [t.name, []]));
try {
  for (let r = 1; r <= runs; r++) {
    for (const tool of tools) {
      const dir = await mkdtemp(join(work, 'out-'));
      const result = await run(tool.cmd, tool.args(dir));
      const ok = result.code === 0 && (await hashFile(join(dir, 'big.bin')).catch(() => '')) === expected;
      console.log(`run ${r} ${tool.name.padEnd(12)} ${ok ? 'ok    ' : 'FAILED'} ${result.seconds.toFixed(2)} s, cpu ${result.cpu.toFixed(2)} s${ok ? '' : `  ${result.output.trim().slice(-300)}`}`);
      if (ok) {
        times.get(tool.name).push(result.seconds);
        cpus.get(tool.name).push(result.cpu);
      }
      await rm(dir, { recursive: true, force: true });
    }
  }
} finally {
  await server.close();
  await rm(work, { recursive: true, force: true });
}
console.log(`\n${what}, median of ${runs} runs:`);
console.log('tool          ok  wall s   MiB/s  cpu s   wall s (each run)');
for (const [name, xs] of times) {
  const m = xs.length ? median(xs) : NaN;
  const c = xs.length ? median(cpus.get(name)) : NaN;
  console.log(`${name.padEnd(13)} ${xs.length}/${runs} ${m.toFixed(2).padStart(6)} ${(size / 1024 ** 2 / m).toFixed(1).padStart(7)} ${c.toFixed(2).padStart(6)}   ${xs.map((x) => x.toFixed(2)).join(' ')}`);
}
