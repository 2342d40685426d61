/**
 * Public types of the SFTP test servers: the in-process ssh2 server with faults
 * ({@link startSftpServer}) and the real OpenSSH sshd started for interop tests
 * ({@link startOpenSshServer}).
 */
import type { FileContent } from '../content.js';
import type { TransferFaults } from '../faults.js';

/** Key algorithms the helpers generate. */
export type SshKeyType = 'ed25519' | 'ecdsa' | 'rsa';

/** A generated SSH key pair, in the formats OpenSSH reads and writes. */
export interface SshKeyPair {
  /** Key type on the wire: `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`. */
  readonly type: string;
  /** Private key in OpenSSH format (`-----BEGIN OPENSSH PRIVATE KEY-----`), encrypted when a passphrase was given. */
  readonly privateKey: string;
  /** Public key as one authorized_keys / known_hosts line: `type base64 [comment]`. */
  readonly publicKey: string;
  /** The public key blob (what `type base64` encodes). */
  readonly blob: Buffer;
  /** `SHA256:` and the unpadded base64 SHA-256 of the blob, as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
}

/** An account of the test server. */
export interface SftpUser {
  username: string;
  /** Accepted with the `password` method; none means password logins are refused. */
  password?: string;
  /** Public keys accepted with the `publickey` method, as authorized_keys lines (`type base64 [comment]`). */
  publicKeys?: string[];
}

/**
 * Named faults of one served file: the shared vocabulary ({@link TransferFaults}) as SFTP shows it,
 * and SFTP's own. A transfer is one open handle; counters ("the first N") count OPENs since the
 * faults were last set (`addFile` or `setFaults`). `dropAfterBytes`: the next read that would pass
 * the limit gets the bytes up to it, then the whole SSH connection is destroyed. `cutAfterBytes`:
 * reads past the limit get EOF, as though the file ended there. `stallAfterBytes`: reads past the
 * limit get no answer. `wrongLength`: stat and fstat report more than there is. `status` and
 * `failTimes`: OPEN answered with that SFTP status (3 permission denied, 4 failure ...).
 * `replaceAfterRequests`: the content is replaced just before the next OPEN. SFTP cannot refuse ranges.
 */
export interface SftpFaults extends Omit<TransferFaults, 'refuseRanges'> {
  /** Every DATA reply carries at most this many bytes, however many were asked (legal short reads). */
  maxReadReply?: number;
}

/** How a file is served, beyond its bytes. */
export interface SftpFileOptions {
  /** Modification time in seconds since the epoch. Default: an hour ago, at a whole second. */
  mtime?: number;
  /** Permission bits (`0o644` by default); a file without read bits refuses OPEN with permission denied. */
  mode?: number;
  /** Faults switched on from the start; replace them later with `setFaults`. */
  faults?: SftpFaults;
}

/** Faults of the whole server. */
export interface SftpServerFaults {
  /** Reject every authentication attempt, right credentials or not (an account locked out). */
  failAuthentication?: boolean;
  /**
   * Folders (absolute paths) whose listing never ends: READDIR never answers EOF, and every call
   * after the folder's real entries brings another batch of new file names (a hostile or broken server).
   */
  endlessListings?: string[];
  /** Folders (absolute paths) whose first READDIR destroys the whole SSH connection instead of answering. */
  dropListings?: string[];
}

/** Options of {@link startSftpServer}. */
export interface SftpServerOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Accounts. Default: one user `multiget` with password `multiget`. */
  users?: SftpUser[];
  /** Type of the host key generated at start. Default `ed25519`. */
  hostKeyType?: SshKeyType;
  /** Server-wide faults from the start; change them with `setServerFaults`. */
  faults?: SftpServerFaults;
}

/** One thing the server saw, oldest first in {@link SftpTestServer.log}. */
export interface SftpLogEntry {
  /** What happened. */
  type: 'connect' | 'auth' | 'channel' | 'open' | 'stat' | 'fstat' | 'read' | 'close' | 'drop' | 'disconnect';
  /** 1 for the first accepted TCP connection, and so on. */
  connectionId: number;
  /** The SFTP channel within the connection (1, 2, ...), for SFTP requests. */
  channelId?: number;
  /** Requested path (`open`, `stat`) or the path behind the handle (`read`, `fstat`, `close`). */
  path?: string;
  /** `auth`: the user name and method tried, and whether it succeeded. Never the password. */
  username?: string;
  method?: string;
  success?: boolean;
  /** `read`: the offset and length asked for, and the bytes answered (0 for EOF or an error). */
  offset?: number;
  length?: number;
  bytes?: number;
  /** SFTP status sent instead of data or a handle, if any (1 EOF, 2 no such file, 3 permission denied ...). */
  status?: number;
  /** Names of the faults (`SftpFaults` keys) that shaped this answer. */
  faults?: string[];
}

/** The public half of a host key, for known_hosts lines and fingerprints. */
export interface HostKeyInfo {
  /** `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`. */
  readonly type: string;
  /** `type base64`, as in a known_hosts line after the host names. */
  readonly publicKey: string;
  /** `SHA256:...` as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
}

/** A running in-process SFTP server with named faults; see {@link startSftpServer}. */
export interface SftpTestServer {
  /** The address it listens on (`127.0.0.1`). */
  readonly host: string;
  /** The port the OS picked. */
  readonly port: number;
  /** The host key new connections are offered (changes with `setHostKey`). */
  readonly hostKey: HostKeyInfo;
  /**
   * `sftp://[user@]host:port/path`. `path` starts with `/`; with a password it goes in the URL too
   * (percent-encoded).
   */
  url(path: string, user?: string, password?: string): string;
  /** The known_hosts line for this server and its current key: `[host]:port type base64`. */
  knownHostsLine(): string;
  /** Serve `content` at the absolute `path`. Throws if taken. */
  addFile(path: string, content: FileContent, options?: SftpFileOptions): void;
  /**
   * New bytes at `path`, and an mtime at least a second later (or `options.mtime`, in seconds). By
   * default the file is replaced as `mv new path` would: handles already open keep reading the old
   * bytes. With `inPlace` it is rewritten as `cp new path` would: open handles see the new bytes
   * and attributes at once.
   */
  replaceFile(path: string, content: FileContent, options?: { mtime?: number; inPlace?: boolean }): void;
  /** Stop serving `path`: later stats and opens get "no such file". */
  removeFile(path: string): void;
  /** Replace the faults of a file; resets its fault counters. */
  setFaults(path: string, faults: SftpFaults): void;
  /** The content `path` serves now (after any `replaceAfterRequests`). */
  fileContent(path: string): FileContent;
  /** Add an account (or replace the one with the same name). */
  addUser(user: SftpUser): void;
  /** Replace the server-wide faults. */
  setServerFaults(faults: SftpServerFaults): void;
  /**
   * Generate a new host key (of `type`, default the current one's) and offer it on every connection
   * from now on, on the same port: what a client sees when a server is reinstalled, or a
   * man-in-the-middle answers. Returns the new key.
   */
  setHostKey(type?: SshKeyType): HostKeyInfo;
  /** Copies of the log, oldest first; with `type`, only those entries. */
  log(type?: SftpLogEntry['type']): SftpLogEntry[];
  /** Bytes answered to reads of `path` (or of every file), since start or `resetLog`. */
  bytesServed(path?: string): number;
  /** Highest number of handles of `path` (or of any file) open at once, since start or `resetLog`. */
  maxConcurrentTransfers(path?: string): number;
  /** TCP connections accepted since start. */
  connectionsOpened(): number;
  /** SSH connections open now (authenticated or not). */
  openConnections(): number;
  /** Highest number of simultaneously open connections, since start or `resetLog`. */
  maxConcurrentConnections(): number;
  /** Highest number of SFTP channels open at once on one connection, since start or `resetLog`. */
  maxChannelsPerConnection(): number;
  /** Forget the log and the high-water marks (fault counters are kept). */
  resetLog(): void;
  /** Destroy every connection (a connection loss for every client) without stopping to listen. */
  dropConnections(): void;
  /** Stop listening and destroy every connection. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startOpenSshServer}. */
export interface OpenSshServerOptions {
  /** The sshd binary. Default: `MULTIGET_SSHD` from the environment, else `/usr/sbin/sshd`. */
  sshd?: string;
  /** Host key type generated for the run. Default `ed25519`. */
  hostKeyType?: SshKeyType;
  /** Passphrase of the generated user key (`userKeyPath`); default none. */
  userKeyPassphrase?: string;
  /**
   * The sftp subsystem: `internal-sftp` (default) or a path to sftp-server, with arguments
   * (`internal-sftp -P open` refuses every open with permission denied).
   */
  subsystem?: string;
  /** Milliseconds to wait for sshd to accept connections. Default 15000. */
  startTimeoutMs?: number;
}

/** A real OpenSSH sshd on a loopback port, with keys generated for the run; see {@link startOpenSshServer}. */
export interface OpenSshTestServer {
  /** `127.0.0.1`. */
  readonly host: string;
  readonly port: number;
  /** The OS user the server lets in (the user running the tests). */
  readonly username: string;
  /** The temporary directory of the run (config, keys, files). Removed by `close()`. */
  readonly dir: string;
  /** Where `writeFile` puts files; the absolute remote paths are under it. */
  readonly filesDir: string;
  /** The generated user key's private key file (authorised by the server). */
  readonly userKeyPath: string;
  /** The generated user key. */
  readonly userKey: SshKeyPair;
  /** A known_hosts file holding exactly this server's host key. */
  readonly knownHostsPath: string;
  /** The host key. */
  readonly hostKey: HostKeyInfo;
  /** `sftp://user@127.0.0.1:PORT` + absolute `path`. */
  url(path: string): string;
  /** The known_hosts line for this server: `[127.0.0.1]:PORT type base64`. */
  knownHostsLine(): string;
  /**
   * Write `content` to `name` under `filesDir` (generated content is streamed, never held whole);
   * resolves with the absolute remote path. `mtime` in seconds since the epoch.
   */
  writeFile(name: string, content: FileContent, mtime?: number): Promise<string>;
  /** Authorise one more public key (an authorized_keys line) for the user; sshd reads it at the next login. */
  authorize(publicKey: string): Promise<void>;
  /** What sshd has written to stderr (its log), for diagnostics. */
  logs(): string;
  /** Stop sshd (SIGTERM, then SIGKILL after a bounded wait) and remove `dir`. Idempotent. */
  close(): Promise<void>;
}
