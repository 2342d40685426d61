import { once } from 'node:events';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectSlabSocket } from '../src/slabSocket.js';

const KiB = 1024;
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

/** Bytes whose value depends on their position, so a chunk written over by a later read shows. */
function pattern(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + (i >> 11)) & 0xff;
  return b;
}

/** A server that sends `payload` in writes of the given sizes (cycling), then ends. */
async function sender(payload: Buffer, writeSizes: number[]): Promise<number> {
  const server = createServer((sock: Socket) => {
    let p = 0;
    let k = 0;
    const pump = (): void => {
      while (p < payload.length) {
        const n = writeSizes[k++ % writeSizes.length]!;
        const more = sock.write(payload.subarray(p, p + n));
        p += n;
        if (!more) {
          sock.once('drain', pump);
          return;
        }
      }
      sock.end();
    };
    pump();
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function receive(sock: Socket): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  await once(sock, 'close');
  return chunks;
}

describe('connectSlabSocket', () => {
  it('hands every read on as a data event; chunks kept to the end still hold their bytes', async () => {
    const payload = pattern(5 * 1024 * KiB + 123);
    const port = await sender(payload, [1, 4093, 64 * KiB, 300 * KiB, 17]);
    const slab = 128 * KiB;
    const chunks = await receive(connectSlabSocket('127.0.0.1', port, slab));
    // Every chunk was kept until now: had a later read reused a slab's bytes, this would differ.
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
    // Reads share slabs, back to back: far fewer backing buffers than reads, none larger than a slab.
    const slabs = new Set(chunks.map((c) => c.buffer));
    expect(slabs.size).toBeLessThanOrEqual(Math.ceil(payload.length / (slab - 64 * KiB)) + 1);
    for (const c of chunks) expect(c.byteOffset + c.length).toBeLessThanOrEqual(slab);
    const byBuffer = new Map<ArrayBufferLike, Buffer[]>();
    for (const c of chunks) byBuffer.set(c.buffer, [...(byBuffer.get(c.buffer) ?? []), c]);
    for (const list of byBuffer.values()) {
      for (let i = 1; i < list.length; i++) expect(list[i]!.byteOffset).toBe(list[i - 1]!.byteOffset + list[i - 1]!.length);
    }
  });

  it('pauses and resumes like a plain socket, and reports connection errors as error events', async () => {
    const payload = pattern(2 * 1024 * KiB);
    const port = await sender(payload, [64 * KiB]);
    const sock = connectSlabSocket('127.0.0.1', port);
    sock.pause();
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.pause();
    await once(sock, 'connect');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(chunks).toEqual([]);
    sock.resume();
    await once(sock, 'close');
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);

    // A port nobody listens on: the listener is gone once the server above is closed.
    const closed = servers.pop()!;
    await new Promise((resolve) => closed.close(resolve));
    const refused = connectSlabSocket('127.0.0.1', port);
    const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
  });
});
