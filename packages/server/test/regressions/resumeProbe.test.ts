import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { STATE_SUFFIX } from '@multiget/core';
import { type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { AddResult, ListResult } from '../../src/protocol.js';
import { ServiceProcess, cleanupTempDirs, killAll, sha256File, sleep, tempDir } from '../helpers.js';

// Core bug, found through the service (reported to the lead; core is not ours to edit):
//
// When a download resumes from a state file, the engine's probe still opens `GET bytes=0-` and
// offers that response as `initialSource`. Download.#transfer adopts it only for a segment at
// position 0, which a resumed download no longer has, and cancels it only in its `finally`, when
// the whole transfer is over. Meanwhile the probe response keeps streaming the file from byte 0 on
// an extra connection: a resumed download pulls (up to) the whole file again besides the ranges it
// needs, and holds a connection of the per-host budget. The fix belongs in Download.#transfer:
// cancel `initial` at once when no segment starts at 0.
//
// Fixed in core; this test keeps it fixed.

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

it('a download resumed after a restart fetches only the bytes it is missing', async () => {
  const stateDir = await tempDir('state');
  const dir = await tempDir('dl');
  const size = 6 * MiB;
  server.addFile('/big.bin', { size, seed: 3 }, { faults: { throttleBytesPerSec: 384 * 1024 } });
  const first = new ServiceProcess(['--state-dir', stateDir, '--dir', dir]);
  await first.initialize();
  const { id } = await first.request<AddResult>('multiget/add', { url: server.url('/big.bin'), output: 'big.bin', connections: 2 });
  await first.waitFor(() => (first.latest().get(id)?.bytes ?? 0) > 1.5 * MiB, 'a quarter of the file');
  await first.kill('SIGKILL');
  const state = JSON.parse(await readFile(join(dir, `big.bin${STATE_SUFFIX}`), 'utf8')) as { segments: Array<[number, number, number]> };
  const onDisk = state.segments.reduce((n, [start, , pos]) => n + (pos - start), 0);
  expect(onDisk).toBeGreaterThan(MiB);
  await sleep(100);
  const servedBefore = server.requests('/big.bin').reduce((n, r) => n + r.bytesSent, 0);

  const second = new ServiceProcess(['--state-dir', stateDir, '--dir', dir]);
  await second.initialize();
  await second.waitFor(
    async () => (await second.request<ListResult>('multiget/list')).downloads.every((d) => d.state === 'completed'),
    'the download to complete',
    60_000,
  );
  expect(await sha256File(join(dir, 'big.bin'))).toBe(sha256({ size, seed: 3 }));
  const servedAfter = server.requests('/big.bin').reduce((n, r) => n + r.bytesSent, 0) - servedBefore;
  // The missing bytes, plus room for a probe that is cut short promptly and for a split segment.
  expect(servedAfter).toBeLessThanOrEqual(size - onDisk + 512 * 1024);
});
