import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startLatencyRelay, type LatencyRelay } from '../src/index.js';

let echo: Server;
let relay: LatencyRelay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

/** An echo server: every connection gets its bytes back, and its end. */
async function startEcho(): Promise<{ host: string; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  echo = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  return { host: '127.0.0.1', port: (echo.address() as AddressInfo).port, sockets };
}

/** Sends `data` through a new connection to the relay, ends it, and collects the echo. */
async function roundTrip(r: LatencyRelay, data: Buffer): Promise<{ received: Buffer; firstByteMs: number }> {
  const socket = createConnection({ host: r.host, port: r.port });
  await once(socket, 'connect');
  const started = performance.now();
  let firstByteMs = -1;
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => {
    if (firstByteMs < 0) firstByteMs = performance.now() - started;
    chunks.push(chunk);
  });
  socket.end(data);
  await once(socket, 'end');
  socket.destroy();
  return { received: Buffer.concat(chunks), firstByteMs };
}

describe('startLatencyRelay', () => {
  it('relays bytes both ways unchanged and in order, ends included', async () => {
    const target = await startEcho();
    relay = await startLatencyRelay({ target, delayMs: 1 });
    const data = randomBytes(8 * 1024 * 1024 + 3);
    const { received } = await roundTrip(relay, data);
    expect(received.equals(data)).toBe(true);
    expect(relay.connectionsAccepted()).toBe(1);
  });

  it('keeps the order and the bytes when the sender outruns the buffer (backpressure)', async () => {
    const target = await startEcho();
    relay = await startLatencyRelay({ target, delayMs: 2, bufferBytes: 64 * 1024 });
    const data = randomBytes(4 * 1024 * 1024);
    const { received } = await roundTrip(relay, data);
    expect(received.equals(data)).toBe(true);
  });

  it('stops reading the sender while the receiver does not read, and delivers every byte once it does', async () => {
    // A receiver that reads nothing at first: the relay's writes to it back up until one is refused.
    const received: Buffer[] = [];
    let peer: Socket | undefined;
    echo = createServer({ allowHalfOpen: true }, (socket) => {
      peer = socket;
      socket.on('error', () => undefined);
      socket.pause();
      socket.on('data', (chunk: Buffer) => received.push(chunk));
    });
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    relay = await startLatencyRelay({ target: { host: '127.0.0.1', port: (echo.address() as AddressInfo).port }, delayMs: 1, bufferBytes: 64 * 1024 });
    const r = relay;
    const client = createConnection({ host: r.host, port: r.port });
    await once(client, 'connect');
    const data = randomBytes(32 * 1024 * 1024);
    client.end(data);
    // More than loopback's socket buffers hold: the relay's write is refused (bounded wait, no timing asserted).
    for (let i = 0; i < 1000 && r.writesRefused() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(r.writesRefused()).toBeGreaterThan(0);
    const ended = once(peer!, 'end');
    peer!.resume();
    await ended;
    expect(Buffer.concat(received).equals(data)).toBe(true);
    client.destroy();
    peer!.destroy();
  });

  it('adds the delay in each direction: nothing comes back before two delays have passed', async () => {
    const target = await startEcho();
    relay = await startLatencyRelay({ target, delayMs: 60 });
    const { received, firstByteMs } = await roundTrip(relay, Buffer.from('ping'));
    expect(received.toString()).toBe('ping');
    // A lower bound only (timers never fire early); no upper bound is asserted.
    expect(firstByteMs).toBeGreaterThanOrEqual(2 * 60 - 1);
  });

  it('close() destroys relayed connections and stops listening', async () => {
    const target = await startEcho();
    relay = await startLatencyRelay({ target, delayMs: 1 });
    const socket = createConnection({ host: relay.host, port: relay.port });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    const closed = once(socket, 'close');
    await relay.close();
    await closed;
    const refused = createConnection({ host: relay.host, port: relay.port });
    const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('rejects a negative delay', async () => {
    await startEcho();
    await expect(startLatencyRelay({ target: { host: '127.0.0.1', port: 1 }, delayMs: -1 })).rejects.toThrow(RangeError);
  });
});
