import net, { type AddressInfo, type Socket } from 'node:net';
import { posix } from 'node:path';
import tls from 'node:tls';
import { testCertificate } from '../certificate.js';
import { SocketTracker, TransferCounters } from '../counters.js';
import type { FileContent } from '../content.js';
import { FtpControlConnection, type FtpHost, type ListedEntry } from './FtpControlConnection.js';
import { FtpFile } from './FtpFile.js';
import type {
  FtpCommandRecord,
  FtpFileFaults,
  FtpFileOptions,
  FtpServerFaults,
  FtpServerOptions,
  FtpTestServer,
  FtpTransferRecord,
} from './types.js';

function validateServerFaults(faults: FtpServerFaults): void {
  if (faults.maxConnections !== undefined && !(Number.isInteger(faults.maxConnections) && faults.maxConnections >= 0)) {
    throw new RangeError(`fault maxConnections must be a non-negative integer, got ${faults.maxConnections}`);
  }
  if (faults.pasvAddress !== undefined && net.isIPv4(faults.pasvAddress) === false) {
    throw new RangeError(`fault pasvAddress must be an IPv4 address, got ${faults.pasvAddress}`);
  }
}

function normalisePath(path: string): string {
  if (!path.startsWith('/')) throw new Error(`FTP test server paths are absolute, got ${path}`);
  if (path.includes('\0') || /[\r\n]/.test(path)) throw new Error('FTP test server paths cannot hold NUL, CR or LF');
  return posix.normalize(path);
}

/**
 * The FTP(S) server behind {@link FtpTestServer}: files by absolute path, server-wide and per-file
 * faults, a command and transfer log, and a `close()` that leaves no socket or listener behind.
 */
export class FaultyFtpServer implements FtpTestServer, FtpHost {
  readonly anonymous: boolean;
  private readonly files = new Map<string, FtpFile>();
  private readonly directories = new Set<string>(['/']);
  private readonly users: Map<string, string>;
  private serverFaults: FtpServerFaults;
  private commandLog: FtpCommandRecord[] = [];
  private transferLog: FtpTransferRecord[] = [];
  private readonly sockets = new SocketTracker();
  private readonly counters = new TransferCounters();
  private readonly connections = new Set<FtpControlConnection>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: net.Server,
    /** See {@link FtpTestServer.origin}. */
    readonly origin: string,
    /** See {@link FtpTestServer.port}. */
    readonly port: number,
    /** See {@link FtpTestServer.host}. */
    readonly host: string,
    /** See {@link FtpTestServer.ca}. */
    readonly ca: string | undefined,
    /** Whether and how TLS is offered. */
    readonly tlsMode: 'explicit' | 'implicit' | undefined,
    /** Key and certificate for AUTH TLS and protected data connections. */
    readonly secureContext: tls.SecureContext | undefined,
    options: FtpServerOptions,
  ) {
    this.anonymous = options.anonymous !== false;
    this.users = new Map(Object.entries(options.users ?? {}));
    this.serverFaults = {};
    this.setFaults(options.faults ?? {});
    server.on(tlsMode === 'implicit' ? 'secureConnection' : 'connection', (socket: Socket) => this.accept(socket));
    if (tlsMode === 'implicit') {
      // The raw sockets too, so close() ends those still in their handshake.
      server.on('connection', (socket: Socket) => this.sockets.track(socket));
      server.on('tlsClientError', () => undefined);
    }
  }

  /** Creates the server and listens on port 0 of `host` (default 127.0.0.1). */
  static async listen(options: FtpServerOptions = {}): Promise<FaultyFtpServer> {
    const host = options.host ?? '127.0.0.1';
    let ca: string | undefined;
    let secureContext: tls.SecureContext | undefined;
    let server: net.Server = net.createServer();
    if (options.tls !== undefined) {
      const { key, cert } = await testCertificate();
      ca = cert;
      secureContext = tls.createSecureContext({ key, cert });
      if (options.tls === 'implicit') server = tls.createServer({ key, cert });
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const hostInUrl = host.includes(':') ? `[${host}]` : host;
    const scheme = options.tls === 'implicit' ? 'ftps' : 'ftp';
    return new FaultyFtpServer(server, `${scheme}://${hostInUrl}:${port}`, port, host, ca, options.tls, secureContext, options);
  }

  /** {@inheritDoc FtpTestServer.url} */
  url(path: string, credentials?: { username: string; password: string }): string {
    const url = new URL(this.origin + (path.startsWith('/') ? path : `/${path}`));
    if (credentials !== undefined) {
      url.username = encodeURIComponent(credentials.username);
      url.password = encodeURIComponent(credentials.password);
    }
    return url.href;
  }

  /** {@inheritDoc FtpTestServer.addFile} */
  addFile(path: string, content: FileContent, options: FtpFileOptions = {}): void {
    const key = normalisePath(path);
    if (this.files.has(key) || this.directories.has(key)) throw new Error(`${key} is already served`);
    this.files.set(key, new FtpFile(key, content, options));
    for (let dir = posix.dirname(key); !this.directories.has(dir); dir = posix.dirname(dir)) this.directories.add(dir);
  }

  /** {@inheritDoc FtpTestServer.replaceFile} */
  replaceFile(path: string, content: FileContent): void {
    this.fileOrThrow(path).replace(content);
  }

  /** {@inheritDoc FtpTestServer.setFileFaults} */
  setFileFaults(path: string, faults: FtpFileFaults): void {
    this.fileOrThrow(path).setFaults(faults);
  }

  /** {@inheritDoc FtpTestServer.setFaults} */
  setFaults(faults: FtpServerFaults): void {
    validateServerFaults(faults);
    this.serverFaults = { ...faults };
  }

  /** {@inheritDoc FtpTestServer.fileContent} */
  fileContent(path: string): FileContent {
    return this.fileOrThrow(path).content;
  }

  /** {@inheritDoc FtpTestServer.fileMtime} */
  fileMtime(path: string): Date {
    return new Date(this.fileOrThrow(path).mtimeMs);
  }

  /** {@inheritDoc FtpTestServer.commands} */
  commands(command?: string): FtpCommandRecord[] {
    const wanted = command?.toUpperCase();
    return this.commandLog
      .filter((r) => wanted === undefined || r.command === wanted)
      .map((r) => ({ ...r, replies: [...r.replies] }));
  }

  /** {@inheritDoc FtpTestServer.transfers} */
  transfers(path?: string): FtpTransferRecord[] {
    const wanted = path === undefined ? undefined : normalisePath(path);
    return this.transferLog
      .filter((r) => wanted === undefined || r.path === wanted)
      .map((r) => ({ ...r, faults: [...r.faults] }));
  }

  /** {@inheritDoc FtpTestServer.maxConcurrentTransfers} */
  maxConcurrentTransfers(path?: string): number {
    return this.counters.maxConcurrent(path === undefined ? undefined : normalisePath(path));
  }

  /** {@inheritDoc FtpTestServer.bytesServed} */
  bytesServed(path?: string): number {
    return this.counters.bytes(path === undefined ? undefined : normalisePath(path));
  }

  /** {@inheritDoc FtpTestServer.connectionsOpened} */
  connectionsOpened(): number {
    return this.sockets.opened();
  }

  /** {@inheritDoc FtpTestServer.openConnections} */
  openConnections(): number {
    return this.connections.size;
  }

  /** {@inheritDoc FtpTestServer.resetLog} */
  resetLog(): void {
    this.commandLog = [];
    this.transferLog = [];
    this.counters.reset();
  }

  /** {@inheritDoc FtpTestServer.close} */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const connection of this.connections) connection.destroy();
      this.sockets.destroyAll();
    });
    return this.closing;
  }

  // FtpHost: what the control connections call.

  /** @internal */
  faults(): FtpServerFaults {
    return this.serverFaults;
  }

  /** @internal */
  file(path: string): FtpFile | undefined {
    return this.files.get(path);
  }

  /** @internal */
  isDirectory(path: string): boolean {
    return this.directories.has(path);
  }

  /** @internal */
  list(path: string): ListedEntry[] | undefined {
    if (!this.directories.has(path)) return undefined;
    const prefix = path === '/' ? '/' : `${path}/`;
    const out = new Map<string, ListedEntry>();
    for (const dir of this.directories) {
      if (dir !== path && dir.startsWith(prefix) && !dir.slice(prefix.length).includes('/')) {
        out.set(dir, { name: dir.slice(prefix.length), directory: true, size: 0, mtimeMs: 0 });
      }
    }
    for (const [key, file] of this.files) {
      if (key.startsWith(prefix) && !key.slice(prefix.length).includes('/')) {
        out.set(key, { name: key.slice(prefix.length), directory: false, size: file.size, mtimeMs: file.mtimeMs });
      }
    }
    return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** @internal */
  checkLogin(user: string, password: string): boolean {
    return this.users.has(user) && this.users.get(user) === password;
  }

  /** @internal */
  logCommand(record: FtpCommandRecord): void {
    this.commandLog.push(record);
  }

  /** @internal */
  logTransfer(record: FtpTransferRecord): void {
    this.transferLog.push(record);
  }

  /** @internal */
  transferStarted(path: string): void {
    this.counters.started(path);
  }

  /** @internal */
  transferEnded(path: string): void {
    this.counters.ended(path);
  }

  /** @internal */
  sent(path: string, bytes: number): void {
    this.counters.sent(path, bytes);
  }

  /** @internal */
  track(socket: Socket): void {
    this.sockets.track(socket);
  }

  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    const connection = new FtpControlConnection(this, socket, this.sockets.connection(socket));
    const limit = this.serverFaults.maxConnections;
    const busy = limit !== undefined && this.connections.size >= limit;
    if (!busy) {
      this.connections.add(connection);
      socket.once('close', () => this.connections.delete(connection));
    }
    connection.greet(busy);
  }

  private fileOrThrow(path: string): FtpFile {
    const file = this.files.get(normalisePath(path));
    if (file === undefined) throw new Error(`${path} is not served`);
    return file;
  }
}
