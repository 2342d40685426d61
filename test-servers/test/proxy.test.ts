import http from 'node:http';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { generateContent, startHttpServer, startProxyServer, type HttpTestServer, type ProxyTestServer } from '../src/index.js';
import { request, type Reply } from './helpers.js';

const SPEC = { size: 200_000, seed: 31 };

/** Opens a CONNECT tunnel through the proxy; resolves with the status and, on 200, the socket. */
function connect(proxy: ProxyTestServer, authority: string, headers: Record<string, string> = {}): Promise<{ status: number; socket: Socket }> {
  const url = new URL(proxy.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method: 'CONNECT', path: authority, headers, agent: false });
    req.on('connect', (res: http.IncomingMessage, socket: Socket) => resolve({ status: res.statusCode ?? 0, socket }));
    req.on('error', reject);
    req.end();
  });
}

/** A request for an absolute URI sent to the proxy, as a client configured with a proxy does. */
function viaProxy(proxy: ProxyTestServer, target: string, headers: Record<string, string> = {}): Promise<Reply> {
  return request(target, { proxy: proxy.url, headers });
}

describe('forward proxy', () => {
  const servers: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  async function origin(tlsOn = false): Promise<HttpTestServer> {
    const server = await startHttpServer({ tls: tlsOn });
    servers.push(server);
    server.addFile('/f', SPEC);
    return server;
  }
  async function proxyServer(auth?: { username: string; password: string }): Promise<ProxyTestServer> {
    const proxy = await startProxyServer(auth === undefined ? {} : { auth });
    servers.push(proxy);
    return proxy;
  }

  it('forwards absolute-URI http requests and records them', async () => {
    const server = await origin();
    const proxy = await proxyServer();
    expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const reply = await viaProxy(proxy, server.url('/f'), { range: 'bytes=10-19', 'x-trace': '1' });
    expect(reply.status).toBe(206);
    expect(reply.headers['content-range']).toBe(`bytes 10-19/${SPEC.size}`);
    expect(reply.body.equals(generateContent(SPEC, 10, 20))).toBe(true);
    expect(proxy.requests()).toEqual([
      expect.objectContaining({ method: 'GET', target: server.url('/f'), headers: expect.objectContaining({ 'x-trace': '1' }) }),
    ]);
    expect(server.requests('/f')[0]?.headers.range).toBe('bytes=10-19');
  });

  it('passes a dropped upstream body on as a broken message', async () => {
    const server = await origin();
    server.setFaults('/f', { dropAfterBytes: 5000 });
    const proxy = await proxyServer();
    const reply = await viaProxy(proxy, server.url('/f'));
    expect(reply.status).toBe(200);
    expect(reply.error).toBeDefined();
    expect(reply.body.length).toBeLessThan(SPEC.size);
  });

  it('tunnels CONNECT to an https origin, end to end', async () => {
    const server = await origin(true);
    const proxy = await proxyServer();
    const authority = `127.0.0.1:${server.port}`;
    const tunnel = await connect(proxy, authority);
    expect(tunnel.status).toBe(200);
    const reply = await request(server.url('/f'), {
      ca: server.ca ?? '',
      createConnection: () => tls.connect({ socket: tunnel.socket, ca: server.ca ?? '', host: '127.0.0.1' }),
    });
    expect(reply.status).toBe(200);
    expect(reply.body.equals(generateContent(SPEC))).toBe(true);
    expect(proxy.requests()).toEqual([expect.objectContaining({ method: 'CONNECT', target: authority })]);
    expect(server.requests('/f')).toHaveLength(1);
  });

  it('answers 407 without the proxy credentials, for requests and tunnels', async () => {
    const server = await origin(true);
    const plain = await origin();
    const proxy = await proxyServer({ username: 'p', password: 'q' });
    const refused = await viaProxy(proxy, plain.url('/f'));
    expect(refused.status).toBe(407);
    expect(refused.headers['proxy-authenticate']).toMatch(/^Basic/);
    const refusedTunnel = await connect(proxy, `127.0.0.1:${server.port}`);
    expect(refusedTunnel.status).toBe(407);
    refusedTunnel.socket.destroy();
    const credentials = { 'proxy-authorization': `Basic ${Buffer.from('p:q').toString('base64')}` };
    const allowed = await viaProxy(proxy, plain.url('/f'), credentials);
    expect(allowed.status).toBe(200);
    expect(allowed.body.length).toBe(SPEC.size);
    // The proxy consumes its own credentials: they never reach the origin.
    expect(plain.requests('/f')[0]?.headers['proxy-authorization']).toBeUndefined();
    const tunnel = await connect(proxy, `127.0.0.1:${server.port}`, credentials);
    expect(tunnel.status).toBe(200);
    tunnel.socket.destroy();
    expect(proxy.requests().map((record) => record.method)).toEqual(['GET', 'CONNECT', 'GET', 'CONNECT']);
  });

  it('refuses origin-form requests and non-http absolute URIs with 400', async () => {
    const proxy = await proxyServer();
    expect((await viaProxy(proxy, '/relative')).status).toBe(400);
    expect((await viaProxy(proxy, 'ftp://127.0.0.1/x')).status).toBe(400);
  });

  it('answers 502 to CONNECT when the destination refuses', async () => {
    const proxy = await proxyServer();
    const closed = await origin();
    const port = closed.port;
    await closed.close();
    const tunnel = await connect(proxy, `127.0.0.1:${port}`);
    tunnel.socket.destroy();
    expect(tunnel.status).toBe(502);
  });

  it('closes with a tunnel still open', async () => {
    const server = await origin(true);
    const proxy = await proxyServer();
    const tunnel = await connect(proxy, `127.0.0.1:${server.port}`);
    const closed = new Promise<void>((resolve) => tunnel.socket.once('close', () => resolve()));
    await proxy.close();
    await closed;
  });
});
