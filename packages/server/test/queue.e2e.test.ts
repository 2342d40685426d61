import { join } from 'node:path';
import { type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AddManyResult, AddResult, ChangedParams, DownloadInfoResult, ListResult, SettingsResult } from '../src/protocol.js';
import { ACTIVE_STATES, ServiceProcess, cleanupTempDirs, killAll, sha256File, tempDir } from './helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;

let server: HttpTestServer;
let svc: ServiceProcess;
let dir: string;

beforeEach(async () => {
  server = await startHttpServer();
  dir = await tempDir('dl');
  svc = new ServiceProcess(['--state-dir', await tempDir('state'), '--dir', dir]);
  await svc.initialize();
});
afterEach(async () => {
  await killAll();
  await server.close();
  await cleanupTempDirs();
});

/** Ids in the order they first became active, from `multiget/changed`. */
function startOrder(s: ServiceProcess): string[] {
  const out: string[] = [];
  for (const { params } of s.received<ChangedParams>('multiget/changed')) {
    if (ACTIVE_STATES.has(params.download.state) && !out.includes(params.download.id)) out.push(params.download.id);
  }
  return out;
}

/** The most downloads active at once, replaying `multiget/changed` in order. */
function maxActive(s: ServiceProcess): number {
  const state = new Map<string, string>();
  let max = 0;
  for (const { params } of s.received<ChangedParams>('multiget/changed')) {
    state.set(params.download.id, params.download.state);
    max = Math.max(max, [...state.values()].filter((v) => ACTIVE_STATES.has(v)).length);
  }
  return max;
}

async function allCompleted(s: ServiceProcess, timeoutMs = 60_000): Promise<ListResult> {
  await s.waitFor(
    async () => (await s.request<ListResult>('multiget/list')).downloads.every((d) => d.state === 'completed'),
    'every download to complete',
    timeoutMs,
  );
  return s.request<ListResult>('multiget/list');
}

describe('queue, priority and concurrency through the service', () => {
  it('never runs more downloads at once than maxConcurrent, and promotes queued ones as others finish', async () => {
    const { settings } = await svc.request<SettingsResult>('multiget/setSettings', { maxConcurrent: 2 });
    expect(settings.maxConcurrent).toBe(2);
    const items = [0, 1, 2, 3, 4, 5].map((i) => {
      server.addFile(`/c${i}.bin`, { size: 512 * KiB, seed: i }, { faults: { throttleBytesPerSec: 1 * MiB } });
      return { url: server.url(`/c${i}.bin`), output: `c${i}.bin`, connections: 1 };
    });
    const { ids } = await svc.request<AddManyResult>('multiget/addMany', { items });
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
    const queued = (await svc.request<ListResult>('multiget/list')).downloads.filter((d) => d.state === 'queued');
    expect(queued.length).toBeGreaterThanOrEqual(4);
    await allCompleted(svc);
    expect(maxActive(svc)).toBe(2);
    expect(startOrder(svc)).toEqual(ids);
    for (let i = 0; i < 6; i++) expect(await sha256File(join(dir, `c${i}.bin`))).toBe(sha256({ size: 512 * KiB, seed: i }));
  });

  it('starts higher priorities first and honours move and setPriority', async () => {
    await svc.request('multiget/setSettings', { maxConcurrent: 1 });
    const add = async (name: string, priority?: number): Promise<string> => {
      server.addFile(`/${name}`, { size: 256 * KiB, seed: name.length }, { faults: { throttleBytesPerSec: 1 * MiB } });
      const params = { url: server.url(`/${name}`), output: name, ...(priority !== undefined ? { priority } : {}) };
      return (await svc.request<AddResult>('multiget/add', params)).id;
    };
    // Each is paused as soon as it is added, so the order of starts depends only on the queue.
    const a = await add('a.bin');
    await svc.request('multiget/pause', { id: a });
    const b = await add('b.bin');
    await svc.request('multiget/pause', { id: b });
    const c = await add('c.bin');
    await svc.request('multiget/pause', { id: c });
    const d = await add('d.bin', 5);
    await svc.request('multiget/pause', { id: d });
    const e = await add('e.bin');
    await svc.request('multiget/pause', { id: e });
    // Queue order now: d (5), a, b, c, e. Move c to the front of the priority-0 group (index 1)
    // and raise e above d.
    const moved = await svc.request<ListResult>('multiget/move', { id: c, index: 1 });
    expect(moved.downloads.map((x) => x.id)).toEqual([d, c, a, b, e]);
    const raised = await svc.request<DownloadInfoResult>('multiget/setPriority', { id: e, priority: 10 });
    expect(raised.download.priority).toBe(10);
    expect((await svc.request<ListResult>('multiget/list')).downloads.map((x) => x.id)).toEqual([e, d, c, a, b]);
    svc.notifications.length = 0;
    await svc.request('multiget/resumeAll');
    await allCompleted(svc);
    expect(startOrder(svc)).toEqual([e, d, c, a, b]);
    expect(maxActive(svc)).toBe(1);
  });

  it('keeps a per-download rate limit: the transfer is never faster than the limit allows', async () => {
    const size = 1 * MiB;
    const rate = 256 * KiB;
    server.addFile('/limited.bin', { size, seed: 21 });
    const started = performance.now();
    const { id, download } = await svc.request<AddResult>('multiget/add', { url: server.url('/limited.bin'), rateLimit: rate, connections: 4 });
    expect(download.rateLimit).toBe(rate);
    await allCompleted(svc);
    const seconds = (performance.now() - started) / 1000;
    // The bucket may start with a burst of a tenth of a second; nothing else can make it faster.
    expect(seconds).toBeGreaterThanOrEqual((size - rate / 10 - 64 * KiB) / rate);
    const { download: done } = await svc.request<DownloadInfoResult>('multiget/get', { id });
    expect(await sha256File(done.file!)).toBe(sha256({ size, seed: 21 }));
  });

  it('keeps a global rate limit across downloads, changeable at run time', async () => {
    const rate = 512 * KiB;
    const { settings } = await svc.request<SettingsResult>('multiget/setSettings', { rateLimit: rate, maxConcurrent: 3 });
    expect(settings.rateLimit).toBe(rate);
    const sizes = [768 * KiB, 768 * KiB, 512 * KiB];
    sizes.forEach((size, i) => server.addFile(`/g${i}.bin`, { size, seed: 30 + i }));
    const started = performance.now();
    await svc.request<AddManyResult>('multiget/addMany', { items: sizes.map((_, i) => ({ url: server.url(`/g${i}.bin`) })) });
    await allCompleted(svc);
    const seconds = (performance.now() - started) / 1000;
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(seconds).toBeGreaterThanOrEqual((total - rate / 10 - 64 * KiB) / rate);
    const cleared = await svc.request<SettingsResult>('multiget/setSettings', { rateLimit: null });
    expect(cleared.settings.rateLimit).toBeNull();
    // setRateLimit on a download answers and notifies the new limit.
    const { downloads } = await svc.request<ListResult>('multiget/list');
    const limited = await svc.request<DownloadInfoResult>('multiget/setRateLimit', { id: downloads[0]!.id, rateLimit: 1000 });
    expect(limited.download.rateLimit).toBe(1000);
    const unlimited = await svc.request<DownloadInfoResult>('multiget/setRateLimit', { id: downloads[0]!.id, rateLimit: null });
    expect(unlimited.download.rateLimit).toBeNull();
  });

  it('cancels, retries, removes and keeps a history', async () => {
    server.addFile('/slow.bin', { size: 4 * MiB, seed: 40 }, { faults: { throttleBytesPerSec: 256 * KiB } });
    server.addFile('/quick.bin', { size: 64 * KiB, seed: 41 });
    const slow = (await svc.request<AddResult>('multiget/add', { url: server.url('/slow.bin'), connections: 1 })).id;
    await svc.waitFor(() => (svc.latest().get(slow)?.bytes ?? 0) > 0, 'the slow download to start');
    const canceled = await svc.request<DownloadInfoResult>('multiget/cancel', { id: slow });
    expect(canceled.download.state).toBe('canceled');
    // Retry applies to cancelled (and failed) downloads only.
    const quick = (await svc.request<AddResult>('multiget/add', { url: server.url('/quick.bin') })).id;
    await svc.waitFor(async () => (await svc.request<DownloadInfoResult>('multiget/get', { id: quick })).download.state === 'completed', 'quick');
    const refused = await svc.requestError('multiget/retry', { id: quick });
    expect(refused.data?.code).toBe('MG_ERR_INVALID_STATE');
    const retried = await svc.request<DownloadInfoResult>('multiget/retry', { id: slow });
    expect(retried.download.state === 'queued' || ACTIVE_STATES.has(retried.download.state)).toBe(true);
    await svc.request('multiget/remove', { id: slow, deleteData: true });
    await svc.waitFor(() => svc.received<{ id: string }>('multiget/removed').some((r) => r.params.id === slow), 'the removed notification');
    expect((await svc.requestError('multiget/get', { id: slow })).data?.code).toBe('MG_ERR_UNKNOWN_DOWNLOAD');

    const history = await svc.request<{ entries: Array<{ id: string; state: string; errorCode: string | null; size: number | null }> }>('multiget/history');
    expect(history.entries.find((h) => h.id === quick)).toMatchObject({ state: 'completed', size: 64 * KiB, errorCode: null });
    expect(history.entries.find((h) => h.id === slow)).toMatchObject({ state: 'canceled' });
    await svc.request('multiget/clearHistory');
    expect((await svc.request<{ entries: unknown[] }>('multiget/history')).entries).toEqual([]);
  });
});
