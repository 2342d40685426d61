#!/usr/bin/env node
// `npm run bench`: multiget against aria2c, axel and curl on a local nginx and on the Node test
// server with faults, on vsftpd, and against OpenSSH's sftp on sshd. See bench/README.md for what
// each profile measures and how to read the output.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, statfsSync, writeFileSync } from 'node:fs';
import { cpus, hostname, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readOptions, USAGE } from './lib/args.mjs';
import { MANY_FILES, writeFileSet, writeGenerated } from './lib/files.mjs';
import { timedRun, syncDisks } from './lib/measure.mjs';
import { startNginx } from './lib/nginx.mjs';
import { ensurePeers, versionOf } from './lib/peers.mjs';
import { cleanupAll, cleanupAllSync, registerTempDir, removeTempDir } from './lib/procs.mjs';
import { bestPeer, formatBestTable, formatProfile, ratios, summarise } from './lib/report.mjs';
import { shebangOf } from './lib/shebang.mjs';
import { startTestServer } from './lib/testServer.mjs';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
// The executable users run (it turns on V8's compile cache, then imports dist/cli.js); node is named
// explicitly, with the environment and the options of the executable's shebang (see commandFor), so
// that the repository's Node runs it.
const CLI = join(ROOT, 'packages/cli/bin/multiget.js');
const BUILT = join(ROOT, 'packages/cli/dist/cli.js');
const TEST_SERVERS = join(ROOT, 'test-servers/dist/index.js');
const RESULTS_DIR = join(ROOT, 'bench/results');

/** Per-connection rate of the throttled profile, bytes per second (8 MB/s, decimal). */
const THROTTLE = 8_000_000;
const DROP_AFTER = 8 * MiB;
/** The cuts-4m profile: every response longer than this is cut after this many body bytes. */
const CUT_AFTER = 4 * MiB;
/** The cap-503 profile: responses beyond this many at once get 503 with Retry-After: 1. */
const CONNECTION_CAP = 4;
/** The slow-one profile: the SLOW_NTH request of a run is paced to SLOW_RATE, the others to THROTTLE. */
const SLOW_NTH = 3;
const SLOW_RATE = 200_000;
/** The mirrors profile: each of two servers takes this many responses at once (503 beyond). */
const MIRROR_CAP = 4;
/** One-way delay of the sftp-latency profile's relay, in milliseconds. */
const SFTP_DELAY_MS = 10;

const PROFILES = {
  unthrottled: {
    description: 'raw throughput and CPU cost of a local transfer (nginx, sendfile, 127.0.0.1)',
    defaultSize: GiB,
    server: 'nginx',
  },
  throttled: {
    description: `16 connections each paced to ${THROTTLE / 1e6} MB/s with 20 ms latency: how close to the ideal a tool gets`,
    defaultSize: 256 * MiB,
    server: 'test',
    faults: { throttleBytesPerSec: THROTTLE, latencyMs: 20 },
  },
  many: {
    description: 'many files through the queue: 1,000 of 64 KiB and 20 of 32 MiB, 8 at a time (-j 8), from nginx',
    defaultSize: MANY_FILES.reduce((n, g) => n + g.count * g.size, 0),
    server: 'nginx',
    files: MANY_FILES,
    tools: ['multiget', 'aria2c'],
  },
  ftp: {
    description: 'FTP from a real vsftpd on 127.0.0.1 (passive mode, REST ranges)',
    defaultSize: 256 * MiB,
    server: 'vsftpd',
  },
  sftp: {
    description: 'SFTP from a real OpenSSH sshd on 127.0.0.1 (key login, known host), against OpenSSH sftp',
    defaultSize: 256 * MiB,
    server: 'sshd',
    // aria2c's SFTP logs in with a password only; this sshd accepts the generated key only.
    tools: ['multiget', 'sftp'],
  },
  'sftp-latency': {
    description: `SFTP from OpenSSH sshd behind a relay adding ${SFTP_DELAY_MS} ms each way (a ${2 * SFTP_DELAY_MS} ms round trip), against OpenSSH sftp`,
    defaultSize: 256 * MiB,
    server: 'sshd',
    relayDelayMs: SFTP_DELAY_MS,
    tools: ['multiget', 'sftp'],
  },
  drops: {
    description: `every response cut after ${DROP_AFTER / MiB} MiB of body: recovery from dropped connections`,
    defaultSize: 256 * MiB,
    server: 'test',
    faults: { dropAfterBytes: DROP_AFTER },
    resilient: true,
  },
  'no-ranges': {
    description: 'the server ignores Range and answers 200 with the whole body (while advertising Accept-Ranges): one stream',
    defaultSize: 256 * MiB,
    server: 'test',
    faults: { refuseRanges: true },
  },
  'cuts-4m': {
    description: `every response cut after ${CUT_AFTER / MiB} MiB of body: many short-lived connections`,
    defaultSize: 256 * MiB,
    server: 'test',
    faults: { dropAfterBytes: CUT_AFTER },
    resilient: true,
  },
  'cap-503': {
    description: `the server answers 503 (Retry-After: 1) to responses beyond ${CONNECTION_CAP} at once: a per-client connection cap`,
    defaultSize: 256 * MiB,
    server: 'test',
    faults: { maxConnections: CONNECTION_CAP },
    resilient: true,
  },
  'slow-one': {
    description: `as throttled (${THROTTLE / 1e6} MB/s per connection, 20 ms), but request ${SLOW_NTH} of each run is paced to ${SLOW_RATE / 1000} kB/s: one slow connection among fast ones`,
    defaultSize: 256 * MiB,
    server: 'test',
    faults: { throttleBytesPerSec: THROTTLE, latencyMs: 20, slowRequest: { nth: SLOW_NTH, bytesPerSec: SLOW_RATE } },
  },
  mirrors: {
    description: `one file from two servers, each ${MIRROR_CAP} connections at most (503 beyond) of ${THROTTLE / 1e6} MB/s with 20 ms latency; one server alone allows ${(MIRROR_CAP * THROTTLE) / 1e6} MB/s, both together twice that (curl reads from one)`,
    defaultSize: 256 * MiB,
    server: 'test',
    mirrors: 2,
    faults: { throttleBytesPerSec: THROTTLE, latencyMs: 20, maxConnections: MIRROR_CAP },
    resilient: true,
    tools: ['multiget', 'aria2c', 'axel', 'curl'],
  },
};

/** Profiles whose ideal time is size / (16 x THROTTLE): every connection paced, none wasted. */
const PACED = new Set(['throttled', 'slow-one']);

/** The command line of each tool; `file` is absolute, in a fresh folder of its own. */
function commandFor(tool, profile, opts) {
  const argv = toolCommand(tool, profile, opts);
  if (tool !== 'multiget' && tool !== 'baseline') return argv;
  // multiget runs as users run it: with what its shebang sets (a baseline checkout's own), the
  // content store on (it records every finished file), with a state folder of its own per run:
  // nothing is copied from an earlier run, every round transfers. argv is [node, bin, ...args].
  const { env, nodeOptions } = shebangOf(argv[1]);
  return ['/usr/bin/env', `MULTIGET_STATE_DIR=${opts.stateDir}`, ...env, argv[0], ...nodeOptions, ...argv.slice(1)];
}

function toolCommand(tool, profile, { url, axelUrl, mirrorUrl, file, dir, name, node, peers, list, size, baselineCli }) {
  if (tool === 'baseline') {
    return toolCommand('multiget', profile, { url, axelUrl, mirrorUrl, file, dir, name, node, peers, list, size })
      .map((arg) => (arg === CLI ? baselineCli : arg));
  }
  if (profile === 'mirrors') {
    // Every tool that can read one file from several URLs gets both; curl reads from the first.
    switch (tool) {
      case 'multiget':
        return [node, CLI, '--same-file', url, mirrorUrl, '-d', dir, '-o', name, '-c', '16', '-q', '--retries', '50'];
      case 'aria2c':
        return [peers.aria2c, '--no-conf=true', '-q', '-x16', '-s16', '-k1M', '--file-allocation=none', '--allow-overwrite=true',
          '--auto-file-renaming=false', '--max-tries=0', '-d', dir, '-o', name, url, mirrorUrl];
      case 'axel':
        return ['/usr/bin/env', `HOME=${dirname(dir)}`, peers.axel, '-n', '16', '-q', '-o', file, url, mirrorUrl];
      default:
        break;
    }
  }
  // Profiles that cut or refuse connections: every tool is told to keep retrying.
  const resilient = PROFILES[profile].resilient === true;
  if (profile === 'sftp' || profile === 'sftp-latency') {
    const { sshd, remote } = url;
    if (tool === 'multiget') {
      // 8 transfers over the SFTP plugin's default pool of 2 connections x 2 channels (see its README).
      return [node, CLI, sshd.url(remote), '--ssh-key', sshd.userKeyPath, '--known-hosts', sshd.knownHostsPath,
        '-d', dir, '-o', name, '-c', '8', '-q'];
    }
    return ['/bin/sh', '-c', 'printf "get %s %s\\n" "$1" "$2" | sftp -q -b - -i "$3" -P "$4" -o UserKnownHostsFile="$5" -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes "$6@127.0.0.1"',
      'sftp-get', remote, file, sshd.userKeyPath, String(sshd.port), sshd.knownHostsPath, sshd.username];
  }
  if (profile === 'many') {
    // The same limits for both: 8 downloads at once, up to 8 connections each.
    if (tool === 'multiget') return [node, CLI, '-i', list, '-j', '8', '-c', '8', '-d', dir, '-q'];
    return [peers.aria2c, '--no-conf=true', '-q', '-i', list, '-j', '8', '-x8', '-s8', '-k1M', '--file-allocation=none',
      '--allow-overwrite=true', '--auto-file-renaming=false', '-d', dir];
  }
  switch (tool) {
    case 'multiget':
      return [node, CLI, url, '-d', dir, '-o', name, '-c', '16', '-q', ...(resilient ? ['--retries', '50'] : [])];
    case 'aria2c':
      return [peers.aria2c, '--no-conf=true', '-q', '-x16', '-s16', '-k1M', '--file-allocation=none',
        '--allow-overwrite=true', '--auto-file-renaming=false', ...(resilient ? ['--max-tries=0'] : []), '-d', dir, '-o', name, url];
    case 'axel':
      // axel has no retry option: it reconnects a cut or refused connection by itself. HOME points
      // at the bench's temporary folder so that no ~/.axelrc changes its settings (like aria2c's
      // --no-conf and curl's -q); /etc/axelrc, if any, still applies. Through env, which execs axel,
      // GNU time still measures axel itself.
      return ['/usr/bin/env', `HOME=${dirname(dir)}`, peers.axel, '-n', '16', '-q', '-o', file, axelUrl ?? url];
    case 'curl':
      // -q (must be first) ignores ~/.curlrc. curl's own --retry truncates the file before every
      // retry even with -C - (curl/curl#1084, #18035; curl 7.88 here), so with drops it would never
      // finish: resume with a shell loop instead, the workaround curl's maintainers point to.
      if (resilient) {
        // Enough attempts for one cut per CUT_AFTER bytes, with a margin.
        const attempts = String(Math.ceil(size / CUT_AFTER) + 100);
        return ['/bin/sh', '-c', 'n=0; until "$0" -q -s -S -f -C - -o "$1" "$2"; do n=$((n+1)); [ "$n" -lt "$3" ] || exit 1; done',
          peers.curl, file, url, attempts];
      }
      return [peers.curl, '-q', '-s', '-S', '-f', '-o', file, url];
    default:
      throw new Error(`unknown tool ${tool}`);
  }
}

/**
 * The order of the tools in run `run` (from 1). Each run starts three tools further down the list,
 * and every other run goes through it backwards: on this VM a tool's speed depends on the one
 * before it (writes of 1 MiB are slow after a tool that wrote in small pieces; see
 * bench/README.md), so no tool may always follow the same one (multiget in three runs: the last
 * tool of the profile before, the baseline, curl; the baseline: multiget, aria2c, axel). Two tools
 * simply take turns.
 */
function runOrder(tools, run) {
  if (tools.length <= 2) return run % 2 === 1 ? [...tools] : [...tools].reverse();
  const first = ((run - 1) * 3) % tools.length;
  const rotated = [...tools.slice(first), ...tools.slice(0, first)];
  return run % 2 === 0 ? rotated.reverse() : rotated;
}

/** Deadline of one run: generous, so only a hung tool hits it. */
function timeoutFor(profile, size) {
  if (profile === 'throttled') return Math.ceil((size / THROTTLE) * 2.5 * 1000) + 60_000; // curl: 1 connection
  if (profile === 'slow-one') {
    // Also long enough for a tool that leaves its 1/16 share on the slow connection.
    return Math.max(Math.ceil((size / THROTTLE) * 2.5 * 1000), Math.ceil((size / 16 / SLOW_RATE) * 1.5 * 1000)) + 60_000;
  }
  if (PROFILES[profile].resilient) return Math.ceil((size / (20 * MiB)) * 1000) + 120_000;
  return Math.ceil((size / (20 * MiB)) * 1000) + 60_000; // >= 20 MiB/s
}

function pickNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 19)) return process.execPath;
  const local = join(ROOT, 'node_modules/.bin/node');
  if (existsSync(local)) return local;
  throw new Error(`multiget needs Node >= 22.19; this is ${process.version} and ${local} is missing`);
}

function gitInfo() {
  const commit = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() || undefined;
  const dirty = (spawnSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).stdout ?? '').trim().length > 0;
  return { commit, dirty };
}

/** The statistics of two test servers as one: numbers added, objects merged field by field. */
function sumStats(a, b) {
  if (a === undefined || b === undefined) return a ?? b;
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (typeof v === 'number' && typeof out[k] === 'number') out[k] += v;
    else if (v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object') out[k] = sumStats(out[k], v);
  }
  return out;
}

const fmt = (x, d = 2) => (x === undefined ? '?' : x.toFixed(d));

async function runProfile(name, options, ctx) {
  const def = PROFILES[name];
  const size = options.size ?? def.defaultSize;
  // A profile with its own peers (sftp) runs them unless --tools names others.
  const listed = def.tools ? def.tools.filter((t) => options.tools.includes(t) || t === 'sftp') : options.tools;
  // --baseline: the other checkout's multiget runs right after this one, wherever multiget runs.
  const wanted = options.baseline !== undefined ? listed.flatMap((t) => (t === 'multiget' ? ['multiget', 'baseline'] : [t])) : listed;
  const tools = wanted.filter((t) => ctx.available[t]);
  const skipped = wanted.filter((t) => !ctx.available[t]);
  const notes = skipped.map((t) => `${t} skipped: ${ctx.available.why[t]}`);
  const record = {
    name,
    description: def.description,
    size,
    server: { nginx: 'nginx on 127.0.0.1', vsftpd: 'vsftpd on 127.0.0.1', sshd: 'OpenSSH sshd on 127.0.0.1', test: 'the Node test server (@multiget/test-servers) on 127.0.0.1' }[def.server],
    faults: def.faults,
    runsPerTool: options.runs,
    perConnectionBytesPerSec: PACED.has(name) ? THROTTLE : undefined,
    idealSeconds: PACED.has(name) ? size / (16 * THROTTLE) : undefined,
    commands: {},
    runs: [],
    summaries: [],
    ratios: [],
    notes,
  };
  console.log(`\n== ${name}: ${def.description}`);
  if (def.server === 'sshd' && !existsSync('/usr/sbin/sshd')) {
    record.notes.push('profile skipped: OpenSSH sshd is not installed');
    console.log('   skipped: sshd is not installed (apt-get install openssh-server openssh-client)');
    return record;
  }
  if (def.server === 'vsftpd' && !existsSync('/usr/sbin/vsftpd')) {
    record.notes.push('profile skipped: vsftpd is not installed');
    console.log('   skipped: vsftpd is not installed (apt-get install vsftpd)');
    return record;
  }
  if (def.server === 'nginx' && !ctx.peers.nginx) {
    record.notes.push('profile skipped: nginx is not installed');
    console.log('   skipped: nginx is not installed');
    return record;
  }
  if (tools.length === 0) {
    record.notes.push('profile skipped: no tool to run');
    return record;
  }
  const profileDir = registerTempDir(mkdtempSync(join(ctx.tmpRoot, `${name}-`)));
  let server;
  try {
    let url;
    let expected;
    const started = Date.now();
    let list;
    let axelUrl;
    let mirrorUrl;
    let mirror;
    if (def.files) {
      const www = join(profileDir, 'www');
      mkdirSync(www);
      const files = await writeFileSet(www, def.files);
      expected = { size, files };
      server = await startNginx({ nginx: ctx.peers.nginx, workDir: join(profileDir, 'nginx'), docRoot: www, workers: 1 });
      list = join(profileDir, 'urls.txt');
      writeFileSync(list, files.map((f) => `${server.origin}/${f.name}\n`).join(''));
      url = `${server.origin}/ (${files.length} files)`;
    } else if (def.server === 'sshd') {
      const { startOpenSshServer, sha256 } = await import(TEST_SERVERS);
      expected = { size, sha256: sha256({ size, seed: 4 }) };
      const sshd = await startOpenSshServer();
      const remote = await sshd.writeFile('file.bin', { size, seed: 4 });
      server = { stop: () => sshd.close() };
      url = { sshd, remote, toString: () => sshd.url(remote) };
      if (def.relayDelayMs !== undefined) {
        // The same sshd, reached through a relay that delays every byte: a distant server.
        const { startLatencyRelay } = await import(TEST_SERVERS);
        const relay = await startLatencyRelay({ target: { host: sshd.host, port: sshd.port }, delayMs: def.relayDelayMs });
        const knownHostsPath = join(profileDir, 'known_hosts_relay');
        writeFileSync(knownHostsPath, `[127.0.0.1]:${relay.port} ${sshd.hostKey.publicKey}\n`);
        const far = { ...sshd, port: relay.port, knownHostsPath, userKeyPath: sshd.userKeyPath, username: sshd.username, url: (path) => `sftp://${sshd.username}@127.0.0.1:${relay.port}${path}` };
        server = { stop: async () => { await relay.close(); await sshd.close(); } };
        url = { sshd: far, remote, toString: () => `${far.url(remote)} (relay +${def.relayDelayMs} ms each way -> sshd :${sshd.port})` };
      }
    } else if (def.server === 'vsftpd') {
      const { startVsftpd, sha256 } = await import(TEST_SERVERS);
      expected = { size, sha256: sha256({ size, seed: 3 }) };
      const vsftpd = await startVsftpd({ files: { 'file.bin': { size, seed: 3 } } });
      server = { stop: () => vsftpd.close() };
      url = vsftpd.url('file.bin');
      // axel sends `CWD /` (the URL's path taken as absolute); this vsftpd runs as the launching
      // user and cannot chroot, so its "/" is the machine's root: axel gets the anonymous root's
      // absolute path instead, which names the same file.
      axelUrl = `${vsftpd.origin}${vsftpd.root.split('/').map(encodeURIComponent).join('/')}/file.bin`;
    } else if (def.server === 'nginx') {
      const www = join(profileDir, 'www');
      mkdirSync(www);
      const fileName = `file-${size}.bin`;
      expected = { size, sha256: await writeGenerated(join(www, fileName), size, 2) };
      server = await startNginx({ nginx: ctx.peers.nginx, workDir: join(profileDir, 'nginx'), docRoot: www, workers: 1 });
      url = `${server.origin}/${fileName}`;
    } else {
      const { sha256 } = await import(TEST_SERVERS);
      expected = { size, sha256: sha256({ size, seed: 1 }) };
      server = await startTestServer({ node: ctx.node, path: `/file-${size}.bin`, size, seed: 1, faults: def.faults });
      url = server.url;
      if (def.mirrors) {
        mirror = await startTestServer({ node: ctx.node, path: `/file-${size}.bin`, size, seed: 1, faults: def.faults });
        mirrorUrl = mirror.url;
        const first = server;
        // One server for the loop below: faults reset and statistics summed over both.
        server = {
          url,
          stop: async () => {
            await first.stop();
            await mirror.stop();
          },
          resetFaults: async () => {
            await first.resetFaults();
            await mirror.resetFaults();
          },
          stats: async () => sumStats(await first.stats(), await mirror.stats()),
        };
      }
    }
    console.log(`   ${fmt(size / MiB, 0)} MiB at ${url} (ready in ${fmt((Date.now() - started) / 1000, 1)} s), ${expected.sha256 ? `sha256 ${expected.sha256.slice(0, 16)}...` : `${expected.files.length} files`}`);
    if (record.idealSeconds) console.log(`   ideal: ${fmt(record.idealSeconds)} s`);
    const timeoutMs = timeoutFor(name, size);
    for (let run = 1; run <= options.runs; run++) {
      for (const tool of runOrder(tools, run)) {
        if (ctx.interrupted) return record;
        const dir = mkdtempSync(join(ctx.tmpRoot, `out-${name}-${run}-${tool}-`));
        registerTempDir(dir);
        const outName = `download-${size}.bin`;
        const file = join(dir, outName);
        const stateDir = registerTempDir(`${dir}-state`);
        const argv = commandFor(tool, name, { url, axelUrl, mirrorUrl, file, dir, stateDir, name: outName, node: ctx.node, peers: ctx.peers, list, size, baselineCli: ctx.baselineCli });
        record.commands[tool] ??= argv.join(' ');
        if (def.server === 'test') await server.resetFaults();
        syncDisks();
        const result = await timedRun({ time: ctx.peers.time, argv, outFile: def.files ? dir : file, expected, timeoutMs, workDir: ctx.tmpRoot, label: `${name}-${run}-${tool}` });
        removeTempDir(dir);
        removeTempDir(stateDir);
        const stats = def.server === 'test' ? await server.stats() : undefined;
        record.runs.push({ run, tool, ...result, server: stats });
        const served = stats ? `  (server, this run: ${serverLine(stats)}; ${stats.connections} connections since start)` : '';
        console.log(`   run ${run}/${options.runs} ${tool.padEnd(8)} ${result.ok ? 'ok    ' : 'FAILED'} wall ${fmt(result.wall)} s  cpu ${fmt(result.cpu)} s  rss ${fmt(result.maxRssKiB / 1024, 0)} MiB${served}`);
        if (!result.ok) console.log(`      ${result.error}`);
      }
    }
  } finally {
    if (server) await server.stop();
    removeTempDir(profileDir);
  }
  record.summaries = tools.map((tool) => summarise(tool, record.runs.filter((r) => r.tool === tool), size, record.idealSeconds));
  record.ratios = ratios(record.summaries);
  record.best = bestPeer(record.summaries);
  return record;
}

/** What the test server did during one run: requests, and how many met each fault. */
function serverLine(stats) {
  const parts = [`${stats.requests} requests`];
  if (stats.dropped) parts.push(`${stats.dropped} cut`);
  if (stats.refused) parts.push(`${stats.refused} refused (503)`);
  if (stats.slow) parts.push(`${stats.slow} slow`);
  if (stats.ignoredRange) parts.push(`${stats.ignoredRange} Range ignored`);
  return parts.join(', ');
}

function writeResults(results) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${results.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

async function main() {
  let options;
  try {
    options = readOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const node = pickNode();
  if (options.tools.includes('multiget') && !existsSync(BUILT)) {
    console.error(`${BUILT} is missing: build first (npm run build).`);
    process.exit(1);
  }
  if (!existsSync(TEST_SERVERS)) {
    console.error(`${TEST_SERVERS} is missing: build first (npm run build).`);
    process.exit(1);
  }
  const peers = ensurePeers({ install: options.install });
  if (!peers.time) {
    console.error('GNU time (/usr/bin/time, Debian package "time") is required for CPU and RSS figures.');
    process.exit(1);
  }
  let baselineCli;
  if (options.baseline !== undefined) {
    baselineCli = join(options.baseline, 'packages/cli/bin/multiget.js');
    if (!existsSync(join(options.baseline, 'packages/cli/dist/cli.js'))) {
      console.error(`--baseline ${options.baseline}: no built multiget there (packages/cli/dist/cli.js is missing).`);
      process.exit(1);
    }
  }
  const available = {
    multiget: true,
    baseline: baselineCli !== undefined,
    aria2c: Boolean(peers.aria2c),
    axel: Boolean(peers.axel),
    curl: Boolean(peers.curl),
    sftp: existsSync('/usr/bin/sftp'),
    why: { aria2c: 'aria2c is not installed', axel: 'axel is not installed', curl: 'curl is not installed', sftp: 'OpenSSH sftp is not installed' },
  };

  const tmpRoot = registerTempDir(mkdtempSync(join(tmpdir(), 'multiget-bench-')));
  // Room for the nginx source and one download at a time, with a margin.
  const biggest = Math.max(...options.profiles.map((p) => options.size ?? PROFILES[p].defaultSize));
  try {
    const fs = statfsSync(tmpRoot);
    const free = fs.bavail * fs.bsize;
    if (free < 2 * biggest + 512 * MiB) {
      console.error(`Not enough space in ${tmpdir()}: ${fmt(free / GiB)} GiB free, ${fmt((2 * biggest + 512 * MiB) / GiB)} GiB needed.`);
      process.exit(1);
    }
  } catch {
    // statfs unsupported: go on
  }

  const results = {
    startedAt: new Date().toISOString(),
    options: { profiles: options.profiles, runs: options.runs, size: options.size, tools: options.tools, baseline: options.baseline },
    host: {
      hostname: hostname(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGiB: Number((totalmem() / GiB).toFixed(1)),
      kernel: release(),
      tmpdir: tmpdir(),
    },
    versions: {
      node: spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim(),
      multiget: options.tools.includes('multiget') ? versionOf(node, [CLI, '--version']) : undefined,
      baseline: baselineCli === undefined ? undefined : { path: options.baseline, version: versionOf(node, [baselineCli, '--version']) },
      aria2c: versionOf(peers.aria2c, ['--version']),
      axel: versionOf(peers.axel, ['--version']),
      curl: versionOf(peers.curl, ['--version']),
      nginx: versionOf(peers.nginx, ['-v']),
    },
    git: gitInfo(),
    profiles: [],
  };
  const ctx = { node, peers, available, tmpRoot, interrupted: false, baselineCli };

  let stopping = false;
  const onSignal = (signal) => {
    if (stopping) {
      cleanupAllSync();
      process.exit(130);
    }
    stopping = true;
    ctx.interrupted = true;
    console.log(`\n${signal}: stopping tools and servers, removing temporary files...`);
    const hard = setTimeout(() => { cleanupAllSync(); process.exit(130); }, 10_000);
    hard.unref();
    void cleanupAll().finally(() => {
      results.interrupted = true;
      if (results.profiles.length > 0) console.log(`partial results: ${writeResults(results)}`);
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('exit', cleanupAllSync);

  console.log(`Node ${results.versions.node} (${node}); multiget ${results.versions.multiget ?? '-'}; ${results.versions.aria2c ?? 'no aria2c'}; ${results.versions.axel ?? 'no axel'}; ${(results.versions.curl ?? 'no curl').split(' ').slice(0, 2).join(' ')}; ${results.versions.nginx ?? 'no nginx'}`);
  console.log(`${results.host.cpus} CPU(s) ${results.host.cpuModel}; temporary files in ${tmpRoot}`);
  const began = Date.now();
  try {
    for (const name of options.profiles) {
      const record = await runProfile(name, options, ctx);
      if (ctx.interrupted) return;
      results.profiles.push(record);
      writeResults(results);
    }
  } finally {
    if (!ctx.interrupted) await cleanupAll();
  }
  results.finishedAt = new Date().toISOString();
  console.log(`\nResults (${fmt((Date.now() - began) / 60000, 1)} min). wall/cpu: GNU time of the client process only; MiB/s = MiB per median wall second.\n`);
  for (const p of results.profiles) console.log(`${formatProfile(p)}\n`);
  console.log(`${formatBestTable(results.profiles)}\n`);
  console.log(`JSON: ${writeResults(results)}`);
  const failed = results.profiles.some((p) => p.runs.some((r) => !r.ok));
  if (failed) process.exitCode = 1;
}

await main().catch(async (error) => {
  console.error(error?.stack ?? String(error));
  await cleanupAll();
  process.exit(1);
});
