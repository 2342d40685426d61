import { createRequire } from 'node:module';
import { connectSlabSocket, openTunnel, type ProxyEndpoint } from '@multiget/core';
import type { Dispatcher, buildConnector } from 'undici';
import { loadAgent, loadBuildConnector, loadProxyAgent } from './undiciParts.js';

/** What the transport needs from the plugin's options. */
export interface TransportOptions {
  /** The proxy these requests go through; undefined to connect directly. */
  proxy: ProxyEndpoint | undefined;
  /** Extra trusted CA certificates (PEM). */
  ca: string | Buffer | Array<string | Buffer> | undefined;
  /** Skip certificate verification. */
  insecure: boolean;
  /** Milliseconds to open a TCP (and TLS) connection. */
  connectTimeoutMs: number;
}

/** A dispatcher and whether its requests go through a proxy (which then owns Proxy-Authorization). */
export interface Transport {
  /** Sends the plugin's requests that take this route (for one connect timeout). */
  dispatcher: Dispatcher;
  /** True when requests go through a proxy, so Proxy-Authorization must stay out of request headers. */
  proxied: boolean;
}

/**
 * The trust store for `ca`: Node.js replaces its defaults when `ca` is given, so the defaults
 * (bundled roots, NODE_EXTRA_CA_CERTS and, with --use-system-ca, the system store) come first.
 */
function trustStore(extra: string | Buffer | Array<string | Buffer>): Array<string | Buffer> {
  // Loaded here, only with extra CAs: a plain-HTTP run otherwise never loads TLS (undici loads it lazily too).
  const tls = createRequire(import.meta.url)('node:tls') as typeof import('node:tls');
  const defaults = typeof tls.getCACertificates === 'function' ? tls.getCACertificates('default') : [...tls.rootCertificates];
  return [...defaults, ...(Array.isArray(extra) ? extra : [extra])];
}

/**
 * Builds an undici dispatcher for one route: HTTP/1.1 only (a download manager wants several TCP
 * connections, not HTTP/2 streams sharing one), keep-alive, no pipelining, no cap on connections
 * per origin (the engine caps them). The same TLS settings apply to origins reached directly,
 * through a tunnel (`requestTls`) and to an HTTPS proxy itself (`proxyTls`).
 *
 * - No proxy: an Agent whose http:// connections read into slabs (see {@link slabConnector});
 *   https:// connections are undici's own.
 * - `http://` / `https://` proxy: undici's ProxyAgent (http:// requests forwarded, https:// through
 *   CONNECT; credentials of the proxy URL as Basic Proxy-Authorization).
 * - `socks5://` / `socks5h://`: an Agent whose connector opens each connection through core's
 *   SOCKS5 client, then TLS for https:// origins. (undici's own Socks5ProxyAgent is experimental,
 *   warns on stderr, and always lets the proxy resolve names.)
 */
export async function createDispatcher(options: TransportOptions): Promise<Transport> {
  const tlsOptions = {
    rejectUnauthorized: !options.insecure,
    ...(options.ca === undefined ? {} : { ca: trustStore(options.ca) }),
  };
  const timeout = options.connectTimeoutMs;
  const common = {
    allowH2: false,
    pipelining: 1,
    connections: null,
    connectTimeout: timeout,
    connect: { ...tlsOptions, timeout },
  };
  const proxy = options.proxy;
  const Agent = loadAgent();
  if (proxy === undefined) {
    const tls = loadBuildConnector()({ ...tlsOptions, timeout, allowH2: false });
    return { dispatcher: new Agent({ ...common, connect: slabConnector(timeout, tls) }), proxied: false };
  }
  if (proxy.kind === 'http' || proxy.kind === 'https') {
    const ProxyAgent = await loadProxyAgent();
    return {
      dispatcher: new ProxyAgent({ ...common, uri: proxy.href, requestTls: { ...tlsOptions, timeout }, proxyTls: { ...tlsOptions, timeout } }),
      proxied: true,
    };
  }
  const tlsOverTunnel = loadBuildConnector()({ ...tlsOptions, timeout, allowH2: false });
  const connect: buildConnector.connector = (opts, callback) => {
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
    openTunnel(proxy, opts.hostname, port, { timeoutMs: timeout }).then(
      (socket) => {
        if (opts.protocol === 'https:') tlsOverTunnel({ ...opts, httpSocket: socket }, callback);
        else callback(null, socket);
      },
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), null),
    );
  };
  return { dispatcher: new Agent({ ...common, connect }), proxied: true };
}

/**
 * Connections of the process that read into slabs at most; the others read as undici's own. Each
 * keeps the slab it reads into for as long as it is open (up to 1 MiB, see `connectSlabSocket`),
 * and the chunks it handed on keep theirs until written: the 64 connections of eight downloads at
 * once (`-j 8 -c 8`) would hold tens of MiB more, and 4 of them put the bench's `drops` at 100 MiB
 * in some runs (2: 84 MiB, against 79 without). Where slabs save CPU (a fast link, a busy client),
 * the connection policy settles on one or two connections.
 */
const MAX_SLAB_SOCKETS = 2;
let slabSockets = 0;

/**
 * undici's connector for http:// origins reached directly: the socket reads into slabs of up to
 * 1 MiB, sized by its reads (core's `connectSlabSocket`, growing, delivered with `socket.read()` as
 * undici reads). A plain socket reads 64 KiB at a time, each into a fresh buffer that goes through
 * the stream machinery; a slab takes whatever has arrived, up to 1 MiB, in one read. The body
 * chunks undici parses are views of the slab; the plugin frees a slab once its chunks were written
 * or dropped (`ResponseBody`, `HttpByteSource`). Otherwise as undici's own: TCP keep-alive after
 * 60 s, no Nagle, a 64 KiB readable buffer, and a connect timeout that fails with undici's
 * `UND_ERR_CONNECT_TIMEOUT`. Anything else (https://, an upgrade of an existing socket, a third
 * slab connection) goes to `fallback`.
 */
export function slabConnector(timeoutMs: number, fallback: buildConnector.connector): buildConnector.connector {
  return (opts, callback) => {
    if (opts.protocol !== 'http:' || opts.httpSocket !== undefined || slabSockets >= MAX_SLAB_SOCKETS) {
      fallback(opts, callback);
      return;
    }
    const port = Number(opts.port) || 80;
    // A URL's IPv6 host keeps its brackets in `hostname`; net.connect wants the address.
    const host = opts.hostname.startsWith('[') && opts.hostname.endsWith(']') ? opts.hostname.slice(1, -1) : opts.hostname;
    const socket = connectSlabSocket(host, port, {
      deliver: 'push',
      grow: true,
      connect: { highWaterMark: 64 * 1024, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 },
    });
    slabSockets++;
    socket.once('close', () => slabSockets--);
    let done = false;
    const settle = (err: Error | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err === null) callback(null, socket);
      else callback(err, null);
    };
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            const err = Object.assign(new Error(`Connect Timeout Error (attempted address: ${opts.hostname}:${port}, timeout: ${timeoutMs}ms)`), {
              name: 'ConnectTimeoutError',
              code: 'UND_ERR_CONNECT_TIMEOUT',
            });
            socket.destroy(err);
            settle(err);
          }, timeoutMs)
        : undefined;
    socket.once('connect', () => settle(null));
    socket.once('error', (err: Error) => settle(err));
  };
}
