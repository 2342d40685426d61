// The real dante launcher (Debian's danted): it starts on a free port, tunnels a SOCKS5 CONNECT to a
// server on 127.0.0.1, logs the destination, refuses a client without credentials when it requires
// them, reports a missing binary with the command that installs it, and leaves nothing running.
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDante, type DanteServer } from '../src/index.js';

let echo: net.Server;
let echoPort: number;

beforeAll(async () => {
  echo = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  echoPort = (echo.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

/** Reads from `socket` until `n` bytes came (or it closed), and returns them. */
async function read(socket: net.Socket, n: number): Promise<Buffer> {
  let got = Buffer.alloc(0);
  while (got.length < n) {
    const chunk = socket.read() as Buffer | null;
    if (chunk !== null) {
      got = Buffer.concat([got, chunk]);
      continue;
    }
    if (socket.readableEnded || socket.destroyed) break;
    await Promise.race([once(socket, 'readable'), once(socket, 'close')]);
  }
  return got;
}

/** Opens a connection to dante and offers the "no authentication" method; resolves with its choice. */
async function greet(server: DanteServer): Promise<{ socket: net.Socket; method: number }> {
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(Buffer.from([5, 1, 0]));
  const reply = await read(socket, 2);
  return { socket, method: reply[1] ?? -1 };
}

describe('startDante', () => {
  it('tunnels a CONNECT to 127.0.0.1, logs its destination, and stops on close()', async () => {
    const server = await startDante();
    try {
      expect(server.url).toBe(`socks5://127.0.0.1:${server.port}`);
      const { socket, method } = await greet(server);
      expect(method).toBe(0);
      socket.write(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, echoPort >> 8, echoPort & 0xff]));
      const reply = await read(socket, 10);
      expect([...reply.subarray(0, 2)]).toEqual([5, 0]);
      socket.write('through dante');
      expect((await read(socket, 13)).toString()).toBe('through dante');
      socket.destroy();
      // dante writes its log line for the tunnel as it closes it.
      for (let i = 0; i < 200 && (await server.connections()).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(await server.connections()).toContainEqual({ host: '127.0.0.1', port: echoPort });
    } finally {
      await server.close();
    }
    // Stopped: nothing listens on its port any more.
    const probe = net.connect(server.port, '127.0.0.1');
    const outcome = await new Promise<string>((resolve) => {
      probe.once('connect', () => resolve('connected'));
      probe.once('error', () => resolve('refused'));
    });
    probe.destroy();
    expect(outcome).toBe('refused');
    await server.close();
  });

  it('requires a user name and password with socksMethod "username": no acceptable method (0xff) for a client without', async () => {
    const server = await startDante({ socksMethod: 'username' });
    try {
      const { socket, method } = await greet(server);
      expect(method).toBe(0xff);
      socket.destroy();
    } finally {
      await server.close();
    }
  });

  it('says how to install dante when the binary is missing', async () => {
    await expect(startDante({ binary: '/nonexistent/danted' })).rejects.toThrow(/apt-get install dante-server/);
  });
});
