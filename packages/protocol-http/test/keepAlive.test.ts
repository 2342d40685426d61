import net, { type AddressInfo, type Socket } from 'node:net';
import { generateContent, startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';
import { makeJob, probed, rangeOf, readAll, rejection } from './helpers.js';

const SPEC = { size: 200_000, seed: 21 };
const BYTES = generateContent(SPEC);

let server: HttpTestServer;
let http: HttpPlugin;

beforeAll(async () => {
  server = await startHttpServer();
  http = new HttpPlugin({ useEnvProxy: false });
  server.addFile('/file.bin', SPEC);
});

afterAll(async () => {
  await http.close();
  await server.close();
});

describe('connections', () => {
  it('reuses a kept-alive connection for consecutive ranges', async () => {
    const job = await probed(http, makeJob(server.url('/file.bin')));
    await readAll(job.remote!.initialSource!);
    for (let start = 0; start < SPEC.size; start += 20_000) {
      const end = Math.min(SPEC.size, start + 20_000) - 1;
      const bytes = await readAll(await http.fetchRange(rangeOf(job, start, end), job));
      expect(bytes.equals(BYTES.subarray(start, end + 1))).toBe(true);
    }
    const requests = server.requests('/file.bin');
    expect(requests).toHaveLength(11);
    // A connection freed a tick after its body ends may lose the race to a second one; never more.
    expect(new Set(requests.map((r) => r.connectionId)).size).toBeLessThanOrEqual(2);
    expect(server.connectionsOpened()).toBeLessThan(requests.length);
  });

  it('opens parallel connections for parallel ranges (no per-origin cap)', async () => {
    const job = await probed(http, makeJob(server.url('/file.bin')));
    job.remote?.initialSource?.cancel();
    server.resetLog();
    const sources = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) => http.fetchRange(rangeOf(job, i * 30_000, i * 30_000 + 29_999), job)),
    );
    const parts = await Promise.all(sources.map(readAll));
    expect(Buffer.concat(parts).equals(BYTES.subarray(0, 180_000))).toBe(true);
    expect(new Set(server.requests('/file.bin').map((r) => r.connectionId)).size).toBe(6);
  });

  it('aborts bodies still in flight when the plugin closes', async () => {
    const own = new HttpPlugin({ useEnvProxy: false });
    server.addFile('/slow.bin', SPEC, { faults: { throttleBytesPerSec: 50_000 } });
    const job = await probed(own, makeJob(server.url('/slow.bin')));
    const reading = rejection(readAll(job.remote!.initialSource!));
    await own.close();
    expect((await reading).code).toBe('MG_ERR_ABORTED');
    await expect.poll(() => server.requests('/slow.bin').every((r) => r.done)).toBe(true);
  });

  it('maps a TLS handshake that never completes to MG_ERR_CONNECT_TIMEOUT, honouring the job\'s connect timeout', async () => {
    // A listener that accepts and then says nothing: the TCP connect succeeds, the handshake never does.
    const sockets = new Set<Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const err = await rejection(http.probe(makeJob(`https://127.0.0.1:${port}/x`, { connectTimeoutMs: 300 })));
      expect(err.code).toBe('MG_ERR_CONNECT_TIMEOUT');
      expect(err.retryable).toBe(true);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
