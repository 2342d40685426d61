// sendRequest aborted at each phase of a request: before it is sent, while it waits for the
// response's head, and while its body arrives. Each ends with the signal's reason, never a hang,
// and a body cancelled mid-way reads no further.
import { startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRequest } from '../src/sendRequest.js';
import { loadAgent } from '../src/undiciParts.js';

let server: HttpTestServer;
let agent: Dispatcher;

beforeAll(async () => {
  server = await startHttpServer();
  server.addFile('/late.bin', { size: 1000, seed: 1 }, { faults: { latencyMs: 5_000 } });
  server.addFile('/slow.bin', { size: 4 * 1024 * 1024, seed: 2 }, { faults: { throttleBytesPerSec: 64 * 1024 } });
  const Agent = loadAgent();
  agent = new Agent({ connections: null, pipelining: 1 });
});
afterAll(async () => {
  await agent.destroy();
  await server.close();
});

function request(path: string, signal: AbortSignal): ReturnType<typeof sendRequest> {
  const url = new URL(server.url(path));
  return sendRequest(agent, { origin: url.origin, path: url.pathname, headers: {}, headersTimeout: 30_000, signal });
}

describe('sendRequest aborted', () => {
  it('before it is sent: rejects with the reason at once, nothing reaches the server', async () => {
    const before = server.requests('/late.bin').length;
    const reason = new Error('stop before');
    await expect(request('/late.bin', AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(server.requests('/late.bin').length).toBe(before);
  });

  it('right after it is sent (before undici has a connection for it): rejects with the reason, and undici drops it', async () => {
    const ctl = new AbortController();
    const reason = new Error('stop at once');
    const started = request('/late.bin', ctl.signal);
    ctl.abort(reason);
    await expect(started).rejects.toBe(reason);
    // The agent still works: the request was dropped, not left holding a connection.
    const response = await request('/slow.bin', AbortSignal.timeout(30_000));
    expect(response.statusCode).toBe(200);
    response.body.cancel();
  });

  it("while it waits for the response's head: rejects with the reason long before the head comes", async () => {
    const ctl = new AbortController();
    const reason = new Error('stop waiting');
    const started = request('/late.bin', ctl.signal);
    // The request is on its way when the server has seen it.
    await expect.poll(() => server.requests('/late.bin').length, { timeout: 5_000 }).toBeGreaterThan(0);
    ctl.abort(reason);
    await expect(started).rejects.toBe(reason);
  });

  it('while its body arrives: the body fails with the reason and reads no further', async () => {
    const ctl = new AbortController();
    const reason = new Error('stop reading');
    const response = await request('/slow.bin', ctl.signal);
    expect(response.statusCode).toBe(200);
    let bytes = 0;
    const read = async (): Promise<void> => {
      for (;;) {
        const chunk = response.body.take();
        if (chunk === null) return;
        if (chunk === undefined) {
          await response.body.wait();
          continue;
        }
        bytes += chunk.byteLength;
        if (!ctl.signal.aborted) ctl.abort(reason);
      }
    };
    await expect(read()).rejects.toMatchObject({ code: 'MG_BODY_CANCELED', cause: reason });
    expect(bytes).toBeLessThan(4 * 1024 * 1024);
  });
});
