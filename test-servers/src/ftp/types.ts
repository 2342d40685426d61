/**
 * Public types of the FTP/FTPS test server and of the vsftpd launcher. Kept apart from the
 * implementations so the docs live in one place.
 */
import type { FileContent } from '../content.js';
import type { TransferFaults } from '../faults.js';

/**
 * Faults of the whole server: they concern commands that do not name a file (REST, EPSV, PASV,
 * the greeting) or model a server that lacks a command altogether. Replace them with `setFaults`.
 */
export interface FtpServerFaults {
  /**
   * `'all'`: REST is not implemented (502) and FEAT does not list `REST STREAM`.
   * `'nonzero'`: FEAT lists `REST STREAM` and `REST 0` is accepted, but any other offset gets 504:
   * a server whose FEAT promises more than it does.
   */
  refuseRest?: 'all' | 'nonzero';
  /**
   * REST is answered 350 as it should be, and then ignored: every RETR sends the file from its
   * first byte (a server that lies about restarting; nothing in FTP shows it but the byte count).
   */
  ignoreRest?: boolean;
  /** SIZE is not implemented (502) and FEAT does not list it. */
  noSize?: boolean;
  /** MDTM is not implemented (502) and FEAT does not list it. */
  noMdtm?: boolean;
  /** EPSV is not implemented (502), so clients fall back to PASV. */
  refuseEpsv?: boolean;
  /**
   * PASV replies name this IPv4 address instead of the server's own (a NAT misconfiguration, or an
   * FTP bounce attempt). The listener is still opened on the server's own address.
   */
  pasvAddress?: string;
  /** A control connection above this many open ones is greeted with 421 and closed. */
  maxConnections?: number;
  /** AUTH TLS is refused with 534 even on a TLS-capable server. */
  refuseAuthTls?: boolean;
  /** MLSD is not implemented (502) and FEAT does not list MLST: clients list with LIST. */
  noMlsd?: boolean;
  /**
   * Raw lines added, exactly as given, to the MLSD and LIST replies of a folder (absolute path, key
   * `/dir`): hostile names, links, devices (`type=OS.unix=slink:/etc; escape`, `crw-r--r-- ... null`).
   */
  extraListLines?: Record<string, string[]>;
  /**
   * Folders (absolute paths) whose MLSD and LIST never end: after the folder's real lines, lines
   * of new generated files keep coming until the client closes the data connection (a hostile or
   * broken server).
   */
  endlessListings?: string[];
}

/**
 * Faults of one file: the shared vocabulary ({@link TransferFaults}) as FTP shows it. Counters ("the
 * first N transfers") count the RETRs of this file since its faults were last set (`addFile` or
 * `setFileFaults`). `dropAfterBytes` closes the data connection (FIN) and replies 426; `cutAfterBytes`
 * closes it and replies 226; `wrongLength` makes SIZE report more; `status` and `failTimes` answer
 * RETR with their code (a 4xx or 5xx: 421, 425, 450, 451, 550 ...); `replaceAfterRequests` replaces
 * the file just before the next RETR, while transfers already under way keep sending the old bytes,
 * as an open file descriptor would. Refusing ranges is server-wide here: `refuseRest`.
 */
export type FtpFileFaults = Omit<TransferFaults, 'refuseRanges'>;

/** How a file is served, beyond its bytes. */
export interface FtpFileOptions {
  /** Modification time reported by MDTM (whole seconds, UTC). Default: an hour ago. */
  mtime?: Date;
  /** Faults switched on from the start; replace them later with `setFileFaults`. */
  faults?: FtpFileFaults;
}

/** Options of {@link startFtpServer}. */
export interface FtpServerOptions {
  /**
   * `'explicit'`: plain control connection that AUTH TLS upgrades (RFC 4217), PBSZ and PROT P
   * supported. `'implicit'`: TLS from the first byte (the `ftps://` convention). The certificate is
   * generated at start; its PEM is `ca`. Default: no TLS (AUTH TLS is refused with 502).
   */
  tls?: 'explicit' | 'implicit';
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Accounts besides anonymous: user name to password. */
  users?: Record<string, string>;
  /** Allow `anonymous` and `ftp` with any password. Default true. */
  anonymous?: boolean;
  /** Server-wide faults from the start. */
  faults?: FtpServerFaults;
}

/** One control command as the server saw it. */
export interface FtpCommandRecord {
  /** Which control connection sent it: 1 for the first accepted one, and so on. */
  connectionId: number;
  /** The verb, upper-case (`RETR`, `REST` ...). */
  command: string;
  /** The argument as sent; PASS arguments are recorded as `****`. */
  argument: string;
  /** Reply codes sent for it, in order (ABOR during a transfer gets two). */
  replies: number[];
  /** Whether the control connection was encrypted when the command arrived. */
  tls: boolean;
}

/** How a transfer ended. */
export type FtpTransferOutcome =
  | 'pending'
  | 'complete'
  /** The client closed the data connection or sent ABOR before the end. */
  | 'aborted'
  /** The `dropAfterBytes` fault cut it (426). */
  | 'dropped'
  /** The `cutAfterBytes` fault ended it early with 226. */
  | 'cut'
  /** The data connection never arrived or failed before the first byte. */
  | 'failed';

/** One RETR that got as far as a data connection. */
export interface FtpTransferRecord {
  connectionId: number;
  /** Absolute path of the file. */
  path: string;
  /** Restart offset (REST) it started from. */
  offset: number;
  /** Bytes handed to the data socket so far. */
  bytesSent: number;
  /** Whether the data connection was encrypted (PROT P). */
  tls: boolean;
  /** Names of the faults (`FtpFileFaults` keys) that shaped it. */
  faults: string[];
  outcome: FtpTransferOutcome;
}

/** A running FTP(S) server with named faults; see {@link startFtpServer}. */
export interface FtpTestServer {
  /** `ftp://127.0.0.1:PORT`, or `ftps://...` for implicit TLS (IPv6 hosts in brackets). */
  readonly origin: string;
  /** The port the OS picked. */
  readonly port: number;
  /** The interface it listens on. */
  readonly host: string;
  /** PEM of the self-signed certificate a client must trust (TLS only), valid for 127.0.0.1, localhost and ::1. */
  readonly ca: string | undefined;
  /** `origin + path`, with percent-encoded credentials when given. */
  url(path: string, credentials?: { username: string; password: string }): string;
  /** Serve `content` at the absolute `path` (`/dir/name`); directories are implied. Throws if taken. */
  addFile(path: string, content: FileContent, options?: FtpFileOptions): void;
  /** New bytes at `path` and a modification time at least a second later. */
  replaceFile(path: string, content: FileContent): void;
  /** Replace the faults of a file; resets its fault counters. */
  setFileFaults(path: string, faults: FtpFileFaults): void;
  /** Replace the server-wide faults. */
  setFaults(faults: FtpServerFaults): void;
  /** The content `path` serves now (after any replacement). */
  fileContent(path: string): FileContent;
  /** The modification time MDTM reports for `path` now. */
  fileMtime(path: string): Date;
  /** Copies of the logged commands, oldest first; with `command`, only that verb. */
  commands(command?: string): FtpCommandRecord[];
  /** Copies of the logged transfers, oldest first; with `path`, only those of that file. */
  transfers(path?: string): FtpTransferRecord[];
  /** Highest number of simultaneous transfers seen (of `path`, or of the whole server). */
  maxConcurrentTransfers(path?: string): number;
  /** Control connections accepted since start (those greeted with 421 included). */
  connectionsOpened(): number;
  /** Control connections open now. */
  openConnections(): number;
  /** Bytes handed to data sockets for `path` (or for every file), since start or `resetLog`. */
  bytesServed(path?: string): number;
  /** Forget logged commands, transfers, bytes served and high-water marks (fault counters are kept). */
  resetLog(): void;
  /** Stop listening and destroy every control and data socket and passive listener. */
  close(): Promise<void>;
}

/** Options of {@link startVsftpd}. */
export interface VsftpdOptions {
  /** Files served anonymously, by path relative to the anonymous root (`a.bin`, `dir/b.bin`). */
  files?: Record<string, FileContent>;
  /**
   * `'explicit'`: AUTH TLS offered and required for anonymous logins and data. `'implicit'`: TLS
   * from the first byte. A certificate for 127.0.0.1 and localhost is generated with the openssl CLI.
   */
  tls?: 'explicit' | 'implicit';
  /** The vsftpd binary. Default: `vsftpd` on PATH, else /usr/sbin/vsftpd. */
  binary?: string;
  /** Milliseconds to wait for the greeting before giving up. Default 10000. */
  startTimeoutMs?: number;
  /** Extra `key=value` lines for vsftpd.conf (they win over the generated ones). */
  config?: Record<string, string>;
}

/** A vsftpd process started for a test run; see {@link startVsftpd}. */
export interface VsftpdServer {
  /** `ftp://127.0.0.1:PORT` (or `ftps://` for implicit TLS). */
  readonly origin: string;
  readonly port: number;
  /** PEM of the generated certificate (TLS only). */
  readonly ca: string | undefined;
  /** The anonymous root directory (files may be added or changed in it while the server runs). */
  readonly root: string;
  /** `origin + '/' + path`. */
  url(path: string): string;
  /** vsftpd's own protocol log so far (`log_ftp_protocol`). */
  log(): Promise<string>;
  /** Stops vsftpd (SIGTERM to its process group, SIGKILL after a bounded wait) and removes its files. */
  close(): Promise<void>;
}
