import { ForwardProxy } from './ForwardProxy.js';
import type { ProxyServerOptions, ProxyTestServer } from './types.js';

/**
 * Starts an HTTP forward proxy on port 0 of 127.0.0.1: absolute-URI `http://` requests are
 * forwarded, `CONNECT` tunnels carry HTTPS, and with `auth` a request without the matching
 * `Proxy-Authorization: Basic` gets 407. Every request is recorded so a test can check that the
 * traffic went through it. Always `close()` it.
 */
export async function startProxyServer(options: ProxyServerOptions = {}): Promise<ProxyTestServer> {
  return await ForwardProxy.listen(options);
}
