import { ErrorCodes, NetworkError, isDownloadError, openTunnel, type RemoteEntry, type RemoteEntryType } from '@multiget/core';
import type { Client } from 'ssh2';
import SftpClient from 'ssh2-sftp-client';
import type { ConnectPlan, PoolTarget } from './ConnectionPool.js';
import { abortError, connectError, requestError } from './sftpErrors.js';

/** What listing one folder needs. */
export interface ListRequest {
  /** Where to connect, as whom, through which proxy. */
  readonly target: PoolTarget;
  /** The folder's path as the server sees it. */
  readonly path: string;
  /** Prepares the connection: the same keys, agent, password and host key check as downloads. */
  readonly plan: () => Promise<ConnectPlan>;
  /** Milliseconds for the connection, authentication and SFTP start. */
  readonly connectTimeoutMs: number;
  /** Milliseconds to wait for the listing once connected. */
  readonly stallTimeoutMs: number;
  readonly signal: AbortSignal;
}

const quiet = (): void => undefined;

/**
 * Lists one folder with ssh2-sftp-client (readdir), on a connection of its own made with the
 * plugin's connect options: the same authentication (explicit key, agent, default keys, password)
 * and the same host key check (known_hosts or a pinned fingerprint; unknown or changed keys
 * refused). Listing is metadata only: bytes never go this way, they take the plugin's own reader.
 *
 * Entry types come from the first character of the server's `ls -l` line, as ssh2-sftp-client
 * reports them: `d` a folder, `-` a file, `l` a link; anything else (devices, FIFOs, sockets, a
 * server that sends no such line) is `other`, and never downloaded.
 *
 * @throws DownloadError - the connection's failure (MG_ERR_AUTH, MG_ERR_HOST_KEY_UNKNOWN / CHANGED,
 *   MG_ERR_CONNECT ...), MG_ERR_NOT_FOUND / MG_ERR_FORBIDDEN for the folder, MG_ERR_TIMEOUT.
 */
export async function listFolder(request: ListRequest): Promise<RemoteEntry[]> {
  const { target, signal } = request;
  signal.throwIfAborted();
  const plan = await request.plan();
  // ssh2-sftp-client prints to the console on events nobody awaits unless given callbacks.
  const client = new SftpClient('multiget-list', { error: quiet, end: quiet, close: quiet });
  // Its own errors lose ssh2's `level` (authentication, timeout, socket): kept from the source.
  const ssh = (client as unknown as { client: Client }).client;
  let raw: unknown;
  ssh.on('error', (err: unknown) => {
    raw ??= err;
  });
  const onAbort = (): void => void ssh.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    try {
      const sock = target.proxy === undefined ? undefined : await openTunnel(target.proxy, target.host, target.port, { timeoutMs: request.connectTimeoutMs, signal });
      await client.connect({
        ...plan.config,
        ...(sock === undefined ? {} : { sock }),
        host: target.host,
        port: target.port,
        username: target.username,
        readyTimeout: request.connectTimeoutMs,
      });
    } catch (err) {
      if (signal.aborted) throw abortError(signal.reason, target.where);
      throw connectError(raw ?? err, {
        target: target.label,
        where: target.where,
        tried: plan.tried,
        skipped: plan.skipped,
        hostKeyFailure: plan.hostKey.failure,
        connectTimeoutMs: request.connectTimeoutMs,
      });
    }
    const listing = client.list(request.path);
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new NetworkError(
              ErrorCodes.TIMEOUT,
              `No answer to the SFTP listing of ${request.path} from ${target.label} within ${Math.round(request.stallTimeoutMs / 1000)} s`,
              { url: target.where },
            ),
          ),
        request.stallTimeoutMs,
      );
    });
    let items: SftpClient.FileInfo[];
    try {
      items = await Promise.race([listing, deadline]);
    } catch (err) {
      listing.catch(() => undefined);
      if (isDownloadError(err)) throw err;
      throw requestError(err, `listing of ${request.path}`, target.where, undefined, signal);
    }
    return items.map((item) => {
      const entry: RemoteEntry = { name: item.name, type: typeOf(item.type) };
      if (entry.type === 'file' && Number.isFinite(item.size)) entry.size = item.size;
      if (Number.isFinite(item.modifyTime)) entry.mtime = item.modifyTime;
      return entry;
    });
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
    ssh.destroy();
  }
}

function typeOf(type: string): RemoteEntryType {
  if (type === 'd') return 'directory';
  if (type === '-') return 'file';
  if (type === 'l') return 'symlink';
  return 'other';
}
