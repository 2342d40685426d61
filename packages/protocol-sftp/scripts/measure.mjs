#!/usr/bin/env node
// Measures SFTP download throughput against a real OpenSSH sshd on loopback: multiget (in this
// process, through the engine) for a matrix of SSH connections x SFTP channels per connection,
// and OpenSSH's own `sftp` get (and aria2c, which can only log in with a password, so it is
// measured against the in-process ssh2 test server when asked). Prints one line per run and a
// table of medians. Needs `npm run build` in test-servers and this package first.
//
//   node scripts/measure.mjs [--size 256M] [--runs 3] [--matrix 1x1,2x1,4x1,1x4,2x2,4x2]
//                            [--streams N] [--read-size BYTES] [--read-ahead BYTES] [--dir DIR] [--no-sftp]
//                            [--ciphers a:b] [--macs a:b]
//
// Without --streams the engine runs connections x channels transfers (one per channel).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Multiget } from '@multiget/core';
import { sha256, startOpenSshServer } from '@multiget/test-servers';
import { SftpPlugin, nativeCryptoAvailable } from '../dist/index.js';

const MiB = 1024 * 1024;
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '256M' },
    runs: { type: 'string', default: '3' },
    matrix: { type: 'string', default: '1x1,1x2,1x4,2x1,2x2,2x4,4x1,4x2,8x1' },
    streams: { type: 'string' },
    'read-size': { type: 'string' },
    'read-ahead': { type: 'string' },
    dir: { type: 'string' },
    'no-sftp': { type: 'boolean', default: false },
    ciphers: { type: 'string' },
    macs: { type: 'string' },
  },
});

function bytes(text) {
  const m = /^(\d+)([KMG]?)$/i.exec(text);
  if (!m) throw new Error(`bad size ${text}`);
  return Number(m[1]) * { '': 1, K: 1024, M: MiB, G: 1024 * MiB }[m[2].toUpperCase()];
}

const size = bytes(values.size);
const runs = Number(values.runs);
const spec = { size, seed: 4242 };
const expected = sha256(spec);

async function hashFile(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

function median(list) {
  const s = [...list].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

function run(command, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${stderr.trim()}`))));
  });
}

const sshd = await startOpenSshServer();
const out = await mkdtemp(join(values.dir ?? tmpdir(), 'mg-sftp-measure-'));
const rows = [];
try {
  const remote = await sshd.writeFile('big.bin', spec);
  const url = sshd.url(remote);
  console.log(`${size / MiB} MiB from OpenSSH on 127.0.0.1:${sshd.port}, ${runs} runs each, into ${out}; ssh2 native crypto: ${nativeCryptoAvailable() ? 'yes' : 'no'}`);

  // Every tool runs once per round (A B C, A B C, ...), so a slow drift of the machine hits all alike.
  const tools = [];
  const measure = (label, once) => tools.push({ label, once, times: [], cpus: [] });

  for (const cell of values.matrix.split(',')) {
    const [c, ch] = cell.split('x').map(Number);
    const streams = values.streams === undefined ? c * ch : Number(values.streams);
    const options = {
      knownHosts: sshd.knownHostsPath,
      privateKey: sshd.userKeyPath,
      agent: false,
      connectionsPerHost: c,
      channelsPerConnection: ch,
      ...(values['read-size'] ? { readSize: bytes(values['read-size']) } : {}),
      ...(values['read-ahead'] ? { readAheadBytes: bytes(values['read-ahead']) } : {}),
      ...(values.ciphers ? { ciphers: values.ciphers.split(':') } : {}),
      ...(values.macs ? { macs: values.macs.split(':') } : {}),
    };
    measure(`multiget ${c} conn x ${ch} ch, ${streams} streams`, async (file) => {
      const mg = new Multiget({ plugins: [new SftpPlugin(options)], connections: streams, maxConnectionsPerHost: 64 });
      try {
        await mg.download(url, { output: file, overwrite: true }).done;
      } finally {
        await mg.close();
      }
    });
  }

  if (!values['no-sftp']) {
    for (const [label, extra] of [
      ['sftp (defaults: -B 32768 -R 64)', []],
      ['sftp -R 256 -B 262144', ['-R', '256', '-B', '262144']],
    ]) {
      measure(label, async (file) => {
        const batch = join(out, 'batch');
        await writeFile(batch, `get ${remote} ${file}\n`);
        await run(
          'sftp',
          ['-q', ...extra, '-b', batch, '-i', sshd.userKeyPath, '-P', String(sshd.port),
            '-o', `UserKnownHostsFile=${sshd.knownHostsPath}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
            '-o', 'IdentitiesOnly=yes', `${sshd.username}@127.0.0.1`],
          600_000,
        );
      });
    }
  }
  for (let i = 0; i < runs; i++) {
    // Other work on the machine skews every figure: wait a little (bounded) for a calmer moment.
    for (let waited = 0; loadavg()[0] > 1.5 && waited < 30; waited++) await new Promise((r) => setTimeout(r, 1000));
    for (const tool of tools) {
      const file = join(out, `${tool.label.replace(/[^\w.-]/g, '_')}-${i}.bin`);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await tool.once(file);
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const ok = i > 0 || (await hashFile(file)) === expected;
      await rm(file, { force: true });
      if (!ok) throw new Error(`${tool.label}: wrong bytes`);
      tool.times.push(seconds);
      tool.cpus.push((cpu.user + cpu.system) / 1e6);
      console.log(`  ${tool.label.padEnd(40)} run ${i + 1}: ${seconds.toFixed(2)} s  ${(size / MiB / seconds).toFixed(0)} MiB/s  (load ${loadavg()[0].toFixed(1)})`);
    }
  }
  for (const tool of tools) rows.push({ label: tool.label, seconds: median(tool.times), cpu: median(tool.cpus), all: tool.times });
} finally {
  await sshd.close();
  await rm(out, { recursive: true, force: true });
}

console.log('\nmedians');
console.log(`${'tool'.padEnd(40)} ${'wall s'.padStart(7)} ${'MiB/s'.padStart(6)} ${'best s'.padStart(7)} ${'cpu s (this process)'.padStart(21)}  wall s (each run)`);
for (const r of rows) {
  const cpu = r.label.startsWith('sftp') ? '' : r.cpu.toFixed(2);
  console.log(`${r.label.padEnd(40)} ${r.seconds.toFixed(2).padStart(7)} ${(size / MiB / r.seconds).toFixed(0).padStart(6)} ${Math.min(...r.all).toFixed(2).padStart(7)} ${cpu.padStart(21)}  ${r.all.map((t) => t.toFixed(2)).join(' ')}`);
}
