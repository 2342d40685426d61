import net, { type AddressInfo, type Socket } from 'node:net';
import type { SocksConnectionRecord, SocksServerOptions, SocksTestServer } from './types.js';

/** Reads exact byte counts from a socket in paused mode. */
class Reader {
  private wake: (() => void) | undefined;
  private done = false;
  private readonly onReadable = (): void => this.notify();

  constructor(private readonly socket: Socket) {
    socket.on('readable', this.onReadable);
    socket.once('close', () => {
      this.done = true;
      this.notify();
    });
  }

  async read(n: number): Promise<Buffer | undefined> {
    for (;;) {
      if (n === 0) return Buffer.alloc(0);
      const chunk = this.socket.read(n) as Buffer | null;
      if (chunk !== null) return chunk.length === n ? chunk : undefined;
      if (this.done || this.socket.readableEnded) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Stops reading: with a 'readable' listener attached, 'data' would not flow to a pipe. */
  release(): void {
    this.socket.off('readable', this.onReadable);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function reply(code: number): Buffer {
  // BND.ADDR 0.0.0.0:0: clients of CONNECT do not use it.
  return Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
}

function ipv6Text(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':');
}

/**
 * A SOCKS5 server (RFC 1928, CONNECT only) with optional user name/password authentication
 * (RFC 1929). It records every client connection, what it asked for and how it ended, so a test can
 * prove that traffic went through the proxy and which address type the client sent.
 */
export class SocksServer implements SocksTestServer {
  private readonly log: SocksConnectionRecord[] = [];
  private readonly sockets = new Set<Socket>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: net.Server,
    /** See {@link SocksTestServer.port}. */
    readonly port: number,
    private readonly options: SocksServerOptions,
  ) {
    server.on('connection', (socket: Socket) => {
      this.track(socket);
      socket.on('error', () => socket.destroy());
      void this.serve(socket);
    });
  }

  /** Creates the server and listens on port 0 of 127.0.0.1. */
  static async listen(options: SocksServerOptions = {}): Promise<SocksServer> {
    const server = net.createServer({ pauseOnConnect: false });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new SocksServer(server, (server.address() as AddressInfo).port, options);
  }

  /** {@inheritDoc SocksTestServer.url} */
  get url(): string {
    return `socks5://127.0.0.1:${this.port}`;
  }

  /** {@inheritDoc SocksTestServer.connections} */
  connections(): SocksConnectionRecord[] {
    return this.log.map((record) => ({ ...record }));
  }

  /** {@inheritDoc SocksTestServer.close} */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private async serve(client: Socket): Promise<void> {
    const record: SocksConnectionRecord = { bytesToClient: 0 };
    this.log.push(record);
    const reader = new Reader(client);
    const head = await reader.read(2);
    if (head?.[0] !== 5) return void client.destroy();
    const methods = await reader.read(head[1] ?? 0);
    if (methods === undefined) return void client.destroy();
    const wanted = this.options.auth === undefined ? 0x00 : 0x02;
    if (!methods.includes(wanted)) {
      record.outcome = 'no-method';
      client.end(Buffer.from([5, 0xff]));
      return;
    }
    client.write(Buffer.from([5, wanted]));
    if (this.options.auth !== undefined) {
      const version = await reader.read(2);
      const user = await reader.read(version?.[1] ?? 0);
      const passwordLength = await reader.read(1);
      const password = await reader.read(passwordLength?.[0] ?? 0);
      if (version?.[0] !== 1 || user === undefined || password === undefined) return void client.destroy();
      record.username = user.toString('utf8');
      if (record.username !== this.options.auth.username || password.toString('utf8') !== this.options.auth.password) {
        record.outcome = 'auth-failed';
        client.end(Buffer.from([1, 1]));
        return;
      }
      client.write(Buffer.from([1, 0]));
    }
    const request = await reader.read(4);
    if (request?.[0] !== 5) return void client.destroy();
    let host: string | undefined;
    if (request[3] === 1) {
      record.addressType = 'ipv4';
      host = [...((await reader.read(4)) ?? [])].join('.');
    } else if (request[3] === 4) {
      record.addressType = 'ipv6';
      const bytes = await reader.read(16);
      host = bytes === undefined ? undefined : ipv6Text(bytes);
    } else if (request[3] === 3) {
      record.addressType = 'domain';
      const length = await reader.read(1);
      host = (await reader.read(length?.[0] ?? 0))?.toString('utf8');
    }
    const portBytes = await reader.read(2);
    if (host === undefined || portBytes === undefined) {
      client.end(reply(8));
      return;
    }
    record.host = host;
    record.port = portBytes.readUInt16BE(0);
    if (request[1] !== 1) {
      record.outcome = 'unsupported';
      client.end(reply(7));
      return;
    }
    const address = this.options.hosts?.[host.toLowerCase()] ?? host;
    const upstream = net.connect({ host: address, port: record.port });
    this.track(upstream);
    upstream.once('error', (err: NodeJS.ErrnoException) => {
      if (record.outcome !== undefined) return void client.destroy();
      record.outcome = 'unreachable';
      client.end(reply(err.code === 'ECONNREFUSED' ? 5 : 4));
    });
    upstream.once('connect', () => {
      record.outcome = 'connected';
      client.write(reply(0));
      reader.release();
      upstream.on('data', (chunk: Buffer) => {
        record.bytesToClient += chunk.length;
      });
      upstream.pipe(client);
      client.pipe(upstream);
      upstream.once('close', () => client.destroy());
      client.once('close', () => upstream.destroy());
    });
  }
}

/**
 * Starts a SOCKS5 server on port 0 of 127.0.0.1 (CONNECT only; with `auth`, user name/password
 * authentication is required). Every client connection is recorded. Always `close()` it.
 */
export async function startSocksServer(options: SocksServerOptions = {}): Promise<SocksTestServer> {
  return await SocksServer.listen(options);
}
