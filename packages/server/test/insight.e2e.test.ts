import { join } from 'node:path';
import { type TraceFile, checkTrace } from '@multiget/core';
import { type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AddResult, DownloadInfoResult, ExportTraceResult, ProgressParams, StatusResult } from '../src/protocol.js';
import { ServiceProcess, cleanupTempDirs, killAll, sha256File, tempDir } from './helpers.js';

// What the Downloads panel shows beside the numbers: segment maps, the service's resource use,
// and a download's trace, over RPC from a real service process.
const MiB = 1024 * 1024;
const CELLS = /^[#.0-9a-z]{100}$/;

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

describe('segment maps and resource use', () => {
  it('come with progress and from multiget/status while a download runs', async () => {
    const content = { size: 6 * MiB, seed: 3 };
    server.addFile('/m.bin', content, { faults: { throttleBytesPerSec: 1536 * 1024 } });
    const { svc, dir } = await service();
    const { id } = await svc.request<AddResult>('multiget/add', { url: server.url('/m.bin'), connections: 3 });
    // A map with a connection's bytes in flight and some left.
    const live = (): ProgressParams | undefined =>
      svc.received<ProgressParams>('multiget/progress').map((n) => n.params).find((p) => /[0-9a-z]/.test(p.segmentMaps[id] ?? '') && (p.segmentMaps[id] ?? '').includes('.'));
    await svc.waitFor(() => live() !== undefined, 'a segment map with bytes in flight');
    const progress = live()!;
    expect(progress.segmentMaps[id]).toMatch(CELLS);
    expect(progress.resources.rssBytes).toBeGreaterThan(0);
    expect(progress.resources.heapUsedBytes).toBeGreaterThan(0);
    expect(progress.resources.cpuUserMs + progress.resources.cpuSystemMs).toBeGreaterThan(0);

    const status = await svc.request<StatusResult>('multiget/status');
    expect(status.downloads.map((d) => d.id)).toEqual([id]);
    expect(status.segmentMaps[id]).toMatch(CELLS);
    expect(Object.keys(status.resources).sort()).toEqual(['cpuSystemMs', 'cpuUserMs', 'externalBytes', 'heapTotalBytes', 'heapUsedBytes', 'rssBytes']);

    await svc.waitFor(async () => (await svc.request<DownloadInfoResult>('multiget/get', { id })).download.state === 'completed', 'the download to complete');
    expect(await sha256File(join(dir, 'm.bin'))).toBe(sha256(content));
    const after = await svc.request<StatusResult>('multiget/status');
    expect(after.downloads).toEqual([]);
    expect(after.segmentMaps).toEqual({});
    expect(after.resources.rssBytes).toBeGreaterThan(0);
    await expect(svc.requestError('multiget/status', { extra: 1 })).resolves.toMatchObject({ data: { code: 'MG_ERR_INVALID_OPTION' } });
  });
});

describe('multiget/exportTrace', () => {
  it('gives a valid trace of a finished download whose spans add up to its size', async () => {
    const content = { size: 3 * MiB, seed: 5 };
    server.addFile('/t.bin', content, { faults: { dropAfterBytes: 200 * 1024, dropTimes: 1 } });
    const { svc } = await service();
    const { id } = await svc.request<AddResult>('multiget/add', { url: server.url('/t.bin'), connections: 4 });
    await svc.waitFor(async () => (await svc.request<DownloadInfoResult>('multiget/get', { id })).download.state === 'completed', 'the download to complete');
    const result = await svc.request<ExportTraceResult>('multiget/exportTrace', { id });
    expect(result.fileName).toBe('t.bin.trace.json');
    const trace = JSON.parse(result.trace) as TraceFile;
    expect(checkTrace(trace)).toEqual([]);
    const spans = trace.traceEvents.filter((e) => e.name === 'range');
    expect(spans.reduce((a, e) => a + (e.args!.bytes as number), 0)).toBe(content.size);
    expect(spans.some((e) => e.args!.outcome === 'failed')).toBe(true);
    expect(trace.traceEvents.some((e) => e.name === 'retry')).toBe(true);
  });

  it('refuses an unknown id, bad params, and a download that has not run', async () => {
    const { svc } = await service();
    await expect(svc.requestError('multiget/exportTrace', { id: 'nope' })).resolves.toMatchObject({ data: { code: 'MG_ERR_UNKNOWN_DOWNLOAD' } });
    await expect(svc.requestError('multiget/exportTrace', {})).resolves.toMatchObject({ data: { code: 'MG_ERR_INVALID_OPTION' } });
    // One download at a time: the second one waits in the queue, never started.
    await svc.request('multiget/setSettings', { maxConcurrent: 1 });
    server.addFile('/slow.bin', { size: 4 * MiB }, { faults: { throttleBytesPerSec: 256 * 1024 } });
    server.addFile('/p.bin', { size: MiB });
    await svc.request<AddResult>('multiget/add', { url: server.url('/slow.bin') });
    const { id } = await svc.request<AddResult>('multiget/add', { url: server.url('/p.bin') });
    expect((await svc.request<DownloadInfoResult>('multiget/get', { id })).download.state).toBe('queued');
    await expect(svc.requestError('multiget/exportTrace', { id })).resolves.toMatchObject({ data: { code: 'MG_ERR_INVALID_STATE' } });
  });
});
