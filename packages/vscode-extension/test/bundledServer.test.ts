// Regression: the service bundled into the extension (dist/server.mjs, ESM) crashed at start once
// SFTP joined it (ssh2 is CommonJS and uses __dirname). Spawn the bundle the way the language client
// does and complete an initialize round trip. (The test task depends on the build.)
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { expect, it } from 'vitest';
import { downloadV8Flags } from '@multiget/core/v8-tuning';
import { openService, startDetachedService } from '@multiget/server/connect';

const BUNDLE = fileURLToPath(new URL('../dist/server.mjs', import.meta.url));

it('the bundled service starts and answers initialize, with every protocol plugin loaded', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mg-bundle-'));
  const child = spawn(process.execPath, [BUNDLE, '--stdio', '--state-dir', join(dir, 'state'), '--dir', dir], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const rpc = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  rpc.listen();
  try {
    const init = await Promise.race([
      rpc.sendRequest<{ multiget?: { schemes: string[] } }>('initialize', { processId: null, rootUri: null, capabilities: {} }),
      new Promise<never>((_, reject) => child.on('exit', (code) => reject(new Error(`the bundle exited with ${code}: ${stderr}`)))),
    ]);
    expect(init.multiget?.schemes.sort()).toEqual(['ftp', 'ftps', 'http', 'https', 'sftp']);
  } finally {
    rpc.dispose();
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

it('the bundled service runs as the shared service: started detached, found through service.json, token required', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mg-bundle-'));
  const stateDir = join(dir, 'state');
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  let pid: number | undefined;
  try {
    const { socket, endpoint, started } = await openService({
      stateDir,
      start: () =>
        startDetachedService({
          execPath: process.execPath,
          args: [BUNDLE, '--listen', '--state-dir', stateDir, '--dir', dir, '--insecure'],
          env: process.env,
          logFile: join(stateDir, 'service.log'),
        }),
    });
    pid = endpoint.pid;
    expect(started).toBe(true);
    const rpc = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
    rpc.listen();
    const init = await rpc.sendRequest<{ multiget?: { schemes: string[]; pid: number } }>('initialize', {
      processId: null,
      rootUri: null,
      capabilities: {},
      initializationOptions: { token: endpoint.token },
    });
    expect(init.multiget?.pid).toBe(pid);
    expect(init.multiget?.schemes.sort()).toEqual(['ftp', 'ftps', 'http', 'https', 'sftp']);
    await rpc.sendRequest('multiget/stopService');
    rpc.dispose();
    const deadline = Date.now() + 20_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
  } finally {
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Regression: undici loaded by a runtime `require` of a computed path stayed out of the bundle; in
// the installed extension (no node_modules beside it) every HTTP request then failed as a lost
// connection. The bundle is copied where no node_modules can be found, and downloads a real file.
it('the bundled service downloads over HTTP from a folder without node_modules', async () => {
  const { startHttpServer, sha256 } = await import('@multiget/test-servers');
  const { copyFile, readFile } = await import('node:fs/promises');
  const { createHash } = await import('node:crypto');
  const server = await startHttpServer();
  const content = { size: 3 * 1024 * 1024, seed: 77 };
  server.addFile('/bundle.bin', content);
  const dir = await mkdtemp(join(tmpdir(), 'mg-bundle-alone-'));
  const alone = join(dir, 'server.mjs');
  await copyFile(BUNDLE, alone);
  const child = spawn(process.execPath, [alone, '--stdio', '--state-dir', join(dir, 'state'), '--dir', dir], { stdio: ['pipe', 'pipe', 'pipe'], cwd: dir });
  const rpc = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  rpc.listen();
  try {
    await rpc.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} });
    const { id } = await rpc.sendRequest<{ id: string }>('multiget/add', { url: server.url('/bundle.bin'), output: 'bundle.bin' });
    let state = '';
    let error: unknown;
    for (let i = 0; i < 300 && state !== 'completed' && state !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const { downloads } = await rpc.sendRequest<{ downloads: Array<{ id: string; state: string; error: unknown }> }>('multiget/list');
      const d = downloads.find((x) => x.id === id);
      state = d?.state ?? '';
      error = d?.error;
    }
    expect({ state, error }).toEqual({ state: 'completed', error: null });
    expect(createHash('sha256').update(await readFile(join(dir, 'bundle.bin'))).digest('hex')).toBe(sha256(content));
  } finally {
    rpc.dispose();
    child.kill('SIGKILL');
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it('the bundled service sets the V8 flags of a process that runs downloads, as `multiget` does', async () => {
  // A preload records every v8.setFlagsFromString; V8 reports a flag it does not know on stderr.
  const dir = await mkdtemp(join(tmpdir(), 'mg-bundle-'));
  try {
    const preload = join(dir, 'flags.cjs');
    await writeFile(preload, "const v8 = require('node:v8'); const set = v8.setFlagsFromString; const seen = []; v8.setFlagsFromString = (f) => { seen.push(f); return set(f); }; process.on('exit', () => process.stderr.write('flags: ' + seen.join(' ') + '\\n'));");
    const r = spawnSync(process.execPath, [BUNDLE, '--version'], { env: { ...process.env, NODE_OPTIONS: `--require ${preload}` }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^multiget-server \d+\.\d+\.\d+\n$/);
    expect(r.stderr).toBe(`flags: ${downloadV8Flags().join(' ')}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
