import http from 'node:http';
import https from 'node:https';
import { describe, expect, it } from 'vitest';
import { startHttpServer } from '../src/index.js';
import { request, until } from './helpers.js';

describe('server lifecycle', () => {
  it('close() ends stalled, paced and idle keep-alive connections, over HTTP and HTTPS', async () => {
    for (const tls of [false, true]) {
      const server = await startHttpServer({ tls });
      const ca = server.ca;
      server.addFile('/stall', { size: 10_000 }, { faults: { stallAfterBytes: 100 } });
      server.addFile('/slow', { size: 10_000_000 }, { faults: { throttleBytesPerSec: 10_000 } });
      server.addFile('/late', { size: 10 }, { faults: { latencyMs: 600_000 } });
      // A finished request leaves an idle keep-alive connection behind, which close() must end too.
      const agent = tls ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
      const base = ca === undefined ? { agent } : { agent, ca };
      await request(server.url('/missing'), base);
      const stalled = request(server.url('/stall'), base);
      const slow = request(server.url('/slow'), base);
      // Settled into a value at once, so its rejection is handled before close() triggers it.
      const late = request(server.url('/late'), base).then(() => 'answered', () => 'failed');
      await until(() => server.requests('/stall')[0]?.bytesSent === 100 && server.requests('/late').length === 1);
      await server.close();
      expect((await stalled).error).toBeDefined();
      expect((await slow).error).toBeDefined();
      // The latency fault withholds the status line, so that request fails before any response.
      expect(await late).toBe('failed');
      agent.destroy();
    }
  });

  it('close() can be called twice', async () => {
    const server = await startHttpServer();
    await Promise.all([server.close(), server.close()]);
    await server.close();
  });

  it('listens on another host when asked, with the host in the origin', async () => {
    let server;
    try {
      server = await startHttpServer({ host: '::1' });
    } catch {
      return; // No IPv6 loopback on this machine: nothing to check.
    }
    try {
      expect(server.origin).toBe(`http://[::1]:${server.port}`);
      server.addFile('/f', Buffer.from('six'));
      expect((await request(server.url('/f'))).body.toString()).toBe('six');
    } finally {
      await server.close();
    }
  });
});
