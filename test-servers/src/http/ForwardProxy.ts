import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type Socket } from 'node:net';
import { pipeline } from 'node:stream';
import { testCertificate } from '../certificate.js';
import type { ProxyRequestRecord, ProxyServerOptions, ProxyTestServer } from './types.js';

// Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection and must not cross the proxy.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);
const CHALLENGE = 'Basic realm="multiget-proxy"';

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = new Set((headers.connection ?? '').split(',').map((name) => name.trim().toLowerCase()));
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && !named.has(name)) out[name] = value;
  }
  return out;
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** `host:port` of a CONNECT target, IPv6 literals in brackets. */
function splitAuthority(authority: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(authority);
  if (match === null) return undefined;
  return { host: match[1] ?? match[2] ?? '', port: Number(match[3]) };
}

/**
 * The forward proxy behind {@link ProxyTestServer}: absolute-URI `http://` requests are forwarded,
 * `CONNECT` opens a blind tunnel (so HTTPS stays end to end), and with `auth` anything without the
 * right `Proxy-Authorization` gets 407.
 */
export class ForwardProxy implements ProxyTestServer {
  private log: ProxyRequestRecord[] = [];
  private readonly sockets = new Set<Socket>();
  // No keep-alive upstream: every forwarded request is visible as its own connection to the origin,
  // and close() has no pooled sockets to chase.
  private readonly agent = new http.Agent({ keepAlive: false });
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: http.Server | https.Server,
    /** See {@link ProxyTestServer.url}. */
    readonly url: string,
    private readonly expected: string | undefined,
    /** See {@link ProxyTestServer.ca}. */
    readonly ca: string | undefined,
  ) {
    server.on('connection', (socket: Socket) => this.track(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.forward(req, res));
    server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => this.tunnel(req, socket, head));
  }

  /** Creates the proxy and listens on port 0 of 127.0.0.1. */
  static async listen(options: ProxyServerOptions = {}): Promise<ForwardProxy> {
    const certificate = options.tls === true ? await testCertificate() : undefined;
    const server = certificate === undefined ? http.createServer() : https.createServer({ key: certificate.key, cert: certificate.cert });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const expected = options.auth === undefined
      ? undefined
      : Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64');
    return new ForwardProxy(server, `${certificate === undefined ? 'http' : 'https'}://127.0.0.1:${port}`, expected, certificate?.cert);
  }

  /** {@inheritDoc ProxyTestServer.requests} */
  requests(): ProxyRequestRecord[] {
    return this.log.map((record) => ({ ...record, headers: { ...record.headers } }));
  }

  /** {@inheritDoc ProxyTestServer.close} */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
      this.agent.destroy();
    });
    return this.closing;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private record(req: IncomingMessage): void {
    this.log.push({ method: req.method ?? 'GET', target: req.url ?? '', headers: flatHeaders(req.headers) });
  }

  private authorized(req: IncomingMessage): boolean {
    if (this.expected === undefined) return true;
    const [scheme = '', value = ''] = (req.headers['proxy-authorization'] ?? '').trim().split(/\s+/, 2);
    return scheme.toLowerCase() === 'basic' && value === this.expected;
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    this.record(req);
    const refuse = (status: number, headers: Record<string, string> = {}): void => {
      const text = `${status} ${http.STATUS_CODES[status] ?? ''}\n`;
      res.writeHead(status, { ...headers, 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (!this.authorized(req)) {
      refuse(407, { 'proxy-authenticate': CHALLENGE });
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      refuse(400);
      return;
    }
    if (target.protocol !== 'http:') {
      refuse(400);
      return;
    }
    const upstream = http.request({
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port === '' ? 80 : Number(target.port),
      path: target.pathname + target.search,
      method: req.method,
      headers: endToEnd(req.headers),
      agent: this.agent,
    });
    upstream.on('response', (answer: IncomingMessage) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      // A body cut short upstream (a dropped connection) must reach the client as a broken
      // message, not as a clean end, so errors destroy the client side too.
      pipeline(answer, res, (error) => {
        if (error) res.destroy();
      });
    });
    upstream.on('error', () => {
      if (!res.headersSent) refuse(502);
      else res.destroy();
    });
    res.once('close', () => upstream.destroy());
    pipeline(req, upstream, () => undefined);
  }

  private tunnel(req: IncomingMessage, client: Socket, head: Buffer): void {
    this.record(req);
    client.on('error', () => client.destroy());
    if (!this.authorized(req)) {
      client.end(`HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: ${CHALLENGE}\r\n`
        + 'Content-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const authority = splitAuthority(req.url ?? '');
    if (authority === undefined) {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const upstream = net.connect(authority.port, authority.host);
    this.track(upstream);
    // `upstream.connecting` is already false when a refused connect reports its error.
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      if (!connected) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      else client.destroy();
    });
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  }
}
