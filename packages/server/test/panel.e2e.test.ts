import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AddResult, ClearCompletedResult, DownloadInfoResult, HistoryResult, ListResult, ProgressParams, RemovedParams } from '../src/protocol.js';
import { ServiceProcess, cleanupTempDirs, killAll, sha256File, tempDir } from './helpers.js';

// The requests the extension's Downloads panel needs: clearing finished rows, and changing a
// running download's connections.
const MiB = 1024 * 1024;
const INVALID_PARAMS = -32602;

let server: HttpTestServer;
beforeEach(async () => {
  server = await startHttpServer();
});
afterEach(async () => {
  await killAll();
  await server.close();
  await cleanupTempDirs();
});

async function service(): Promise<{ svc: ServiceProcess; dir: string }> {
  const dir = await tempDir('dl');
  const svc = new ServiceProcess(['--state-dir', await tempDir('state'), '--dir', dir]);
  await svc.initialize();
  return { svc, dir };
}

async function settled(svc: ServiceProcess, ids: string[]): Promise<void> {
  await svc.waitFor(async () => {
    const { downloads } = await svc.request<ListResult>('multiget/list');
    return ids.every((id) => downloads.some((d) => d.id === id && ['completed', 'failed', 'canceled'].includes(d.state)));
  }, 'the downloads to finish');
}

describe('multiget/clearCompleted', () => {
  it('removes completed and cancelled rows and their history, keeps failed ones and the files', async () => {
    server.addFile('/a.bin', { size: 300_000, seed: 1 });
    server.addFile('/b.bin', { size: 200_000, seed: 2 });
    const { svc, dir } = await service();
    const a = await svc.request<AddResult>('multiget/add', { url: server.url('/a.bin') });
    const b = await svc.request<AddResult>('multiget/add', { url: server.url('/b.bin') });
    const missing = await svc.request<AddResult>('multiget/add', { url: server.url('/missing.bin') });
    await settled(svc, [a.id, b.id, missing.id]);

    const { ids } = await svc.request<ClearCompletedResult>('multiget/clearCompleted');

    expect(new Set(ids)).toEqual(new Set([a.id, b.id]));
    const { downloads } = await svc.request<ListResult>('multiget/list');
    expect(downloads.map((d) => [d.id, d.state])).toEqual([[missing.id, 'failed']]);
    const { entries } = await svc.request<HistoryResult>('multiget/history');
    expect(entries.map((h) => [h.id, h.state])).toEqual([[missing.id, 'failed']]);
    await svc.waitFor(() => {
      const removed = svc.received<RemovedParams>('multiget/removed').map((n) => n.params.id);
      return ids.every((id) => removed.includes(id));
    }, 'a multiget/removed for each cleared download');
    // The files are the user's.
    expect(await sha256File(join(dir, 'a.bin'))).toBe(sha256({ size: 300_000, seed: 1 }));
    expect(existsSync(join(dir, 'b.bin'))).toBe(true);
    await expect(svc.request<ClearCompletedResult>('multiget/clearCompleted')).resolves.toEqual({ ids: [] });
  });

  it('refuses params', async () => {
    const { svc } = await service();
    const err = await svc.requestError('multiget/clearCompleted', { all: true });
    expect([err.code, err.data?.code]).toEqual([INVALID_PARAMS, 'MG_ERR_INVALID_OPTION']);
  });
});

describe('multiget/setConnections', () => {
  it('changes a running download’s connections from its next start, which ends with exact bytes', async () => {
    const content = { size: 12 * MiB, seed: 7 };
    server.addFile('/c.bin', content, { faults: { throttleBytesPerSec: 1024 * 1024 } });
    const { svc, dir } = await service();
    const { id } = await svc.request<AddResult>('multiget/add', { url: server.url('/c.bin'), connections: 1 });
    const peak = (): number =>
      Math.max(0, ...svc.received<ProgressParams>('multiget/progress').flatMap((n) => n.params.downloads.filter((d) => d.id === id).map((d) => d.connections)));
    await svc.waitFor(() => peak() > 0, 'the download to transfer');

    const changed = await svc.request<DownloadInfoResult>('multiget/setConnections', { id, connections: 4 });
    expect(changed.download.id).toBe(id);
    expect(peak()).toBe(1);
    await svc.request('multiget/pause', { id });
    await svc.request('multiget/resume', { id });
    await svc.waitFor(() => peak() === 4, 'four connections after the resume');
    await settled(svc, [id]);
    expect((await svc.request<DownloadInfoResult>('multiget/get', { id })).download.state).toBe('completed');
    expect(await sha256File(join(dir, 'c.bin'))).toBe(sha256(content));
  });

  it('refuses bad params with MG_ERR_INVALID_OPTION or MG_ERR_UNKNOWN_DOWNLOAD', async () => {
    server.addFile('/p.bin', { size: MiB, seed: 3 }, { faults: { throttleBytesPerSec: 64 * 1024 } });
    const { svc } = await service();
    const { id } = await svc.request<AddResult>('multiget/add', { url: server.url('/p.bin') });
    const cases: Array<[unknown, string]> = [
      [undefined, 'MG_ERR_INVALID_OPTION'],
      [{ id }, 'MG_ERR_INVALID_OPTION'],
      [{ id, connections: 0 }, 'MG_ERR_INVALID_OPTION'],
      [{ id, connections: 257 }, 'MG_ERR_INVALID_OPTION'],
      [{ id, connections: 2.5 }, 'MG_ERR_INVALID_OPTION'],
      [{ id, connections: '4' }, 'MG_ERR_INVALID_OPTION'],
      [{ id, connections: 4, extra: 1 }, 'MG_ERR_INVALID_OPTION'],
      [{ id: 'no-such-download', connections: 4 }, 'MG_ERR_UNKNOWN_DOWNLOAD'],
    ];
    for (const [params, code] of cases) {
      const err = await svc.requestError('multiget/setConnections', params);
      expect([JSON.stringify(params), err.code, err.data?.code]).toEqual([JSON.stringify(params), INVALID_PARAMS, code]);
    }
  });
});
