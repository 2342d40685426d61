import { once } from 'node:events';
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { posix } from 'node:path';
import ssh2 from 'ssh2';
import type { AuthContext, Connection, ParsedKey, SFTPWrapper } from 'ssh2';
import { SocketTracker, TransferCounters } from '../counters.js';
import { readContent } from '../generatedContent.js';
import { TokenBucket } from '../TokenBucket.js';
import type { FileContent } from '../content.js';
import { SftpFile, type SftpVersion } from './SftpFile.js';
import { generateSshKeyPair, hostKeyInfo, knownHostsName } from './sshKeys.js';
import type {
  HostKeyInfo,
  SftpFaults,
  SftpFileOptions,
  SftpLogEntry,
  SftpServerFaults,
  SftpServerOptions,
  SftpTestServer,
  SftpUser,
  SshKeyType,
} from './types.js';

const { Server: SshServer, utils } = ssh2;
const { STATUS_CODE, OPEN_MODE } = utils.sftp;

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
/** Largest pacing step of a throttled read reply: one SSH channel packet. */
const PACE_STEP = 32 * 1024;

/** One TCP connection, from accept to close. */
interface ConnectionState {
  readonly id: number;
  readonly socket: Socket;
  /** SFTP channels opened on it so far (numbers them). */
  channels: number;
  /** SFTP channels open now. */
  openChannels: number;
  /** Aborts pacing timers when the connection goes. */
  readonly aborter: AbortController;
}

/** An open file handle: the version it opened (a replacement does not change it) and its fault state. */
interface OpenHandle {
  readonly file: SftpFile;
  /** Changes only when the file is rewritten in place. */
  version: SftpVersion;
  /** Bytes answered so far. */
  served: number;
  /** Decided the first time the handle reaches the limit of the fault. */
  dropping: boolean | undefined;
  ending: boolean | undefined;
  stalling: boolean | undefined;
  /** Set once the handle stalls: later reads get no answer. */
  stalled: boolean;
  /** Set once the handle answers EOF early: every later read gets EOF too. */
  ended: boolean;
  /** Set once the handle's connection is being dropped: later reads get no answer. */
  dropped: boolean;
  bucket: TokenBucket | undefined;
  /** Paced replies go out in request order. */
  queue: Promise<void>;
}

interface Account {
  readonly username: string;
  readonly password: string | undefined;
  readonly keys: ParsedKey[];
}

function parsePublicKey(line: string): ParsedKey {
  const parsed = utils.parseKey(line.trim());
  const key = parsed instanceof Error ? undefined : Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined) throw new Error(`not a public key: ${line.slice(0, 40)}`);
  return key;
}

function accountOf(user: SftpUser): Account {
  return { username: user.username, password: user.password, keys: (user.publicKeys ?? []).map(parsePublicKey) };
}

/**
 * The SSH/SFTP server behind {@link SftpTestServer}: ssh2's Server fed by a net.Server of our own,
 * so every socket can be destroyed on `close()` and the host key can change between connections on
 * the same port (each connection is injected into the ssh2 Server of the current key).
 */
export class FaultySftpServer implements SftpTestServer {
  private readonly files = new Map<string, SftpFile>();
  private readonly users = new Map<string, Account>();
  private readonly connections = new Map<Socket, ConnectionState>();
  private readonly sockets = new SocketTracker();
  private readonly counters = new TransferCounters();
  /** Looks a connection up from what ssh2 reports about its peer. */
  private readonly byPeer = new Map<string, ConnectionState>();
  private entries: SftpLogEntry[] = [];
  private maxChannels = 0;
  private serverFaults: SftpServerFaults;
  private ssh: InstanceType<typeof SshServer>;
  private currentKey: HostKeyInfo;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly net: NetServer,
    readonly host: string,
    readonly port: number,
    options: SftpServerOptions,
  ) {
    for (const user of options.users ?? [{ username: 'multiget', password: 'multiget' }]) this.addUser(user);
    this.serverFaults = { ...options.faults };
    const { server, info } = this.sshServer(options.hostKeyType ?? 'ed25519');
    this.ssh = server;
    this.currentKey = info;
    net.on('connection', (socket: Socket) => this.accept(socket));
  }

  /** Creates the server and listens on port 0 of `host` (default 127.0.0.1). */
  static async listen(options: SftpServerOptions = {}): Promise<FaultySftpServer> {
    const host = options.host ?? '127.0.0.1';
    const net = createServer();
    net.listen(0, host);
    await once(net, 'listening');
    const { port } = net.address() as AddressInfo;
    return new FaultySftpServer(net, host, port, options);
  }

  /** {@inheritDoc SftpTestServer.hostKey} */
  get hostKey(): HostKeyInfo {
    return this.currentKey;
  }

  /** {@inheritDoc SftpTestServer.url} */
  url(path: string, user?: string, password?: string): string {
    const userinfo =
      user === undefined
        ? ''
        : `${encodeURIComponent(user)}${password === undefined ? '' : `:${encodeURIComponent(password)}`}@`;
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    const encoded = (path.startsWith('/') ? path : `/${path}`).split('/').map(encodeURIComponent).join('/');
    return `sftp://${userinfo}${host}:${this.port}${encoded}`;
  }

  /** {@inheritDoc SftpTestServer.knownHostsLine} */
  knownHostsLine(): string {
    return `${knownHostsName(this.host, this.port)} ${this.currentKey.publicKey}`;
  }

  /** {@inheritDoc SftpTestServer.addFile} */
  addFile(path: string, content: FileContent, options: SftpFileOptions = {}): void {
    const key = normalize(path);
    if (this.files.has(key)) throw new Error(`${key} is already served`);
    this.files.set(key, new SftpFile(key, content, options));
  }

  /** {@inheritDoc SftpTestServer.replaceFile} */
  replaceFile(path: string, content: FileContent, options: { mtime?: number; inPlace?: boolean } = {}): void {
    this.file(path).replace(content, options.mtime, options.inPlace === true);
  }

  /** {@inheritDoc SftpTestServer.removeFile} */
  removeFile(path: string): void {
    this.files.delete(normalize(path));
  }

  /** {@inheritDoc SftpTestServer.setFaults} */
  setFaults(path: string, faults: SftpFaults): void {
    this.file(path).setFaults(faults);
  }

  /** {@inheritDoc SftpTestServer.fileContent} */
  fileContent(path: string): FileContent {
    return this.file(path).current.content;
  }

  /** {@inheritDoc SftpTestServer.addUser} */
  addUser(user: SftpUser): void {
    this.users.set(user.username, accountOf(user));
  }

  /** {@inheritDoc SftpTestServer.setServerFaults} */
  setServerFaults(faults: SftpServerFaults): void {
    this.serverFaults = { ...faults };
  }

  /** {@inheritDoc SftpTestServer.setHostKey} */
  setHostKey(type?: SshKeyType): HostKeyInfo {
    const wanted = type ?? keyTypeName(this.currentKey.type);
    const { server, info } = this.sshServer(wanted);
    this.ssh = server;
    this.currentKey = info;
    return info;
  }

  /** {@inheritDoc SftpTestServer.log} */
  log(type?: SftpLogEntry['type']): SftpLogEntry[] {
    return this.entries
      .filter((entry) => type === undefined || entry.type === type)
      .map((entry) => ({ ...entry, ...(entry.faults ? { faults: [...entry.faults] } : {}) }));
  }

  /** {@inheritDoc SftpTestServer.bytesServed} */
  bytesServed(path?: string): number {
    return this.counters.bytes(path === undefined ? undefined : normalize(path));
  }

  /** {@inheritDoc SftpTestServer.maxConcurrentTransfers} */
  maxConcurrentTransfers(path?: string): number {
    return this.counters.maxConcurrent(path === undefined ? undefined : normalize(path));
  }

  /** {@inheritDoc SftpTestServer.connectionsOpened} */
  connectionsOpened(): number {
    return this.sockets.opened();
  }

  /** {@inheritDoc SftpTestServer.openConnections} */
  openConnections(): number {
    return this.sockets.open();
  }

  /** {@inheritDoc SftpTestServer.maxConcurrentConnections} */
  maxConcurrentConnections(): number {
    return this.sockets.maxOpen();
  }

  /** {@inheritDoc SftpTestServer.maxChannelsPerConnection} */
  maxChannelsPerConnection(): number {
    return this.maxChannels;
  }

  /** {@inheritDoc SftpTestServer.resetLog} */
  resetLog(): void {
    this.entries = [];
    this.counters.reset();
    // High-water marks restart from what is open now, so they stay true.
    this.sockets.resetPeak();
    this.maxChannels = 0;
    for (const c of this.connections.values()) this.maxChannels = Math.max(this.maxChannels, c.openChannels);
  }

  /** {@inheritDoc SftpTestServer.dropConnections} */
  dropConnections(): void {
    this.sockets.dropAll();
  }

  /** {@inheritDoc SftpTestServer.close} */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.net.close(() => resolve());
      this.sockets.destroyAll();
    });
    return this.closing;
  }

  private file(path: string): SftpFile {
    const file = this.files.get(normalize(path));
    if (file === undefined) throw new Error(`no file at ${path}`);
    return file;
  }

  private record(entry: SftpLogEntry): void {
    this.entries.push(entry);
  }

  private sshServer(type: SshKeyType): { server: InstanceType<typeof SshServer>; info: HostKeyInfo } {
    const pair = generateSshKeyPair(type, { comment: 'multiget-test-host' });
    const server = new SshServer({ hostKeys: [pair.privateKey] }, (client, info) => {
      const state = this.byPeer.get(`${info.ip}:${info.port}`);
      if (state === undefined) {
        client.end();
        return;
      }
      this.serveClient(client, state);
    });
    // A client that resets mid-handshake is the client's business, not a server crash.
    server.on('error', () => undefined);
    return { server, info: hostKeyInfo(pair) };
  }

  private accept(socket: Socket): void {
    if (!this.sockets.track(socket)) return;
    const state: ConnectionState = {
      id: this.sockets.connection(socket),
      socket,
      channels: 0,
      openChannels: 0,
      aborter: new AbortController(),
    };
    const peer = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`;
    this.connections.set(socket, state);
    this.byPeer.set(peer, state);
    this.record({ type: 'connect', connectionId: state.id });
    socket.on('error', () => undefined);
    // Small replies must not wait for delayed ACKs (Nagle): sequential reads would crawl.
    socket.setNoDelay(true);
    socket.once('close', () => {
      this.connections.delete(socket);
      this.byPeer.delete(peer);
      state.aborter.abort();
      this.record({ type: 'disconnect', connectionId: state.id });
    });
    this.ssh.injectSocket(socket);
  }

  private serveClient(client: Connection, state: ConnectionState): void {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => this.authenticate(ctx, state));
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => {
          const sftp = acceptSftp();
          const channelId = ++state.channels;
          state.openChannels++;
          this.maxChannels = Math.max(this.maxChannels, state.openChannels);
          this.record({ type: 'channel', connectionId: state.id, channelId });
          let counted = true;
          const closed = (): void => {
            if (!counted) return;
            counted = false;
            state.openChannels--;
          };
          sftp.on('close', closed);
          sftp.on('end', () => {
            closed();
            // The client is done with the subsystem: close our side too, or it waits for us forever.
            sftp.end();
          });
          this.serveSftp(sftp, state, channelId);
        });
      });
    });
  }

  private authenticate(ctx: AuthContext, state: ConnectionState): void {
    const methods: Array<'publickey' | 'password'> = ['publickey', 'password'];
    const account = this.users.get(ctx.username);
    const logged = (success: boolean): void =>
      this.record({ type: 'auth', connectionId: state.id, username: ctx.username, method: ctx.method, success });
    if (ctx.method === 'password') {
      const ok = this.serverFaults.failAuthentication !== true && account?.password !== undefined && ctx.password === account.password;
      logged(ok);
      if (ok) ctx.accept();
      else ctx.reject(methods);
      return;
    }
    if (ctx.method === 'publickey') {
      const key = account?.keys.find((k) => k.getPublicSSH().equals(ctx.key.data));
      if (key === undefined || this.serverFaults.failAuthentication === true) {
        logged(false);
        ctx.reject(methods);
        return;
      }
      // Without a signature the client only asks whether the key would do; the real attempt follows.
      if (ctx.signature === undefined || ctx.blob === undefined) {
        ctx.accept();
        return;
      }
      const ok = key.verify(ctx.blob, ctx.signature, ctx.hashAlgo);
      logged(ok);
      if (ok) ctx.accept();
      else ctx.reject(methods);
      return;
    }
    if (ctx.method !== 'none') logged(false);
    ctx.reject(methods);
  }

  private serveSftp(sftp: SFTPWrapper, state: ConnectionState, channelId: number): void {
    const handles = new Map<string, OpenHandle>();
    let nextHandle = 0;
    const base = { connectionId: state.id, channelId };
    const lookup = (handle: Buffer): OpenHandle | undefined => handles.get(handle.toString('hex'));
    const forgetAll = (): void => {
      for (const open of handles.values()) this.forget(open);
      handles.clear();
    };
    sftp.on('close', forgetAll);
    sftp.on('end', forgetAll);

    sftp.on('REALPATH', (reqid: number, path: string) => {
      const resolved = posix.resolve('/', path);
      sftp.name(reqid, [{ filename: resolved, longname: resolved, attrs: this.attrsOf(resolved) ?? dirAttrs() }]);
    });
    const stat = (reqid: number, path: string): void => {
      const attrs = this.attrsOf(normalize(path));
      this.record({ type: 'stat', ...base, path, ...(attrs ? {} : { status: STATUS_CODE.NO_SUCH_FILE }) });
      if (attrs) sftp.attrs(reqid, attrs);
      else sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE);
    };
    sftp.on('STAT', stat);
    sftp.on('LSTAT', stat);
    sftp.on('OPEN', (reqid: number, filename: string, flags: number) => {
      const path = normalize(filename);
      const file = this.files.get(path);
      const refuse = (status: number, faults?: string[]): void => {
        this.record({ type: 'open', ...base, path, status, ...(faults ? { faults } : {}) });
        sftp.status(reqid, status);
      };
      if (file === undefined) return refuse(this.isDirectory(path) ? STATUS_CODE.FAILURE : STATUS_CODE.NO_SUCH_FILE);
      if ((flags & ~OPEN_MODE.READ) !== 0 || (file.mode & 0o444) === 0) return refuse(STATUS_CODE.PERMISSION_DENIED);
      const { refuse: refusal, replaced } = file.admitOpen();
      if (refusal !== undefined) return refuse(refusal.code, [refusal.fault]);
      const handle = Buffer.alloc(4);
      handle.writeUInt32BE(++nextHandle);
      const open: OpenHandle = {
        file,
        version: file.current,
        served: 0,
        dropping: undefined,
        ending: undefined,
        stalling: undefined,
        stalled: false,
        ended: false,
        dropped: false,
        bucket: undefined,
        queue: Promise.resolve(),
      };
      handles.set(handle.toString('hex'), open);
      file.handles.add(open);
      this.counters.started(path);
      this.record({ type: 'open', ...base, path, ...(replaced ? { faults: ['replaceAfterRequests'] } : {}) });
      sftp.handle(reqid, handle);
    });
    sftp.on('FSTAT', (reqid: number, handle: Buffer) => {
      const open = lookup(handle);
      if (open === undefined) return sftp.status(reqid, STATUS_CODE.FAILURE);
      this.record({ type: 'fstat', ...base, path: open.file.path });
      sftp.attrs(reqid, fileAttrs(open.version, open.file.mode, open.file.announcedSize(open.version)));
    });
    sftp.on('CLOSE', (reqid: number, handle: Buffer) => {
      endless.delete(handle.toString('hex'));
      dropped.delete(handle.toString('hex'));
      if (listings.delete(handle.toString('hex'))) return sftp.status(reqid, STATUS_CODE.OK);
      const open = lookup(handle);
      handles.delete(handle.toString('hex'));
      if (open !== undefined) this.forget(open);
      this.record({ type: 'close', ...base, ...(open ? { path: open.file.path } : {}) });
      sftp.status(reqid, open === undefined ? STATUS_CODE.FAILURE : STATUS_CODE.OK);
    });
    // Directory listings, so that OpenSSH's `sftp` (which globs every path it gets) can be pointed here.
    const listings = new Map<string, Array<{ filename: string; longname: string; attrs: ReturnType<typeof dirAttrs> }> | null>();
    /** Listings of the `endlessListings` fault: how many generated names each has sent. */
    const endless = new Map<string, number>();
    /** Listings of the `dropListings` fault. */
    const dropped = new Set<string>();
    sftp.on('OPENDIR', (reqid: number, path: string) => {
      const dir = normalize(path);
      if (!this.isDirectory(dir)) return sftp.status(reqid, this.files.has(dir) ? STATUS_CODE.FAILURE : STATUS_CODE.NO_SUCH_FILE);
      const handle = Buffer.from(`d${++nextHandle}`);
      listings.set(handle.toString('hex'), this.list(dir));
      if (this.serverFaults.endlessListings?.includes(dir) === true) endless.set(handle.toString('hex'), 0);
      if (this.serverFaults.dropListings?.includes(dir) === true) dropped.add(handle.toString('hex'));
      sftp.handle(reqid, handle);
    });
    sftp.on('READDIR', (reqid: number, handle: Buffer) => {
      const key = handle.toString('hex');
      const entries = listings.get(key);
      if (entries === undefined) return sftp.status(reqid, STATUS_CODE.FAILURE);
      if (dropped.has(key)) return void state.socket.destroy();
      const sent = endless.get(key);
      if (entries === null && sent !== undefined) {
        endless.set(key, sent + ENDLESS_BATCH);
        return sftp.name(reqid, endlessBatch(sent));
      }
      if (entries === null) return sftp.status(reqid, STATUS_CODE.EOF);
      listings.set(key, null);
      sftp.name(reqid, entries);
    });
    sftp.on('READ', (reqid: number, handle: Buffer, offset: number, length: number) => {
      const open = lookup(handle);
      if (open === undefined) return sftp.status(reqid, STATUS_CODE.FAILURE);
      const rate = open.file.faults.throttleBytesPerSec;
      if (rate === undefined && open.bucket === undefined) {
        this.answerRead(sftp, state, base, open, reqid, offset, length);
        return;
      }
      open.bucket ??= new TokenBucket(rate ?? Number.MAX_SAFE_INTEGER, PACE_STEP);
      const bucket = open.bucket;
      open.queue = open.queue
        .then(async () => {
          const bytes = Math.max(0, Math.min(length, open.version.size - offset));
          for (let paid = 0; paid < bytes; paid += bucket.maxWrite) {
            await bucket.take(Math.min(bucket.maxWrite, bytes - paid), state.aborter.signal);
          }
          this.answerRead(sftp, state, base, open, reqid, offset, length, ['throttleBytesPerSec']);
        })
        .catch(() => undefined);
    });
  }

  /** Answers one READ with data, a short read, EOF, or a dropped connection, as the faults say. */
  private answerRead(
    sftp: SFTPWrapper,
    state: ConnectionState,
    base: { connectionId: number; channelId: number },
    open: OpenHandle,
    reqid: number,
    offset: number,
    length: number,
    applied: string[] = [],
  ): void {
    if (state.socket.destroyed || open.dropped) return;
    if (open.stalled) {
      this.record({ type: 'read', ...base, path: open.file.path, offset, length, bytes: 0, faults: ['stallAfterBytes'] });
      return;
    }
    const { file, version } = open;
    const faults = file.faults;
    const shaped = [...applied];
    const entry = (bytes: number, status?: number): SftpLogEntry => ({
      type: 'read',
      ...base,
      path: file.path,
      offset,
      length,
      bytes,
      ...(status === undefined ? {} : { status }),
      ...(shaped.length > 0 ? { faults: shaped } : {}),
    });
    if (open.ended || offset >= version.size) {
      if (open.ended) shaped.push('cutAfterBytes');
      this.record(entry(0, STATUS_CODE.EOF));
      sftp.status(reqid, STATUS_CODE.EOF);
      return;
    }
    let end = Math.min(offset + length, version.size);
    if (faults.maxReadReply !== undefined && end - offset > faults.maxReadReply) {
      end = offset + faults.maxReadReply;
      shaped.push('maxReadReply');
    }
    let drop = false;
    const limit = faults.dropAfterBytes;
    if (limit !== undefined && open.served + (end - offset) > limit) {
      open.dropping ??= file.faultState.take('drop') !== undefined;
      if (open.dropping) {
        drop = true;
        end = offset + Math.max(0, limit - open.served);
        shaped.push('dropAfterBytes');
      }
    }
    const stallLimit = faults.stallAfterBytes;
    if (!drop && stallLimit !== undefined && open.served + (end - offset) > stallLimit) {
      open.stalling ??= file.faultState.take('stall') !== undefined;
      if (open.stalling) {
        end = offset + Math.max(0, stallLimit - open.served);
        open.stalled = true;
        shaped.push('stallAfterBytes');
      }
    }
    const cutLimit = faults.cutAfterBytes;
    if (!drop && !open.stalled && cutLimit !== undefined && open.served + (end - offset) > cutLimit) {
      open.ending ??= file.faultState.take('cut') !== undefined;
      if (open.ending) {
        end = offset + Math.max(0, cutLimit - open.served);
        open.ended = true;
        shaped.push('cutAfterBytes');
        if (end === offset) {
          this.record(entry(0, STATUS_CODE.EOF));
          sftp.status(reqid, STATUS_CODE.EOF);
          return;
        }
      }
    }
    const bytes = end - offset;
    if (bytes > 0) {
      open.served += bytes;
      this.counters.sent(file.path, bytes);
      this.record(entry(bytes));
      sftp.data(reqid, readContent(version.content, offset, end));
    }
    if (drop) {
      open.dropped = true;
      this.record({ type: 'drop', connectionId: state.id, channelId: base.channelId, path: file.path, bytes: open.served });
      // After this tick, so the last reply is handed to the socket first.
      setImmediate(() => state.socket.destroy());
    }
  }

  /** A handle closed or its channel went: it no longer counts as a transfer. */
  private forget(open: OpenHandle): void {
    if (open.file.handles.delete(open)) this.counters.ended(open.file.path);
  }

  private isDirectory(path: string): boolean {
    if (path === '/') return true;
    const prefix = `${path}/`;
    for (const key of this.files.keys()) if (key.startsWith(prefix)) return true;
    return false;
  }

  /** The entries directly under directory `dir`, as READDIR returns them. */
  private list(dir: string): Array<{ filename: string; longname: string; attrs: ReturnType<typeof dirAttrs> }> {
    const prefix = dir === '/' ? '/' : `${dir}/`;
    const names = new Set<string>();
    for (const key of this.files.keys()) {
      if (key.startsWith(prefix)) names.add(key.slice(prefix.length).split('/')[0]!);
    }
    return [...names].map((name) => {
      const attrs = this.attrsOf(prefix + name) ?? dirAttrs();
      const kind = (attrs.mode & S_IFDIR) === S_IFDIR ? 'd' : '-';
      return { filename: name, longname: `${kind}rw-r--r--    1 0        0        ${attrs.size} Jan  1 00:00 ${name}`, attrs };
    });
  }

  private attrsOf(path: string): ReturnType<typeof fileAttrs> | undefined {
    const file = this.files.get(path);
    if (file !== undefined) return fileAttrs(file.current, file.mode, file.announcedSize());
    return this.isDirectory(path) ? dirAttrs() : undefined;
  }
}

/** Names per READDIR answer of an `endlessListings` folder. */
const ENDLESS_BATCH = 500;

/** The generated files `endless-N.bin` from `from` on, one READDIR answer's worth. */
function endlessBatch(from: number): Array<{ filename: string; longname: string; attrs: ReturnType<typeof fileAttrs> }> {
  const attrs = { mode: S_IFREG | 0o644, uid: 0, gid: 0, size: 1, atime: 0, mtime: 0 };
  return Array.from({ length: ENDLESS_BATCH }, (_, i) => {
    const filename = `endless-${from + i}.bin`;
    return { filename, longname: `-rw-r--r--    1 0        0        1 Jan  1 00:00 ${filename}`, attrs };
  });
}

function normalize(path: string): string {
  return posix.resolve('/', path);
}

function fileAttrs(version: SftpVersion, mode: number, size: number): { mode: number; uid: number; gid: number; size: number; atime: number; mtime: number } {
  return { mode: S_IFREG | mode, uid: 0, gid: 0, size, atime: version.mtime, mtime: version.mtime };
}

function dirAttrs(): { mode: number; uid: number; gid: number; size: number; atime: number; mtime: number } {
  const now = Math.floor(Date.now() / 1000);
  return { mode: S_IFDIR | 0o755, uid: 0, gid: 0, size: 4096, atime: now, mtime: now };
}

function keyTypeName(wire: string): SshKeyType {
  if (wire === 'ssh-ed25519') return 'ed25519';
  if (wire.startsWith('ecdsa-')) return 'ecdsa';
  return 'rsa';
}
