/**
 * Option limits and the content store through the shared service: real RPC over its socket. The
 * service checks the wire shape only; every range is core's (OPTION_LIMITS), so each limit is
 * taken at its edges and refused one step outside, by `multiget/add`, `multiget/setSettings` and
 * the per-download requests.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { OPTION_LIMITS, type NumericOptionName } from '@multiget/core';
import { type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddResult, DownloadInfo, DownloadInfoResult, HistoryResult } from '../src/protocol.js';
import { cleanupTempDirs, sha256File, tempDir } from './helpers.js';
import { SocketClient, killSharedServices, starter, until } from './socketClient.js';

let http: HttpTestServer;
let c: SocketClient;
let stateDir: string;
let dir: string;

beforeAll(async () => {
  http = await startHttpServer();
  stateDir = await tempDir('state');
  dir = await tempDir('dl');
  c = await SocketClient.open(stateDir, starter(stateDir, dir));
  await c.initialize();
});
afterAll(async () => {
  c.destroy();
  await killSharedServices();
  await http.close();
  await cleanupTempDirs();
});

async function failure(method: string, params: unknown): Promise<string | undefined> {
  try {
    await c.request(method, params);
    return undefined;
  } catch (err) {
    return (err as { data?: { code?: string } }).data?.code;
  }
}

function edges(name: NumericOptionName): { good: number[]; bad: number[] } {
  const { min, max } = OPTION_LIMITS[name];
  return { good: [min, max], bad: [min - 1, max === Number.MAX_SAFE_INTEGER ? max + 2 : max + 1, min + 0.5] };
}

describe('the service follows core\'s option limits', () => {
  it('multiget/add takes connections, priority and rateLimit at their edges and refuses one step outside', async () => {
    // Never fetched: the downloads are paused as soon as they are added, or refused.
    await c.request('multiget/setSettings', { maxConcurrent: 1 });
    http.addFile('/limits.bin', { size: 1024, seed: 1 }, { faults: { throttleBytesPerSec: 1024 } });
    let n = 0;
    for (const name of ['connections', 'priority', 'rateLimit'] as const) {
      const { good, bad } = edges(name);
      for (const v of good) {
        const { id } = await c.request<AddResult>('multiget/add', { url: http.url('/limits.bin'), output: `l${n++}.bin`, [name]: v });
        await c.request('multiget/remove', { id, deleteData: true });
      }
      for (const v of bad) expect(await failure('multiget/add', { url: http.url('/limits.bin'), output: 'bad.bin', [name]: v }), `${name} ${v}`).toBe('MG_ERR_INVALID_OPTION');
    }
  });

  it('multiget/setSettings and the per-download requests take the edges and refuse one step outside', async () => {
    for (const name of ['maxConcurrent', 'connections', 'maxConnectionsPerHost', 'maxConnections', 'retries', 'rateLimit'] as const) {
      const { good, bad } = edges(name);
      for (const v of good) await c.request('multiget/setSettings', { [name]: v });
      for (const v of bad) expect(await failure('multiget/setSettings', { [name]: v }), `${name} ${v}`).toBe('MG_ERR_INVALID_OPTION');
    }
    await c.request('multiget/setSettings', { maxConcurrent: 1, rateLimit: null });
    http.addFile('/held.bin', { size: 1024, seed: 2 }, { faults: { throttleBytesPerSec: 1024 } });
    const { id } = await c.request<AddResult>('multiget/add', { url: http.url('/held.bin'), output: 'held.bin' });
    await c.request('multiget/pause', { id });
    for (const [method, field, name] of [
      ['multiget/setConnections', 'connections', 'connections'],
      ['multiget/setRateLimit', 'rateLimit', 'rateLimit'],
      ['multiget/setPriority', 'priority', 'priority'],
    ] as const) {
      const { good, bad } = edges(name);
      for (const v of good) await c.request(method, { id, [field]: v });
      for (const v of bad) expect(await failure(method, { id, [field]: v }), `${method} ${v}`).toBe('MG_ERR_INVALID_OPTION');
    }
    await c.request('multiget/remove', { id, deleteData: true });
  });
});

describe('the service keeps a content store', () => {
  it('copies a file it downloaded before (fromCache), downloads again with noCache', async () => {
    const FILE = { size: 512 * 1024 + 3, seed: 9 };
    http.addFile('/same.bin', FILE);
    const done = async (id: string): Promise<DownloadInfo> => {
      await until(async () => (await c.request<DownloadInfoResult>('multiget/get', { id })).download.state === 'completed', `${id} to complete`);
      return (await c.request<DownloadInfoResult>('multiget/get', { id })).download;
    };
    const first = await done((await c.request<AddResult>('multiget/add', { url: http.url('/same.bin'), output: 'one.bin' })).id);
    expect(first.fromCache).toBeUndefined();
    // The record is written in the background once the file is complete.
    await until(async () => {
      const added = await c.request<AddResult>('multiget/add', { url: http.url('/same.bin'), output: 'probe.bin' });
      const info = await done(added.id);
      await rm(join(dir, 'probe.bin'), { force: true });
      return info.fromCache !== undefined;
    }, 'the first file to be in the content store');
    const second = await done((await c.request<AddResult>('multiget/add', { url: http.url('/same.bin'), output: 'two.bin' })).id);
    expect(second.fromCache).toEqual({ path: join(dir, 'one.bin') });
    expect(await sha256File(join(dir, 'two.bin'))).toBe(sha256(FILE));
    const history = await c.request<HistoryResult>('multiget/history');
    expect(history.entries.find((h) => h.file === join(dir, 'two.bin'))?.fromCache).toEqual({ path: join(dir, 'one.bin') });

    http.resetLog();
    const third = await done((await c.request<AddResult>('multiget/add', { url: http.url('/same.bin'), output: 'three.bin', noCache: true })).id);
    expect(third.fromCache).toBeUndefined();
    expect(http.requests('/same.bin').reduce((n, r) => n + r.bytesSent, 0)).toBeGreaterThanOrEqual(FILE.size);
    expect(await failure('multiget/add', { url: http.url('/same.bin'), output: 'x.bin', noCache: 'yes' })).toBe('MG_ERR_INVALID_OPTION');
  });
});
