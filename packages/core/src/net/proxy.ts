import { ErrorCodes, UsageError } from '../errors.js';
import { NoProxyList, normalizeHost } from './noProxy.js';

/** The proxy protocols Multiget speaks. */
export type ProxyKind = 'http' | 'https' | 'socks5' | 'socks5h';

/**
 * A parsed proxy URL.
 *
 * - `http://` and `https://`: an HTTP proxy (TLS to the proxy itself for `https://`). HTTP
 *   requests are forwarded; everything else (HTTPS, FTP, SFTP) goes through a `CONNECT` tunnel.
 * - `socks5://`: SOCKS5 (RFC 1928) with host names resolved locally; `socks5h://`: resolved by the
 *   proxy (the name is sent as is). `socks://` is taken as `socks5://`.
 *
 * Credentials (`user:password@`, percent-encoded) are used for the proxy only: Basic
 * Proxy-Authorization, or SOCKS5 user name/password authentication (RFC 1929).
 */
export interface ProxyEndpoint {
  /** The protocol spoken to the proxy. */
  readonly kind: ProxyKind;
  /** Host name or IP address of the proxy, IPv6 without brackets. */
  readonly host: string;
  /** Port of the proxy (default 80 for http, 443 for https, 1080 for SOCKS). */
  readonly port: number;
  /** Decoded user name, when the URL has one. */
  readonly username?: string;
  /** Decoded password, when the URL has one. */
  readonly password?: string;
  /** The proxy's URL without credentials: what messages and logs may show. */
  readonly display: string;
  /** The proxy's URL with its credentials. A secret: never log it. */
  readonly href: string;
}

const KINDS: ReadonlyMap<string, ProxyKind> = new Map([
  ['http:', 'http'],
  ['https:', 'https'],
  ['socks5:', 'socks5'],
  ['socks5h:', 'socks5h'],
  ['socks:', 'socks5'],
]);

const DEFAULT_PORTS: Readonly<Record<ProxyKind, number>> = { http: 80, https: 443, socks5: 1080, socks5h: 1080 };

function decode(part: string, source: string): string {
  try {
    return decodeURIComponent(part);
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, `The proxy URL of ${source} has a malformed user name or password`, { cause: err });
  }
}

/**
 * Parses a proxy URL. A value without a scheme (`proxy.example:3128`) is an HTTP proxy, as curl
 * and wget read it.
 *
 * @param text - The URL; it may carry credentials, so it never appears in an error message.
 * @param source - Where the value came from, for messages (`--proxy`, `ALL_PROXY`, ...).
 * @throws UsageError (MG_ERR_INVALID_OPTION) - not a URL, an unsupported scheme (socks4 ...), a
 *   path or query, or SOCKS5 credentials longer than 255 bytes.
 */
export function parseProxyUrl(text: string, source: string): ProxyEndpoint {
  const trimmed = text.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  const url = URL.parse(withScheme);
  if (url === null || url.hostname === '') {
    throw new UsageError(ErrorCodes.INVALID_OPTION, `${source} is not a proxy URL such as http://proxy.example:3128 or socks5h://127.0.0.1:1080`);
  }
  const kind = KINDS.get(url.protocol);
  if (kind === undefined) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, `Unsupported proxy scheme ${url.protocol} in ${source} (http, https, socks5, socks5h)`);
  }
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw new UsageError(ErrorCodes.INVALID_OPTION, `The proxy URL of ${source} must not have a path or query`);
  }
  const username = url.username === '' ? undefined : decode(url.username, source);
  const password = url.password === '' ? undefined : decode(url.password, source);
  if ((kind === 'socks5' || kind === 'socks5h') && (Buffer.byteLength(username ?? '') > 255 || Buffer.byteLength(password ?? '') > 255)) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, `SOCKS5 user names and passwords are limited to 255 bytes (${source})`);
  }
  const port = url.port === '' ? DEFAULT_PORTS[kind] : Number(url.port);
  const scheme = url.protocol === 'socks:' ? 'socks5:' : url.protocol;
  const display = `${scheme}//${url.hostname}:${port}`;
  const credentials = url.username === '' && url.password === '' ? '' : `${url.username}${url.password === '' ? '' : `:${url.password}`}@`;
  return {
    kind,
    host: normalizeHost(url.hostname),
    port,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    display,
    href: `${scheme}//${credentials}${url.hostname}:${port}`,
  };
}

/** Options of {@link ProxyResolver}. */
export interface ProxyOptions {
  /**
   * Proxy for every URL, whatever its scheme: `http://`, `https://`, `socks5://` or `socks5h://`,
   * with optional `user:password@`. Wins over the environment's proxy variables.
   */
  proxy?: string;
  /** Hosts reached directly (NO_PROXY syntax, see {@link NoProxyList}). Default: NO_PROXY of `env`. */
  noProxy?: string;
  /**
   * Read the environment: `<scheme>_proxy` (`http_proxy`, `https_proxy`, `ftp_proxy`,
   * `ftps_proxy`, `sftp_proxy`), then `all_proxy`, and `no_proxy`; each lower case first, then
   * upper case. Default true. With false, only `proxy` and `noProxy` count.
   */
  useEnv?: boolean;
  /** The environment to read. Default `process.env`, read once, when the resolver is made. */
  env?: NodeJS.ProcessEnv;
}

/** Ports used when a URL names none, for NO_PROXY entries with a port and for tunnels. */
export const DEFAULT_PORT_OF_SCHEME: Readonly<Record<string, number>> = {
  'http:': 80,
  'https:': 443,
  'ftp:': 21,
  'ftps:': 990,
  'sftp:': 22,
};

function envValue(env: NodeJS.ProcessEnv, name: string): { name: string; value: string } | undefined {
  for (const key of [name.toLowerCase(), name.toUpperCase()]) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') return { name: key, value };
  }
  return undefined;
}

/**
 * Decides, per URL, whether to connect directly or through which proxy. One resolver per plugin:
 * the explicit proxy and the environment are read once, when it is made, so every connection of
 * a download is routed the same way.
 *
 * A malformed proxy URL fails when a URL needs it (MG_ERR_INVALID_OPTION), never silently goes
 * direct; a malformed explicit `proxy` fails at once.
 *
 * @example
 * const proxies = new ProxyResolver({ proxy: 'socks5h://127.0.0.1:1080' });
 * proxies.proxyFor(new URL('ftp://files.example/a.iso')); // { kind: 'socks5h', host: '127.0.0.1', port: 1080, ... }
 */
export class ProxyResolver {
  private readonly explicit: ProxyEndpoint | undefined;
  private readonly noProxy: NoProxyList;
  private readonly env: NodeJS.ProcessEnv;
  private readonly useEnv: boolean;

  /** @throws UsageError (MG_ERR_INVALID_OPTION) for an explicit `proxy` that cannot be used. */
  constructor(options: ProxyOptions = {}) {
    this.useEnv = options.useEnv !== false;
    // A copy: later changes to process.env must not reroute a running download.
    this.env = this.useEnv ? { ...(options.env ?? process.env) } : {};
    this.explicit = options.proxy === undefined ? undefined : parseProxyUrl(options.proxy, 'the proxy option');
    this.noProxy = new NoProxyList(options.noProxy ?? envValue(this.env, 'no_proxy')?.value);
  }

  /** True when some URL may go through a proxy (an explicit one, or a proxy variable is set). */
  get configured(): boolean {
    if (this.explicit !== undefined) return true;
    return Object.entries(this.env).some(([name, value]) => /_proxy$/i.test(name) && !/^no_proxy$/i.test(name) && (value ?? '').trim() !== '');
  }

  /**
   * The proxy for `url`, or undefined to connect directly (no proxy configured for its scheme, or
   * its host is in NO_PROXY).
   *
   * @throws UsageError (MG_ERR_INVALID_OPTION) when the proxy variable that applies is malformed.
   */
  proxyFor(url: URL): ProxyEndpoint | undefined {
    const port = url.port === '' ? (DEFAULT_PORT_OF_SCHEME[url.protocol] ?? 0) : Number(url.port);
    if (this.noProxy.matches(url.hostname, port)) return undefined;
    if (this.explicit !== undefined) return this.explicit;
    const scheme = url.protocol.replace(/:$/, '');
    const found = envValue(this.env, `${scheme}_proxy`) ?? envValue(this.env, 'all_proxy');
    return found === undefined ? undefined : parseProxyUrl(found.value, found.name);
  }
}
