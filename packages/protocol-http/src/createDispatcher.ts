import * as tls from 'node:tls';
import { Agent, EnvHttpProxyAgent, ProxyAgent, type Dispatcher } from 'undici';

/** What the transport needs from the plugin's options. */
export interface TransportOptions {
  /** Explicit proxy URL; wins over the environment. */
  proxy: string | undefined;
  /** Route through the proxies of HTTP_PROXY / HTTPS_PROXY, except hosts in NO_PROXY. */
  envProxy: boolean;
  /** Extra trusted CA certificates (PEM). */
  ca: string | Buffer | Array<string | Buffer> | undefined;
  /** Skip certificate verification. */
  insecure: boolean;
  /** Milliseconds to open a TCP (and TLS) connection. */
  connectTimeoutMs: number;
}

/** A dispatcher and whether requests may go through a proxy (which then owns Proxy-Authorization). */
export interface Transport {
  /** Sends every request of the plugin (for one connect timeout). */
  dispatcher: Dispatcher;
  /** True when some requests may go through a proxy, so Proxy-Authorization must stay out of request headers. */
  proxied: boolean;
}

const PROXY_ENV = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY'] as const;

/** True when a proxy environment variable is set (EnvHttpProxyAgent reads the same ones). */
export function hasProxyEnvironment(): boolean {
  return PROXY_ENV.some((name) => (process.env[name] ?? '') !== '');
}

/**
 * The trust store for `ca`: Node.js replaces its defaults when `ca` is given, so the defaults
 * (bundled roots, NODE_EXTRA_CA_CERTS and, with --use-system-ca, the system store) come first.
 */
function trustStore(extra: string | Buffer | Array<string | Buffer>): Array<string | Buffer> {
  const defaults = typeof tls.getCACertificates === 'function' ? tls.getCACertificates('default') : [...tls.rootCertificates];
  return [...defaults, ...(Array.isArray(extra) ? extra : [extra])];
}

/**
 * Builds the undici dispatcher of one plugin instance: HTTP/1.1 only (a download manager wants
 * several TCP connections, not HTTP/2 streams sharing one), keep-alive, no pipelining, no cap on
 * connections per origin (the engine caps them). The same TLS settings apply to origins reached
 * directly, through a CONNECT tunnel (`requestTls`) and to an HTTPS proxy itself (`proxyTls`).
 */
export function createDispatcher(options: TransportOptions): Transport {
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
  if (options.proxy !== undefined) {
    return {
      dispatcher: new ProxyAgent({ ...common, uri: options.proxy, requestTls: { ...tlsOptions, timeout }, proxyTls: { ...tlsOptions, timeout } }),
      proxied: true,
    };
  }
  if (options.envProxy) {
    return {
      dispatcher: new EnvHttpProxyAgent({ ...common, requestTls: { ...tlsOptions, timeout }, proxyTls: { ...tlsOptions, timeout } }),
      proxied: true,
    };
  }
  return { dispatcher: new Agent(common), proxied: false };
}
