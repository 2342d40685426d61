import type { Socket } from 'node:net';
import tls, { TLSSocket, type ConnectionOptions } from 'node:tls';
import { openTunnel, type ProxyEndpoint } from '@multiget/core';
import { FTPError, type Client, type FTPContext, type FTPResponse } from 'basic-ftp';
import { isFtpError } from './ftpErrors.js';
import type { FtpTarget } from './ftpTarget.js';

/** `229 Entering Extended Passive Mode (|||6446|)`: the port (RFC 2428; some servers use `!`). */
function epsvPort(message: string): number {
  const match = /\(([!-~])\1\1(\d{1,5})\1\)/.exec(message);
  const port = Number(match?.[2]);
  if (match === null || !(port > 0 && port < 65536)) throw new Error(`Can't parse response to 'EPSV': ${message}`);
  return port;
}

/** `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)`: the port; the address is not used (see below). */
function pasvPort(message: string): number {
  const match = /(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})/.exec(message);
  const port = Number(match?.[5]) * 256 + Number(match?.[6]);
  if (match === null || !(port > 0 && port < 65536)) throw new Error(`Can't parse response to 'PASV': ${message}`);
  return port;
}

function secured(socket: TLSSocket): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * Opens the control connection of `client` through `proxy`: the tunnel, TLS on it for implicit
 * FTPS, then the server's greeting. `proxyTls` (trust, verification) applies to an `https://` proxy. The control socket is handed to basic-ftp, which then runs
 * AUTH TLS and every command on it as on a direct one.
 *
 * @throws DownloadError - the tunnel's failures (MG_ERR_CONNECT, MG_ERR_PROXY_AUTH, MG_ERR_PROXY ...).
 * @throws FTPError - a greeting other than 2xx (421 busy ...).
 */
export async function connectThroughProxy(
  client: Client,
  target: FtpTarget,
  proxy: ProxyEndpoint,
  tlsOptions: ConnectionOptions,
  proxyTls: ConnectionOptions,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const raw = await openTunnel(proxy, target.host, target.port, { timeoutMs, signal, proxyTls });
  let socket: Socket = raw;
  try {
    if (target.security === 'implicit') socket = await secured(tls.connect({ ...tlsOptions, socket: raw }));
  } catch (err) {
    raw.destroy();
    throw err;
  }
  // Setting the control socket resets the context (data socket, TLS options): then fill them in.
  client.ftp.socket = socket;
  if (target.security === 'implicit') client.ftp.tlsOptions = tlsOptions;
  // As basic-ftp's connect(): only a 2xx greeting lets the session go on.
  await client.ftp.handle(undefined, (res, task) => {
    if (res instanceof Error) task.reject(res);
    else if (res.code >= 200 && res.code < 300) task.resolve(res);
    else task.reject(new FTPError(res));
  });
}

/**
 * A transfer strategy (basic-ftp's `prepareTransfer`) that opens every passive data connection
 * through `proxy`: EPSV, else PASV (remembered once one works), then a tunnel to the control
 * connection's host at the port the server named, with TLS resuming the control connection's
 * session when the control connection is protected.
 *
 * The address in a PASV reply is never used: through a proxy it is often the server's view of
 * itself (a private address), and connecting only to the host the user named also keeps the FTP
 * bounce protection that basic-ftp applies to direct connections.
 */
export function passiveThroughProxy(target: FtpTarget, proxy: ProxyEndpoint, proxyTls: ConnectionOptions): (ftp: FTPContext) => Promise<FTPResponse> {
  let epsv: boolean | undefined;
  return async (ftp) => {
    let reply: FTPResponse | undefined;
    let port = 0;
    if (epsv !== false) {
      try {
        reply = await ftp.request('EPSV');
        port = epsvPort(reply.message);
        epsv = true;
      } catch (err) {
        // A server without EPSV says so with a 5xx; anything else is a real failure.
        if (epsv === true || !isFtpError(err) || err.code < 500) throw err;
        epsv = false;
        reply = undefined;
      }
    }
    if (reply === undefined) {
      reply = await ftp.request('PASV');
      port = pasvPort(reply.message);
    }
    const raw = await openTunnel(proxy, target.host, port, { timeoutMs: ftp.timeout, proxyTls });
    if (ftp.closed) {
      // The session ended (stopped, failed) while the tunnel was being set up.
      raw.destroy();
      throw new Error('Control socket is disconnected');
    }
    let socket: Socket = raw;
    const control = ftp.socket;
    // Asked of the target, not of the control socket's class: through an https:// proxy even a
    // plain FTP control connection is a TLSSocket (TLS to the proxy).
    if (target.security !== 'none' && control instanceof TLSSocket) {
      // Servers require the data connection to resume the control connection's TLS session.
      const data = tls.connect({ ...ftp.tlsOptions, socket: raw, session: ftp.tlsSessionStore ?? control.getSession() });
      data.on('session', (session: Buffer) => {
        ftp.tlsSessionStore = session;
      });
      socket = data;
    }
    ftp.dataSocket = socket;
    return reply;
  };
}
