import { FaultyHttpServer } from './FaultyHttpServer.js';
import type { HttpServerOptions, HttpTestServer } from './types.js';

/**
 * Starts a real HTTP (or, with `tls`, HTTPS) server on port 0 of 127.0.0.1 (or `host`).
 *
 * Files are added with `addFile` and answered with full range support, validators and HEAD; each
 * file carries named faults (`HttpFaults`) that a test switches on at start or with
 * `setFaults`. With `tls`, the certificate is generated in memory for 127.0.0.1, localhost and ::1
 * and its PEM is `ca`, which a client must trust. Always `close()` it, even after a failure.
 */
export async function startHttpServer(options: HttpServerOptions = {}): Promise<HttpTestServer> {
  return await FaultyHttpServer.listen(options);
}
