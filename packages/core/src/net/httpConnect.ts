import type { Socket } from 'node:net';
import { ErrorCodes, NetworkError, ProtocolError } from '../errors.js';
import { HandshakeReader } from './handshakeReader.js';
import type { ProxyEndpoint } from './proxy.js';

/** A proxy's response head longer than this is refused. */
const HEAD_LIMIT = 16 * 1024;

/** Statuses by which a proxy says it could not reach the destination (not that it refuses us). */
const UNREACHABLE: ReadonlySet<number> = new Set([502, 504]);

/**
 * Opens an HTTP `CONNECT` tunnel (RFC 9110 §9.3.6) to `host`:`port` on `socket`, already
 * connected to `proxy`. The proxy URL's credentials go in a Basic Proxy-Authorization header.
 * On success the socket carries the tunnel; bytes that followed the response stay buffered.
 *
 * @throws DownloadError - MG_ERR_PROXY_AUTH (407), MG_ERR_CONNECT (502, 504: the proxy could not
 *   reach the destination), MG_ERR_SERVER_BUSY (503), MG_ERR_PROXY (any other status, for
 *   instance a proxy that allows CONNECT only to port 443; or a malformed response).
 */
export async function httpConnect(socket: Socket, proxy: ProxyEndpoint, host: string, port: number): Promise<void> {
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
  if (proxy.username !== undefined || proxy.password !== undefined) {
    const token = Buffer.from(`${proxy.username ?? ''}:${proxy.password ?? ''}`, 'utf8').toString('base64');
    lines.push(`Proxy-Authorization: Basic ${token}`);
  }
  const reader = new HandshakeReader(socket);
  let head: string;
  try {
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    head = (await reader.readHead(HEAD_LIMIT)).toString('latin1');
  } catch (err) {
    throw new NetworkError(ErrorCodes.PROXY, `The HTTP proxy ${proxy.display} gave no usable answer to CONNECT ${authority}`, { cause: err });
  } finally {
    reader.release();
  }
  const status = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?\r\n/.exec(head);
  if (status === null) throw new ProtocolError(ErrorCodes.PROXY, `The HTTP proxy ${proxy.display} answered CONNECT ${authority} with something that is not HTTP`);
  const statusCode = Number(status[1]);
  if (statusCode >= 200 && statusCode < 300) return;
  const reason = `HTTP ${statusCode}${status[2] === undefined || status[2] === '' ? '' : ` ${status[2].trim()}`}`;
  const details = { statusCode };
  if (statusCode === 407) {
    const what = proxy.username === undefined ? 'wants credentials (http://USER:PASSWORD@HOST:PORT)' : 'refused the credentials';
    throw new ProtocolError(ErrorCodes.PROXY_AUTH, `The HTTP proxy ${proxy.display} ${what}: ${reason}`, details);
  }
  if (UNREACHABLE.has(statusCode)) {
    throw new NetworkError(ErrorCodes.CONNECT, `The HTTP proxy ${proxy.display} could not connect to ${authority}: ${reason}`, details);
  }
  if (statusCode === 503) {
    throw new ProtocolError(ErrorCodes.SERVER_BUSY, `The HTTP proxy ${proxy.display} is busy: ${reason}`, details);
  }
  throw new ProtocolError(ErrorCodes.PROXY, `The HTTP proxy ${proxy.display} refused CONNECT ${authority}: ${reason}`, details);
}
