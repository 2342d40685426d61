// `multiget/add` with mirrors, through the service process: one file from two servers.
import { join } from 'node:path';
import { type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { AddResult, ListResult } from '../src/protocol.js';
import { ServiceProcess, cleanupTempDirs, killAll, sha256File, tempDir } from './helpers.js';

const MiB = 1024 * 1024;
let servers: HttpTestServer[];
beforeEach(async () => {
  servers = [await startHttpServer(), await startHttpServer()];
});
afterEach(async () => {
  await killAll();
  await Promise.all(servers.map((s) => s.close()));
  await cleanupTempDirs();
});

it('reads one file from the URL and its mirror', async () => {
  const content = { size: 4 * MiB, seed: 41 };
  for (const s of servers) s.addFile('/m.bin', content, { faults: { throttleBytesPerSec: 2 * MiB } });
  const dir = await tempDir('dl');
  const svc = new ServiceProcess(['--state-dir', await tempDir('state'), '--dir', dir]);
  await svc.initialize();
  const added = await svc.request<AddResult>('multiget/add', {
    url: servers[0]!.url('/m.bin'),
    mirrors: [servers[1]!.url('/m.bin')],
    output: 'm.bin',
    connections: 4,
  });
  await svc.waitFor(async () => {
    const list = await svc.request<ListResult>('multiget/list', {});
    return list.downloads.find((d) => d.id === added.id)?.state === 'completed';
  }, 'the download to complete');
  expect(await sha256File(join(dir, 'm.bin'))).toBe(sha256(content));
  const ranged = servers[1]!.requests('/m.bin').filter((r) => r.headers.range !== undefined && r.headers.range !== 'bytes=0-');
  expect(ranged.length).toBeGreaterThan(1);
});
