import net, { type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSocksServer, type SocksTestServer } from '../src/index.js';

let echo: net.Server;
let echoPort: number;
const servers: SocksTestServer[] = [];

beforeAll(async () => {
  echo = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as AddressInfo).port;
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

async function socks(options: Parameters<typeof startSocksServer>[0] = {}): Promise<SocksTestServer> {
  const server = await startSocksServer(options);
  servers.push(server);
  return server;
}

/** A raw client: writes `bytes` and resolves with everything read until `n` bytes or the end. */
class Raw {
  private received = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | undefined;
  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
  }
  static async open(port: number): Promise<Raw> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new Raw(socket);
  }
  async exchange(bytes: number[] | Buffer, n: number): Promise<number[]> {
    this.socket.write(Buffer.from(bytes));
    while (this.received.length < n && !this.ended) await new Promise<void>((resolve) => (this.wake = resolve));
    const out = [...this.received.subarray(0, n)];
    this.received = this.received.subarray(n);
    return out;
  }
}

const portBytes = (port: number): number[] => [port >> 8, port & 0xff];

describe('SOCKS5 test server', () => {
  it('opens a CONNECT tunnel to an IPv4 address and records it', async () => {
    const server = await socks();
    const client = await Raw.open(server.port);
    expect(await client.exchange([5, 1, 0], 2)).toEqual([5, 0]);
    expect((await client.exchange([5, 1, 0, 1, 127, 0, 0, 1, ...portBytes(echoPort)], 10)).slice(0, 2)).toEqual([5, 0]);
    expect(Buffer.from(await client.exchange(Buffer.from('ping'), 4)).toString()).toBe('ping');
    client.socket.destroy();
    expect(server.connections()).toEqual([{ addressType: 'ipv4', host: '127.0.0.1', port: echoPort, outcome: 'connected', bytesToClient: 4 }]);
  });

  it('resolves names of its own hosts map for domain requests', async () => {
    const server = await socks({ hosts: { 'only.here.test': '127.0.0.1' } });
    const client = await Raw.open(server.port);
    await client.exchange([5, 1, 0], 2);
    const name = Buffer.from('only.here.test');
    expect((await client.exchange([5, 1, 0, 3, name.length, ...name, ...portBytes(echoPort)], 10))[1]).toBe(0);
    client.socket.destroy();
    expect(server.connections()[0]).toMatchObject({ addressType: 'domain', host: 'only.here.test', outcome: 'connected' });
  });

  it('refuses commands other than CONNECT with reply 7', async () => {
    const server = await socks();
    const client = await Raw.open(server.port);
    await client.exchange([5, 1, 0], 2);
    // BIND
    expect((await client.exchange([5, 2, 0, 1, 127, 0, 0, 1, 0, 80], 10))[1]).toBe(7);
    expect(server.connections()[0]?.outcome).toBe('unsupported');
  });

  it('answers 5 (connection refused) for a destination that refuses', async () => {
    const server = await socks();
    const client = await Raw.open(server.port);
    await client.exchange([5, 1, 0], 2);
    // Port 1 on loopback: nothing listens there.
    expect((await client.exchange([5, 1, 0, 1, 127, 0, 0, 1, 0, 1], 10))[1]).toBe(5);
    expect(server.connections()[0]?.outcome).toBe('unreachable');
  });

  it('with auth: offers only user name/password and checks it', async () => {
    const server = await socks({ auth: { username: 'u', password: 'p' } });
    const noMethod = await Raw.open(server.port);
    expect(await noMethod.exchange([5, 1, 0], 2)).toEqual([5, 0xff]);
    const wrong = await Raw.open(server.port);
    expect(await wrong.exchange([5, 1, 2], 2)).toEqual([5, 2]);
    expect(await wrong.exchange([1, 1, 117, 1, 120], 2)).toEqual([1, 1]);
    const right = await Raw.open(server.port);
    await right.exchange([5, 1, 2], 2);
    expect(await right.exchange([1, 1, 117, 1, 112], 2)).toEqual([1, 0]);
    right.socket.destroy();
    expect(server.connections().map((c) => c.outcome)).toEqual(['no-method', 'auth-failed', undefined]);
  });
});
