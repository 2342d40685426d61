// `npm run demo`: downloads a generated 256 MiB file from a local test server with the multiget
// command, throttled per connection so the live display stays on screen for a few seconds, then
// checks the bytes. Needs a build first (`npm install` runs it; else `npm run build`).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../packages/cli/dist/cli.js', import.meta.url));
const FILE = { size: 256 * 1024 * 1024, seed: 2024 };
const BYTES_PER_SEC_PER_CONNECTION = 4_000_000;
const CONNECTIONS = 8;

if (!existsSync(CLI)) {
  console.error(`demo: ${CLI} is missing; run "npm run build" first.`);
  process.exit(1);
}
let servers;
try {
  servers = await import('@multiget/test-servers');
} catch (err) {
  console.error(`demo: cannot load @multiget/test-servers (${err.message}); run "npm run build" first.`);
  process.exit(1);
}
const { startHttpServer, sha256 } = servers;

const server = await startHttpServer();
const dir = await mkdtemp(join(tmpdir(), 'multiget-demo-'));
let exitCode = 1;
try {
  server.addFile('/multiget-demo.bin', FILE, { faults: { throttleBytesPerSec: BYTES_PER_SEC_PER_CONNECTION } });
  const url = server.url('/multiget-demo.bin');
  console.log(`demo: serving 256 MiB at ${url}, at most ${BYTES_PER_SEC_PER_CONNECTION / 1e6} MB/s per connection`);
  console.log(`demo: multiget -c ${CONNECTIONS} -d ${dir} ${url}\n`);

  // Ctrl-C reaches the whole process group: let multiget handle it (it saves its state and exits
  // 130), and clean up here afterwards instead of dying first.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  const child = spawn(process.execPath, [CLI, '-c', String(CONNECTIONS), '--no-proxy', '-d', dir, url], { stdio: 'inherit' });
  const [code, signal] = await new Promise((resolve) => child.once('close', (c, s) => resolve([c, s])));
  process.off('SIGINT', ignore);
  process.off('SIGTERM', ignore);
  exitCode = code ?? 1;

  if (code !== 0) {
    console.error(`\ndemo: multiget exited with ${signal ?? code}`);
  } else {
    const file = join(dir, 'multiget-demo.bin');
    const [actual, expected] = [await hashFile(file), sha256(FILE)];
    console.log(`\ndemo: sha256 ${actual}`);
    if (actual === expected) console.log('demo: sha256 matches the served content');
    else {
      console.error(`demo: sha256 MISMATCH, expected ${expected}`);
      exitCode = 1;
    }
    console.log(`demo: the file was ${file} (removed with its temporary directory now)`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
  await server.close();
}
process.exitCode = exitCode;

async function hashFile(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}
