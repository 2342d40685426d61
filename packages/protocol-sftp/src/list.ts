import { ErrorCodes, MAX_TREE_ENTRIES, NetworkError, ProtocolError, isDownloadError, openTunnel, type RemoteEntry, type RemoteEntryType } from '@multiget/core';
import type { Client, FileEntryWithStats, SFTPWrapper } from 'ssh2';
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
 * Lists one folder on a connection of its own, made by ssh2-sftp-client with the plugin's connect
 * options: the same authentication (explicit key, agent, default keys, password) and the same host
 * key check (known_hosts or a pinned fingerprint; unknown or changed keys refused). Listing is
 * metadata only: bytes never go this way, they take the plugin's own reader.
 *
 * The folder is read one READDIR answer at a time ({@link readFolder}), and a folder of more than
 * `MAX_TREE_ENTRIES` entries fails as soon as it has sent that many: a server could otherwise
 * answer READDIR forever and fill the memory.
 *
 * Entry types come from the first character of the server's `ls -l` line: `d` a folder, `-` a
 * file, `l` a link; anything else (devices, FIFOs, sockets, a server that sends no such line) is
 * `other`, and never downloaded.
 *
 * @throws DownloadError - the connection's failure (MG_ERR_AUTH, MG_ERR_HOST_KEY_UNKNOWN / CHANGED,
 *   MG_ERR_CONNECT ...), MG_ERR_NOT_FOUND / MG_ERR_FORBIDDEN for the folder, MG_ERR_TIMEOUT,
 *   MG_ERR_PROTOCOL for a folder of too many entries.
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
    const sftp = (client as unknown as { sftp: SFTPWrapper }).sftp;
    const listing = readFolder(sftp, request.path, MAX_TREE_ENTRIES, target.label);
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
    let items: FileEntryWithStats[];
    try {
      items = await Promise.race([listing, deadline]);
    } catch (err) {
      listing.catch(() => undefined);
      if (isDownloadError(err)) throw err;
      throw requestError(err, `listing of ${request.path}`, target.where, undefined, signal);
    }
    return items.map((item) => {
      const entry: RemoteEntry = { name: item.filename, type: typeOf(item.longname.slice(0, 1)) };
      if (entry.type === 'file' && Number.isFinite(item.attrs.size)) entry.size = item.attrs.size;
      if (Number.isFinite(item.attrs.mtime)) entry.mtime = item.attrs.mtime * 1000;
      return entry;
    });
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
    ssh.destroy();
  }
}

/** SFTP's status for the end of a listing (SSH_FX_EOF). */
const STATUS_EOF = 1;

/**
 * Reads folder `path` with OPENDIR and READDIR, one answer at a time, and closes its handle. Past
 * `limit` entries it stops with MG_ERR_PROTOCOL; a failed OPENDIR or READDIR rejects with ssh2's
 * error (its SFTP status in `code`).
 */
export function readFolder(sftp: SFTPWrapper, path: string, limit: number, label: string): Promise<FileEntryWithStats[]> {
  return new Promise((resolve, reject) => {
    sftp.opendir(path, (openError, handle) => {
      if (openError) return reject(openError);
      const entries: FileEntryWithStats[] = [];
      const finish = (error?: unknown): void => {
        // The handle's close is not awaited: its failure changes nothing, and over a lost
        // connection it would never be answered (ssh2 drops requests on a closed channel).
        sftp.close(handle, () => undefined);
        if (error === undefined) resolve(entries);
        else reject(error);
      };
      const next = (): void =>
        void sftp.readdir(handle, (readError, batch) => {
          if (readError) return finish((readError as { code?: unknown }).code === STATUS_EOF ? undefined : readError);
          for (const entry of batch) entries.push(entry);
          if (entries.length > limit) {
            return finish(new ProtocolError(ErrorCodes.PROTOCOL, `${label} lists more than ${limit} entries in ${path}; download a smaller folder`));
          }
          next();
        });
      next();
    });
  });
}

function typeOf(type: string): RemoteEntryType {
  if (type === 'd') return 'directory';
  if (type === '-') return 'file';
  if (type === 'l') return 'symlink';
  return 'other';
}
