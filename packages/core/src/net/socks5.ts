import { isIPv4, isIPv6, type Socket } from 'node:net';
import { ErrorCodes, NetworkError, ProtocolError, type DownloadError } from '../errors.js';
import { HandshakeReader } from './handshakeReader.js';
import type { ProxyEndpoint } from './proxy.js';

const VERSION = 5;
const METHOD_NONE = 0x00;
const METHOD_PASSWORD = 0x02;
const METHOD_REFUSED = 0xff;
const COMMAND_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

/** RFC 1928 §6 reply codes, as messages. */
const REPLIES: Readonly<Record<number, string>> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

/** Replies about the destination, not the proxy: as retryable as the same failure on a direct connection. */
const DESTINATION_FAILURES: ReadonlyMap<number, string> = new Map([
  [3, 'ENETUNREACH'],
  [4, 'EHOSTUNREACH'],
  [5, 'ECONNREFUSED'],
  [6, 'ETIMEDOUT'],
]);

function ipv6Bytes(address: string): Buffer {
  // Expand `::` and an embedded dotted quad into eight 16-bit groups.
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1] !== undefined) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  return out;
}

/** The DST.ADDR of a request: an address type and its bytes. */
function destination(host: string): Buffer {
  if (isIPv4(host)) return Buffer.from([ATYP_IPV4, ...host.split('.').map(Number)]);
  if (isIPv6(host)) return Buffer.concat([Buffer.from([ATYP_IPV6]), ipv6Bytes(host)]);
  const name = Buffer.from(host, 'utf8');
  return Buffer.concat([Buffer.from([ATYP_DOMAIN, name.length]), name]);
}

/**
 * Runs a SOCKS5 CONNECT (RFC 1928) on `socket`, already connected to `proxy`: method negotiation,
 * user name/password authentication (RFC 1929) when the proxy URL has credentials, then CONNECT to
 * `host`:`port`. `host` is sent as given: an IP literal as an address, a name as a domain (the
 * caller resolves it first for `socks5://`). On success the socket carries the tunnel; bytes that
 * followed the reply stay buffered in it.
 *
 * @throws DownloadError - MG_ERR_PROXY_AUTH (no acceptable method, credentials refused),
 *   MG_ERR_CONNECT (the proxy could not reach the destination), MG_ERR_PROXY (refused by its
 *   rules, unsupported, or not speaking SOCKS5).
 */
export async function socks5Connect(socket: Socket, proxy: ProxyEndpoint, host: string, port: number): Promise<void> {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const reader = new HandshakeReader(socket);
  const broken = (what: string): DownloadError =>
    new ProtocolError(ErrorCodes.PROXY, `The SOCKS5 proxy ${proxy.display} ${what}`);
  try {
    const hasCredentials = proxy.username !== undefined || proxy.password !== undefined;
    const methods = hasCredentials ? [METHOD_NONE, METHOD_PASSWORD] : [METHOD_NONE];
    socket.write(Buffer.from([VERSION, methods.length, ...methods]));
    const [version, method] = await reader.read(2);
    if (version !== VERSION) throw broken(`is not a SOCKS5 proxy (version byte ${version})`);
    if (method === METHOD_REFUSED || (method === METHOD_PASSWORD && !hasCredentials) || (method !== METHOD_NONE && method !== METHOD_PASSWORD)) {
      throw new ProtocolError(
        ErrorCodes.PROXY_AUTH,
        hasCredentials
          ? `The SOCKS5 proxy ${proxy.display} accepts none of our authentication methods`
          : `The SOCKS5 proxy ${proxy.display} wants a user name and password (socks5://USER:PASSWORD@HOST:PORT)`,
      );
    }
    if (method === METHOD_PASSWORD) {
      const user = Buffer.from(proxy.username ?? '', 'utf8');
      const password = Buffer.from(proxy.password ?? '', 'utf8');
      socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([password.length]), password]));
      const [, status] = await reader.read(2);
      if (status !== 0) throw new ProtocolError(ErrorCodes.PROXY_AUTH, `The SOCKS5 proxy ${proxy.display} refused the user name and password`);
    }
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16BE(port);
    socket.write(Buffer.concat([Buffer.from([VERSION, COMMAND_CONNECT, 0]), destination(host), portBytes]));
    const [replyVersion, reply, , addressType] = await reader.read(4);
    if (replyVersion !== VERSION) throw broken(`answered CONNECT with version byte ${replyVersion}`);
    if (reply !== 0) {
      const reason = REPLIES[reply ?? -1] ?? `reply code ${reply}`;
      const errno = DESTINATION_FAILURES.get(reply ?? -1);
      if (errno !== undefined) {
        const code = errno === 'ETIMEDOUT' ? ErrorCodes.CONNECT_TIMEOUT : ErrorCodes.CONNECT;
        throw new NetworkError(code, `The SOCKS5 proxy ${proxy.display} could not connect to ${where}: ${reason}`, { errno });
      }
      throw broken(`refused the connection to ${where}: ${reason}`);
    }
    // BND.ADDR and BND.PORT: read past them, so the tunnel starts at the right byte.
    const addressLength = addressType === ATYP_IPV4 ? 4 : addressType === ATYP_IPV6 ? 16 : addressType === ATYP_DOMAIN ? (await reader.read(1))[0] ?? 0 : -1;
    if (addressLength < 0) throw broken(`sent an unknown address type ${addressType}`);
    await reader.read(addressLength + 2);
  } catch (err) {
    if (err instanceof Error && (err as { code?: unknown }).code === 'ERR_PROXY_CLOSED') {
      throw new NetworkError(ErrorCodes.PROXY, `The SOCKS5 proxy ${proxy.display} closed the connection during the handshake for ${where}`, { cause: err });
    }
    throw err;
  } finally {
    reader.release();
  }
}
