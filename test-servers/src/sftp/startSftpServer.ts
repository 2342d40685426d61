import { FaultySftpServer } from './FaultySftpServer.js';
import type { SftpServerOptions, SftpTestServer } from './types.js';

/**
 * Starts an in-process SFTP server (ssh2's Server) on port 0 of 127.0.0.1 (or `host`), with a host
 * key generated at start.
 *
 * Files are added with `addFile` (real bytes or generated content) and served read-only with stat,
 * fstat and reads at any offset; each file carries named faults (`SftpFaults`). Accounts log in with
 * a password and/or public keys (`users`). `setHostKey` makes the same port answer with a new key.
 * Everything is logged for assertions (never a password). Always `close()` it, even after a failure.
 */
export async function startSftpServer(options: SftpServerOptions = {}): Promise<SftpTestServer> {
  return await FaultySftpServer.listen(options);
}
