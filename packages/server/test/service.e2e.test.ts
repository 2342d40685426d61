import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { STATE_SUFFIX } from '@multiget/core';
import { type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AddResult, DownloadInfo, DownloadInfoResult, ListResult, ProgressParams } from '../src/protocol.js';
import { ServiceProcess, cleanupTempDirs, killAll, sha256File, tempDir } from './helpers.js';

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

describe('a client process driving the service process', () => {
  it('downloads several files with coalesced progress, pause/resume, and survives SIGKILL with exact bytes', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    // Paced so that every download is still running when the service is killed: each of two
    // connections gets 384 KiB/s, so 6 MiB take about 8 s.
    const files = [0, 1, 2, 3].map((i) => ({ path: `/f${i}.bin`, size: 6 * MiB + i * 1000, seed: 10 + i }));
    for (const f of files) server.addFile(f.path, { size: f.size, seed: f.seed }, { faults: { throttleBytesPerSec: 384 * 1024 } });

    const first = new ServiceProcess(['--state-dir', stateDir, '--dir', dir]);
    const init = await first.initialize();
    expect(init.serverInfo.name).toBe('multiget-server');
    expect(init.multiget.schemes).toEqual(expect.arrayContaining(['http', 'https']));
    expect(init.multiget.stateDir).toBe(stateDir);
    await first.request('multiget/setSettings', { maxConcurrent: 4 });

    const ids: string[] = [];
    for (const [i, f] of files.entries()) {
      const added = await first.request<AddResult>('multiget/add', { url: server.url(f.path), output: `f${i}.bin`, connections: 2 });
      expect(added.download.file).toBe(join(dir, `f${i}.bin`));
      ids.push(added.id);
    }

    // Progress: one notification lists every active download, so their number does not multiply
    // the rate. Counted over a window of several seconds, with a generous bound.
    await first.waitFor(() => {
      const seen = first.latest();
      return ids.every((id) => (seen.get(id)?.bytes ?? 0) > 0);
    }, 'every download to make progress');
    const windowStart = performance.now();
    const before = first.received<ProgressParams>('multiget/progress').length;
    await new Promise((r) => setTimeout(r, 2500));
    const progress = first.received<ProgressParams>('multiget/progress');
    const elapsed = (performance.now() - windowStart) / 1000;
    const inWindow = progress.length - before;
    expect(inWindow).toBeGreaterThan(0);
    expect(inWindow).toBeLessThanOrEqual(Math.ceil(elapsed * 5) + 2);
    expect(Math.max(...progress.map((p) => p.params.downloads.length))).toBe(ids.length);
    for (const p of progress) for (const d of p.params.downloads) expect(['probing', 'downloading', 'verifying']).toContain(d.state);

    // Pause one: it stops and keeps its bytes; resume: it goes on from there.
    const paused = await first.request<DownloadInfoResult>('multiget/pause', { id: ids[0] });
    expect(paused.download.state).toBe('paused');
    await first.waitFor(
      () => first.received<{ download: DownloadInfo }>('multiget/changed').some((c) => c.params.download.id === ids[0] && c.params.download.state === 'paused'),
      'a changed notification for the pause',
    );
    const pausedBytes = (await first.request<DownloadInfoResult>('multiget/get', { id: ids[0] })).download.bytes;
    expect(pausedBytes).toBeGreaterThan(0);
    expect(pausedBytes).toBeLessThan(files[0]!.size);
    const resumed = await first.request<DownloadInfoResult>('multiget/resume', { id: ids[0] });
    expect(['queued', 'probing', 'downloading']).toContain(resumed.download.state);
    await first.waitFor(
      async () => (await first.request<DownloadInfoResult>('multiget/get', { id: ids[0] })).download.bytes > pausedBytes,
      'the resumed download to go on',
    );

    // SIGKILL mid-download: no chance to write anything on the way out.
    const listed = await first.request<ListResult>('multiget/list');
    expect(listed.downloads.map((d) => d.id).sort()).toEqual([...ids].sort());
    expect(listed.downloads.filter((d) => d.state === 'completed').length).toBeLessThan(ids.length);
    expect((await first.kill('SIGKILL')).signal).toBe('SIGKILL');
    const requestsBeforeKill = files.map((f) => server.requests(f.path).length);
    // What each sidecar state file claims is on disk: where the next run must pick up.
    const claimed = await Promise.all(
      files.map(async (_, i) => {
        const state = JSON.parse(await readFile(join(dir, `f${i}.bin${STATE_SUFFIX}`), 'utf8')) as { segments: Array<[number, number, number]> };
        return state.segments.filter(([start, end, pos]) => pos > start && pos < end).map(([, , pos]) => pos);
      }),
    );
    expect(claimed.flat().length).toBeGreaterThan(0);
    expect(first.readerErrors).toEqual([]);

    const second = new ServiceProcess(['--state-dir', stateDir, '--dir', dir]);
    await second.initialize();
    const known = await second.request<ListResult>('multiget/list');
    expect(known.downloads.map((d) => d.id).sort()).toEqual([...ids].sort());
    await second.waitFor(
      async () => (await second.request<ListResult>('multiget/list')).downloads.every((d) => d.state === 'completed'),
      'every download to complete after the restart',
      60_000,
    );
    const done = await second.request<ListResult>('multiget/list');
    for (const [i, f] of files.entries()) {
      const d = done.downloads.find((x) => x.id === ids[i])!;
      expect(d.bytes).toBe(f.size);
      expect(d.total).toBe(f.size);
      expect(await sha256File(join(dir, `f${i}.bin`))).toBe(sha256({ size: f.size, seed: f.seed }));
    }
    // Resumed, not started over: the second service asked for each partly done segment from
    // where the first one's state file said it stood. (How many bytes it pulled in all is the
    // subject of test/regressions/resumeProbe.test.ts.)
    for (const [i, f] of files.entries()) {
      const ranges = server.requests(f.path).slice(requestsBeforeKill[i]).map((r) => r.headers['range'] ?? '');
      for (const pos of claimed[i]!) expect(ranges.some((r) => r.startsWith(`bytes=${pos}-`))).toBe(true);
    }
    // Only the finished files: no second copy (renamed target) and no temporary or state files.
    expect((await readdir(dir)).sort()).toEqual(files.map((_, i) => `f${i}.bin`));
    expect(second.readerErrors).toEqual([]);
    expect((await second.stop()).code).toBe(0);
    expect(existsSync(join(stateDir, 'manager.lock'))).toBe(false);
  });

  it('serves over node IPC as vscode-languageclient starts it (fork, --node-ipc, --clientProcessId)', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    server.addFile('/ipc.bin', { size: 2 * MiB, seed: 7 });
    const svc = new ServiceProcess(['--state-dir', stateDir, '--dir', dir, `--clientProcessId=${process.pid}`], { transport: 'node-ipc' });
    const init = await svc.initialize();
    expect(init.multiget.pid).toBe(svc.child.pid);
    const { id } = await svc.request<AddResult>('multiget/add', { url: server.url('/ipc.bin') });
    await svc.waitFor(
      () => svc.received<{ download: DownloadInfo }>('multiget/changed').some((c) => c.params.download.id === id && c.params.download.state === 'completed'),
      'the completed notification',
    );
    const { download } = await svc.request<DownloadInfoResult>('multiget/get', { id });
    expect(download.file).toBe(join(dir, 'ipc.bin'));
    expect(await sha256File(download.file!)).toBe(sha256({ size: 2 * MiB, seed: 7 }));
    expect(svc.received('multiget/historyAdded')).toHaveLength(1);
    expect((await svc.stop()).code).toBe(0);
  });

  it('stops in order when the client closes the IPC channel, releasing the lock', async () => {
    const stateDir = await tempDir('state');
    const svc = new ServiceProcess(['--state-dir', stateDir, '--dir', await tempDir('dl')], { transport: 'node-ipc' });
    await svc.initialize();
    expect(existsSync(join(stateDir, 'manager.lock'))).toBe(true);
    svc.child.disconnect();
    const exit = await svc.exited;
    expect(exit.signal).toBeNull();
    expect(existsSync(join(stateDir, 'manager.lock'))).toBe(false);
  });
});
