import net, { type AddressInfo, type Socket } from 'node:net';
import { startDante, startProxyServer, startSocksServer, type DanteServer, type ProxyTestServer, type SocksTestServer } from '@multiget/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTunnel, parseProxyUrl, type ProxyEndpoint } from '../src/index.js';

const GREETING = 'hello from the destination\r\n';
let echo: net.Server;
let echoPort: number;
let socks: SocksTestServer;
let authSocks: SocksTestServer;
let httpProxy: ProxyTestServer;
let authHttpProxy: ProxyTestServer;
let dante: DanteServer;
let danteAuth: DanteServer;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  // Greets at once (as FTP and SSH servers do), then echoes.
  echo = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.write(GREETING);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as AddressInfo).port;
  [socks, authSocks, httpProxy, authHttpProxy, dante, danteAuth] = await Promise.all([
    startSocksServer({ hosts: { 'only-the-proxy-knows.test': '127.0.0.1' } }),
    startSocksServer({ auth: { username: 'socks user', password: 'socks pass' } }),
    startProxyServer(),
    startProxyServer({ auth: { username: 'u', password: 'p' } }),
    startDante(),
    startDante({ socksMethod: 'username' }),
  ]);
});

afterAll(async () => {
  await Promise.all([socks.close(), authSocks.close(), httpProxy.close(), authHttpProxy.close(), dante.close(), danteAuth.close()]);
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

/** Reads until `text` has arrived in full (or the socket ended), leaving the socket open. */
async function expectText(socket: Socket, text: string): Promise<void> {
  const got = await new Promise<string>((resolve) => {
    let data = '';
    const done = (): void => {
      socket.off('data', onData);
      socket.pause();
      resolve(data);
    };
    const onData = (chunk: Buffer): void => {
      data += String(chunk);
      if (data.length >= text.length) done();
    };
    socket.on('data', onData);
    socket.once('close', done);
    socket.resume();
  });
  expect(got).toBe(text);
}

/** Waits (bounded) until the destination's greeting sits unread in the socket. */
async function buffered(socket: Socket): Promise<void> {
  for (let i = 0; i < 200 && socket.readableLength < GREETING.length; i++) await new Promise((r) => setTimeout(r, 5));
}

async function roundTrip(proxy: ProxyEndpoint, host = '127.0.0.1'): Promise<void> {
  const socket = await openTunnel(proxy, host, echoPort, { timeoutMs: 5000 });
  try {
    // The greeting arrived before anyone listened: it must be waiting, not lost.
    await buffered(socket);
    await expectText(socket, GREETING);
    socket.write('ping');
    await expectText(socket, 'ping');
  } finally {
    socket.destroy();
  }
}

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; statusCode?: number }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('openTunnel through SOCKS5', () => {
  it('carries a connection, greeting included, and sends an IPv4 address for an IP literal', async () => {
    await roundTrip(parseProxyUrl(socks.url, 'test'));
    expect(socks.connections().at(-1)).toMatchObject({ addressType: 'ipv4', host: '127.0.0.1', port: echoPort, outcome: 'connected' });
  });

  it('sends an IPv6 address as 16 bytes (::1, bracketed or not)', async () => {
    const v6 = net.createServer((socket) => {
      socket.on('error', () => socket.destroy());
      socket.end(GREETING);
    });
    await new Promise<void>((resolve) => v6.listen(0, '::1', resolve));
    const port = (v6.address() as AddressInfo).port;
    try {
      for (const host of ['::1', '[::1]', '0:0:0:0:0:0:0:1']) {
        const socket = await openTunnel(parseProxyUrl(socks.url, 'test'), host, port, { timeoutMs: 5000 });
        try {
          await expectText(socket, GREETING);
        } finally {
          socket.destroy();
        }
        expect(socks.connections().at(-1)).toMatchObject({ addressType: 'ipv6', host: '0:0:0:0:0:0:0:1', port, outcome: 'connected' });
      }
    } finally {
      await new Promise<void>((resolve) => v6.close(() => resolve()));
    }
  });

  it('encodes IPv6 forms with :: in the middle and an embedded IPv4 address', async () => {
    const cases: Array<[string, string]> = [
      ['fe80::1:2', 'fe80:0:0:0:0:0:1:2'],
      ['::ffff:127.0.0.1', '0:0:0:0:0:ffff:7f00:1'],
      ['2001:db8::', '2001:db8:0:0:0:0:0:0'],
    ];
    // The proxy maps each expanded address to the echo server: it connects only if the bytes were right.
    const mapping = await startSocksServer({ hosts: Object.fromEntries(cases.map(([, expanded]) => [expanded, '127.0.0.1'])) });
    try {
      for (const [host, expanded] of cases) {
        await roundTrip(parseProxyUrl(mapping.url, 'test'), host);
        expect(mapping.connections().at(-1)).toMatchObject({ addressType: 'ipv6', host: expanded, outcome: 'connected' });
      }
    } finally {
      await mapping.close();
    }
  });

  it('socks5h:// sends the host name for the proxy to resolve', async () => {
    await roundTrip(parseProxyUrl(socks.url.replace('socks5:', 'socks5h:'), 'test'), 'only-the-proxy-knows.test');
    expect(socks.connections().at(-1)).toMatchObject({ addressType: 'domain', host: 'only-the-proxy-knows.test', outcome: 'connected' });
  });

  it('socks5:// resolves the name locally: a name only the proxy knows fails with MG_ERR_CONNECT', async () => {
    const before = socks.connections().length;
    const err = await failure(openTunnel(parseProxyUrl(socks.url, 'test'), 'only-the-proxy-knows.test', echoPort, { timeoutMs: 5000 }));
    expect(err.code).toBe('MG_ERR_CONNECT');
    expect(err.message).toContain('socks5h://');
    expect(socks.connections().length).toBe(before);
  });

  it('socks5:// sends the address it resolved for localhost', async () => {
    const before = socks.connections().length;
    // localhost may resolve to ::1, where the echo server does not listen: only the request matters here.
    await openTunnel(parseProxyUrl(socks.url, 'test'), 'localhost', echoPort).then((s) => s.destroy(), () => undefined);
    const records = socks.connections().slice(before);
    expect(records.length).toBe(1);
    expect(['ipv4', 'ipv6']).toContain(records[0]?.addressType);
  });

  it('authenticates with user name and password from the URL', async () => {
    const url = authSocks.url.replace('socks5://', 'socks5://socks%20user:socks%20pass@');
    await roundTrip(parseProxyUrl(url, 'test'));
    expect(authSocks.connections().at(-1)).toMatchObject({ username: 'socks user', outcome: 'connected' });
  });

  it('fails with MG_ERR_PROXY_AUTH for wrong or missing credentials, without showing them', async () => {
    const wrong = await failure(openTunnel(parseProxyUrl(authSocks.url.replace('socks5://', 'socks5://socks%20user:hunter2@'), 'test'), '127.0.0.1', echoPort));
    expect(wrong.code).toBe('MG_ERR_PROXY_AUTH');
    expect(wrong.message).not.toContain('hunter2');
    const missing = await failure(openTunnel(parseProxyUrl(authSocks.url, 'test'), '127.0.0.1', echoPort));
    expect(missing.code).toBe('MG_ERR_PROXY_AUTH');
    expect(missing.message).toContain('user name and password');
  });

  it('fails with MG_ERR_CONNECT when the proxy cannot reach the destination', async () => {
    const err = await failure(openTunnel(parseProxyUrl(socks.url, 'test'), '127.0.0.1', await closedPort()));
    expect(err).toMatchObject({ code: 'MG_ERR_CONNECT', errno: 'ECONNREFUSED' });
    expect(err.message).toContain('connection refused');
  });

  it('fails with MG_ERR_CONNECT naming the proxy when the proxy refuses the connection', async () => {
    const port = await closedPort();
    const err = await failure(openTunnel(parseProxyUrl(`socks5://user:secret@127.0.0.1:${port}`, 'test'), '127.0.0.1', echoPort));
    expect(err).toMatchObject({ code: 'MG_ERR_CONNECT', errno: 'ECONNREFUSED' });
    expect(err.message).toContain(`the proxy socks5://127.0.0.1:${port}`);
    expect(err.message).not.toContain('secret');
  });

  it('fails with MG_ERR_PROXY when the peer does not speak SOCKS5', async () => {
    const err = await failure(openTunnel(parseProxyUrl(`socks5://127.0.0.1:${echoPort}`, 'test'), '127.0.0.1', echoPort));
    expect(err.code).toBe('MG_ERR_PROXY');
  });

  it('stops at the signal', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    controller.abort(reason);
    expect(await failure(openTunnel(parseProxyUrl(socks.url, 'test'), '127.0.0.1', echoPort, { signal: controller.signal }))).toBe(reason);
  });
});

describe('openTunnel through dante', () => {
  it('carries a connection (socks5 and socks5h), and dante logs the destination', async () => {
    await roundTrip(parseProxyUrl(dante.url, 'test'));
    await roundTrip(parseProxyUrl(dante.url.replace('socks5:', 'socks5h:'), 'test'), 'localhost');
    const seen = (await dante.connections()).filter((c) => c.port === echoPort);
    expect(seen.length).toBe(2);
  });

  it('refuses a client without credentials, and wrong credentials, with MG_ERR_PROXY_AUTH', async () => {
    const missing = await failure(openTunnel(parseProxyUrl(danteAuth.url, 'test'), '127.0.0.1', echoPort));
    expect(missing.code).toBe('MG_ERR_PROXY_AUTH');
    const wrong = await failure(openTunnel(parseProxyUrl(danteAuth.url.replace('socks5://', 'socks5://nosuchuser:wrong@'), 'test'), '127.0.0.1', echoPort));
    expect(wrong.code).toBe('MG_ERR_PROXY_AUTH');
  });
});

describe('openTunnel through an HTTP proxy (CONNECT)', () => {
  it('carries a connection, greeting included', async () => {
    await roundTrip(parseProxyUrl(httpProxy.url, 'test'));
    expect(httpProxy.requests().at(-1)).toMatchObject({ method: 'CONNECT', target: `127.0.0.1:${echoPort}` });
  });

  it('sends Basic credentials, and maps 407 to MG_ERR_PROXY_AUTH', async () => {
    await roundTrip(parseProxyUrl(authHttpProxy.url.replace('http://', 'http://u:p@'), 'test'));
    const err = await failure(openTunnel(parseProxyUrl(authHttpProxy.url.replace('http://', 'http://u:wrong@'), 'test'), '127.0.0.1', echoPort));
    expect(err).toMatchObject({ code: 'MG_ERR_PROXY_AUTH', statusCode: 407 });
    expect(err.message).not.toContain('wrong');
  });

  it('speaks TLS to an https:// proxy, trusting it through proxyTls', async () => {
    const secure = await startProxyServer({ tls: true });
    try {
      const proxy = parseProxyUrl(secure.url, 'test');
      expect(proxy.kind).toBe('https');
      const socket = await openTunnel(proxy, '127.0.0.1', echoPort, { timeoutMs: 5000, proxyTls: { ca: secure.ca ?? '' } });
      try {
        await expectText(socket, GREETING);
      } finally {
        socket.destroy();
      }
      expect(secure.requests().at(-1)).toMatchObject({ method: 'CONNECT', target: `127.0.0.1:${echoPort}` });
      const untrusted = await failure(openTunnel(proxy, '127.0.0.1', echoPort, { timeoutMs: 5000 }));
      expect(untrusted.code).toBe('MG_ERR_TLS');
      expect(untrusted.message).toContain(secure.url);
    } finally {
      await secure.close();
    }
  });

  it('maps a proxy that cannot reach the destination (502) to MG_ERR_CONNECT', async () => {
    const err = await failure(openTunnel(parseProxyUrl(httpProxy.url, 'test'), '127.0.0.1', await closedPort()));
    expect(err).toMatchObject({ code: 'MG_ERR_CONNECT', statusCode: 502 });
  });

  it('maps any other refusal to MG_ERR_PROXY', async () => {
    // A plain HTTP server is no proxy: it answers CONNECT with an error status.
    const server = net.createServer((socket) => {
      socket.on('error', () => socket.destroy());
      socket.once('data', () => socket.end('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const err = await failure(openTunnel(parseProxyUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'test'), '127.0.0.1', echoPort));
      expect(err).toMatchObject({ code: 'MG_ERR_PROXY', statusCode: 405 });
      expect(err.message).toContain('refused CONNECT');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
