import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { downloadV8Flags } from '@multiget/core/v8-tuning';
import { type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AddResult, ListResult, SettingsResult } from '../src/protocol.js';
import { BIN, ServiceProcess, cleanupTempDirs, killAll, serviceEnv, sha256File, tempDir, waitExit } from './helpers.js';

const MiB = 1024 * 1024;

let server: HttpTestServer;
beforeEach(async () => {
  server = await startHttpServer();
});
afterEach(async () => {
  await killAll();
  await server.close();
  await cleanupTempDirs();
});

function run(args: string[], env = serviceEnv()): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 20_000, input: '' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('one state directory, one service', () => {
  it('refuses a second service on the same state directory with MG_ERR_STATE_LOCKED', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    const first = new ServiceProcess(['--state-dir', stateDir, '--dir', dir]);
    await first.initialize();
    const second = new ServiceProcess(['--state-dir', stateDir, '--dir', dir]);
    const exit = await waitExit(second, 15_000);
    expect(exit.code).toBe(8);
    expect(second.stderr).toContain('MG_ERR_STATE_LOCKED');
    expect(second.stderr).toContain(`pid ${first.child.pid}`);
    // The first one is unharmed, and once it has stopped the directory is free again.
    expect((await first.request<ListResult>('multiget/list')).downloads).toEqual([]);
    expect((await first.stop()).code).toBe(0);
    const third = new ServiceProcess(['--state-dir', stateDir, '--dir', dir]);
    await third.initialize();
    expect((await third.stop()).code).toBe(0);
  });
});

describe('stopping', () => {
  it('exits 1 on exit without shutdown, as LSP says', async () => {
    const s = new ServiceProcess(['--state-dir', await tempDir('state'), '--dir', await tempDir('dl')]);
    await s.initialize();
    await s.connection.sendNotification('exit');
    expect((await waitExit(s, 15_000)).code).toBe(1);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops in order on ${signal}: partial data and the queue are kept, and the next start finishes the download`, async () => {
      const stateDir = await tempDir('state');
      const dir = await tempDir('dl');
      const size = 3 * MiB;
      server.addFile('/s.bin', { size, seed: 5 }, { faults: { throttleBytesPerSec: 512 * 1024 } });
      const s = new ServiceProcess(['--state-dir', stateDir, '--dir', dir]);
      await s.initialize();
      const { id } = await s.request<AddResult>('multiget/add', { url: server.url('/s.bin'), connections: 1 });
      await s.waitFor(() => (s.latest().get(id)?.bytes ?? 0) > 256 * 1024, 'some progress');
      const exit = await s.kill(signal);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(s.stderr).toContain(`stopping (${signal})`);
      expect(existsSync(join(stateDir, 'manager.lock'))).toBe(false);
      const queue = JSON.parse(await readFile(join(stateDir, 'queue.json'), 'utf8')) as { entries: Array<{ id: string; state: string }> };
      expect(queue.entries.find((e) => e.id === id)?.state).toBe('downloading');

      const again = new ServiceProcess(['--state-dir', stateDir, '--dir', dir]);
      await again.initialize();
      await again.waitFor(
        async () => (await again.request<ListResult>('multiget/list')).downloads[0]?.state === 'completed',
        'the download to complete',
        60_000,
      );
      expect(await sha256File(join(dir, 's.bin'))).toBe(sha256({ size, seed: 5 }));
      expect((await again.stop()).code).toBe(0);
    });
  }

  it('stops in order when the client closes stdin', async () => {
    const stateDir = await tempDir('state');
    const s = new ServiceProcess(['--state-dir', stateDir, '--dir', await tempDir('dl')]);
    await s.initialize();
    s.child.stdin!.end();
    const exit = await waitExit(s, 15_000);
    expect(exit.signal).toBeNull();
    expect(existsSync(join(stateDir, 'manager.lock'))).toBe(false);
  });

  it('brings unfinished downloads back paused with --restore paused', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    server.addFile('/p.bin', { size: 4 * MiB, seed: 6 }, { faults: { throttleBytesPerSec: 256 * 1024 } });
    const s = new ServiceProcess(['--state-dir', stateDir, '--dir', dir]);
    await s.initialize();
    const { id } = await s.request<AddResult>('multiget/add', { url: server.url('/p.bin') });
    await s.waitFor(() => (s.latest().get(id)?.bytes ?? 0) > 0, 'some progress');
    await s.kill('SIGKILL');
    const again = new ServiceProcess(['--state-dir', stateDir, '--dir', dir, '--restore', 'paused']);
    await again.initialize();
    const { downloads } = await again.request<ListResult>('multiget/list');
    expect(downloads.map((d) => [d.id, d.state])).toEqual([[id, 'paused']]);
  });
});

describe('where state and downloads live', () => {
  it('takes the state directory from MULTIGET_STATE_DIR when --state-dir is not given', async () => {
    const stateDir = await tempDir('state');
    const s = new ServiceProcess(['--dir', await tempDir('dl')], { env: serviceEnv({ MULTIGET_STATE_DIR: stateDir }) });
    expect((await s.initialize()).multiget.stateDir).toBe(stateDir);
    expect(existsSync(join(stateDir, 'manager.lock'))).toBe(true);
  });

  it('defaults to $XDG_STATE_HOME/multiget and ~/Downloads', async () => {
    if (process.platform === 'win32' || process.platform === 'darwin') return;
    const home = await tempDir('home');
    const xdg = await tempDir('xdg');
    await mkdir(join(home, 'Downloads'));
    const s = new ServiceProcess([], { env: serviceEnv({ HOME: home, XDG_STATE_HOME: xdg }) });
    expect((await s.initialize()).multiget.stateDir).toBe(join(xdg, 'multiget'));
    const { settings } = await s.request<SettingsResult>('multiget/getSettings');
    expect(settings.dir).toBe(join(home, 'Downloads'));
  });

  it('keeps a download directory set at run time, unless --dir overrides it', async () => {
    const stateDir = await tempDir('state');
    const chosen = await tempDir('chosen');
    const s = new ServiceProcess(['--state-dir', stateDir, '--dir', await tempDir('dl')]);
    await s.initialize();
    await s.request('multiget/setSettings', { dir: chosen, maxConcurrent: 5 });
    expect((await s.stop()).code).toBe(0);
    const kept = new ServiceProcess(['--state-dir', stateDir], { env: serviceEnv({ HOME: await tempDir('home') }) });
    await kept.initialize();
    expect((await kept.request<SettingsResult>('multiget/getSettings')).settings).toMatchObject({ dir: chosen, maxConcurrent: 5 });
    expect((await kept.stop()).code).toBe(0);
    const other = await tempDir('other');
    const overridden = new ServiceProcess(['--state-dir', stateDir, '--dir', other]);
    await overridden.initialize();
    expect((await overridden.request<SettingsResult>('multiget/getSettings')).settings).toMatchObject({ dir: other, maxConcurrent: 5 });
  });
});

describe('command line', () => {
  it('prints its version and usage, and refuses bad arguments with exit code 2', () => {
    expect(run(['--version'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/^multiget-server \d+\.\d+\.\d+\n$/) });
    expect(run(['--help'])).toMatchObject({ status: 0, stdout: expect.stringContaining('--state-dir') });
    expect(run([])).toMatchObject({ status: 2, stderr: expect.stringContaining('--stdio, --node-ipc or --listen') });
    expect(run(['--stdio', '--idle-exit', '5'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--listen only') });
    expect(run(['--listen', '--idle-exit', 'soon'])).toMatchObject({ status: 2 });
    expect(run(['--stdio', '--frobnicate'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--frobnicate') });
    expect(run(['--stdio', '--node-ipc'])).toMatchObject({ status: 2 });
    expect(run(['--stdio', '--state-dir'])).toMatchObject({ status: 2, stderr: expect.stringContaining('needs a value') });
    expect(run(['--stdio', '--restore', 'later'])).toMatchObject({ status: 2 });
    expect(run(['--stdio', '--clientProcessId=abc'])).toMatchObject({ status: 2 });
    expect(run(['--socket=5000'])).toMatchObject({ status: 2, stderr: expect.stringContaining('not supported') });
  });

  it('refuses a download directory inside the state directory, also through a link', async () => {
    const state = await tempDir('state');
    const link = `${state}-link`;
    await symlink(state, link);
    for (const dir of [state, join(state, 'sub'), join(link, 'sub')]) {
      const r = run(['--stdio', '--state-dir', state, '--dir', dir]);
      expect(r.status, dir).toBe(2);
      expect(r.stderr).toContain('MG_ERR_UNSAFE_PATH');
    }
  });

  it('sets the V8 flags of a process that runs downloads (as `multiget` does), and V8 takes each', async () => {
    // A preload records every v8.setFlagsFromString; V8 reports a flag it does not know on stderr.
    const dir = await tempDir('flags');
    const preload = join(dir, 'flags.cjs');
    await writeFile(preload, "const v8 = require('node:v8'); const set = v8.setFlagsFromString; const seen = []; v8.setFlagsFromString = (f) => { seen.push(f); return set(f); }; process.on('exit', () => process.stderr.write('flags: ' + seen.join(' ') + '\\n'));");
    const r = run(['--version'], serviceEnv({ NODE_OPTIONS: `--require ${preload}` }));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe(`flags: ${downloadV8Flags().join(' ')}\n`);
    expect(downloadV8Flags(24)).toContain('--wasm-tier-up-filter=2147483647');
  });

  it('refuses --node-ipc without an IPC channel', async () => {
    const r = run(['--node-ipc', '--state-dir', await tempDir('state')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('child_process.fork');
    expect(r.stdout).toBe('');
  });
});
