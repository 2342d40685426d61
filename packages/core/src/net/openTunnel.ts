import { lookup } from 'node:dns/promises';
import net, { type Socket } from 'node:net';
import { createRequire } from 'node:module';
import type { ConnectionOptions } from 'node:tls';
import { ErrorCodes, NetworkError, errorCodeOf, isDownloadError, tlsCauseOf, type DownloadError } from '../errors.js';
import { httpConnect } from './httpConnect.js';
import { normalizeHost } from './noProxy.js';
import type { ProxyEndpoint } from './proxy.js';
import { socks5Connect } from './socks5.js';

/** Options of {@link openTunnel}. */
export interface TunnelOptions {
  /** Milliseconds for the whole setup (connect to the proxy, TLS to it, handshake); 0 or absent for no limit. */
  timeoutMs?: number;
  /** Stops the setup; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** TLS settings (trust, verification) for an `https://` proxy itself. */
  proxyTls?: ConnectionOptions;
}

/**
 * `node:tls`, loaded when an `https://` proxy is first used: importing it with the module would load
 * TLS into every process that loads core (about 25 ms of start-up), most of which never need it.
 */
const loadTls = (): typeof import('node:tls') => createRequire(import.meta.url)('node:tls') as typeof import('node:tls');

/** Errors after the handover reach the caller's own listeners; this one only keeps an error in the gap from crashing the process. */
function ignore(): void {}

function connectToProxy(proxy: ProxyEndpoint, options: TunnelOptions): Socket {
  if (proxy.kind === 'https') {
    return loadTls().connect({
      ...options.proxyTls,
      host: proxy.host,
      port: proxy.port,
      ...(net.isIP(proxy.host) === 0 ? { servername: proxy.host } : {}),
      ALPNProtocols: ['http/1.1'],
    });
  }
  return net.connect({ host: proxy.host, port: proxy.port });
}

function proxyConnectError(err: unknown, proxy: ProxyEndpoint): DownloadError {
  if (isDownloadError(err)) return err;
  const errno = errorCodeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const details = { cause: err, ...(errno === undefined ? {} : { errno }) };
  if (tlsCauseOf(err) !== undefined) return new NetworkError(ErrorCodes.TLS, `TLS to the proxy ${proxy.display} failed: ${message}`, details);
  if (errno === 'ETIMEDOUT') return new NetworkError(ErrorCodes.CONNECT_TIMEOUT, `Connecting to the proxy ${proxy.display} timed out`, details);
  if (errno === 'ECONNRESET' || errno === 'EPIPE') return new NetworkError(ErrorCodes.PROXY, `The proxy ${proxy.display} closed the connection: ${message}`, details);
  return new NetworkError(ErrorCodes.CONNECT, `Cannot connect to the proxy ${proxy.display}: ${message}`, details);
}

/**
 * Opens a TCP connection to `host`:`port` through `proxy` and returns the socket that carries it
 * (a TLSSocket for an `https://` proxy). Bytes the destination sent right after the tunnel opened
 * stay buffered: the first `'data'` listener gets them.
 *
 * - `socks5h://`: the host name goes to the proxy, which resolves it.
 * - `socks5://`: the name is resolved here first (the proxy sees only an address).
 * - `http://`, `https://`: a `CONNECT` tunnel; the proxy resolves the name.
 *
 * Credentials of the proxy URL never appear in a message: only {@link ProxyEndpoint.display}.
 *
 * @param host - Destination host name or IP literal (IPv6 with or without brackets).
 * @param port - Destination port.
 * @throws DownloadError - MG_ERR_CONNECT (proxy unreachable, name not found, destination
 *   unreachable), MG_ERR_CONNECT_TIMEOUT, MG_ERR_TLS (to an https:// proxy), MG_ERR_PROXY_AUTH,
 *   MG_ERR_PROXY; or the signal's reason.
 */
export async function openTunnel(proxy: ProxyEndpoint, host: string, port: number, options: TunnelOptions = {}): Promise<Socket> {
  const signal = options.signal;
  signal?.throwIfAborted();
  const target = normalizeHost(host);
  let socket: Socket | undefined;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    const timeoutMs = options.timeoutMs ?? 0;
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        socket?.destroy();
        reject(new NetworkError(ErrorCodes.CONNECT_TIMEOUT, `Connecting to ${target}:${port} through the proxy ${proxy.display} took more than ${timeoutMs} ms`));
      }, timeoutMs);
    }
    if (signal !== undefined) {
      onAbort = (): void => {
        socket?.destroy();
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  stopped.catch(ignore);
  const setup = async (): Promise<Socket> => {
    let address = target;
    if (proxy.kind === 'socks5' && net.isIP(target) === 0) {
      try {
        address = (await lookup(target)).address;
      } catch (err) {
        const errno = errorCodeOf(err);
        throw new NetworkError(ErrorCodes.CONNECT, `Cannot resolve ${target} (socks5:// resolves names locally; socks5h:// lets the proxy resolve them)`, {
          cause: err,
          ...(errno === undefined ? {} : { errno }),
        });
      }
    }
    const opened = connectToProxy(proxy, options);
    socket = opened;
    opened.on('error', ignore);
    try {
      await new Promise<void>((resolve, reject) => {
        const event = proxy.kind === 'https' ? 'secureConnect' : 'connect';
        const onClose = (): void => onError(Object.assign(new Error('closed while connecting'), { code: 'ECONNRESET' }));
        const cleanup = (): void => {
          opened.off(event, onConnect);
          opened.off('error', onError);
          opened.off('close', onClose);
        };
        const onConnect = (): void => {
          cleanup();
          resolve();
        };
        function onError(err: Error): void {
          cleanup();
          reject(err);
        }
        opened.once(event, onConnect);
        opened.once('error', onError);
        opened.once('close', onClose);
      });
    } catch (err) {
      throw proxyConnectError(err, proxy);
    }
    opened.setNoDelay(true);
    if (proxy.kind === 'socks5' || proxy.kind === 'socks5h') await socks5Connect(opened, proxy, address, port);
    else await httpConnect(opened, proxy, address, port);
    return opened;
  };
  const work = setup();
  work.catch(ignore);
  try {
    return await Promise.race([work, stopped]);
  } catch (err) {
    socket?.destroy();
    if (signal?.aborted === true) throw signal.reason;
    throw proxyConnectError(err, proxy);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
}
