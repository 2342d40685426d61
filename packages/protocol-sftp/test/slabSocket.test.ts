import { once } from 'node:events';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectSlabSocket, slabCounts, slabHandedOn, slabWritten } from '../src/slabSocket.js';

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

describe('slabs freed once their data were written', () => {
  /** Receives `payload` through 128 KiB slabs, every chunk handed on as file data. */
  async function handedChunks(payload: Buffer): Promise<Buffer[]> {
    const port = await sender(payload, [64 * KiB, 3 * KiB, 200 * KiB]);
    const sock = connectSlabSocket('127.0.0.1', port, 128 * KiB);
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => {
      slabHandedOn(c);
      chunks.push(c);
    });
    await once(sock, 'close');
    return chunks;
  }

  /** The slabs of `chunks`, in the order they were filled. */
  const slabsOf = (chunks: Buffer[]): ArrayBufferLike[] => [...new Set(chunks.map((c) => c.buffer))];

  it('frees a slab when all its data were written and a second slab after it began; the last two stay', async () => {
    const payload = pattern(3 * 1024 * KiB);
    const chunks = await handedChunks(payload);
    const copy = Buffer.concat(chunks);
    expect(copy.equals(payload)).toBe(true);
    const slabs = slabsOf(chunks);
    expect(slabs.length).toBeGreaterThan(4);
    const before = slabCounts().freed;
    for (const c of chunks) slabWritten(c);
    // Detached buffers read as empty: freed. The two newest are not settled yet.
    expect(slabs.slice(0, -2).every((b) => b.byteLength === 0)).toBe(true);
    expect(slabs.slice(-2).every((b) => b.byteLength === 128 * KiB)).toBe(true);
    expect(slabCounts().freed - before).toBe(slabs.length - 2);
  });

  it('keeps a slab while any byte it handed on is unwritten: a chunk cut short, or not written at all', async () => {
    const payload = pattern(3 * 1024 * KiB);
    const chunks = await handedChunks(payload);
    const slabs = slabsOf(chunks);
    const [first, second] = slabs;
    const ofFirst = chunks.filter((c) => c.buffer === first);
    const ofSecond = chunks.filter((c) => c.buffer === second);
    // Slab 1: every chunk written but the last, which is written only in part.
    for (const c of ofFirst.slice(0, -1)) slabWritten(c);
    slabWritten(ofFirst.at(-1)!.subarray(0, ofFirst.at(-1)!.length - 1));
    // Slab 2: one chunk never written.
    for (const c of ofSecond.slice(1)) slabWritten(c);
    for (const c of chunks) if (c.buffer !== first && c.buffer !== second) slabWritten(c);
    expect(first!.byteLength).toBe(128 * KiB);
    expect(second!.byteLength).toBe(128 * KiB);
    // What they handed on still reads as it arrived.
    expect(Buffer.concat([...ofFirst, ...ofSecond]).equals(payload.subarray(0, ofFirst.concat(ofSecond).reduce((n, c) => n + c.length, 0)))).toBe(true);
    expect(slabs[2]!.byteLength).toBe(0);
  });

  it('leaves slabs nothing was handed on from, and buffers that are not slabs, to the collector', async () => {
    const port = await sender(pattern(1024 * KiB), [64 * KiB]);
    const sock = connectSlabSocket('127.0.0.1', port, 128 * KiB);
    const chunks = await receive(sock);
    for (const c of chunks) slabWritten(c);
    expect(slabsOf(chunks).every((b) => b.byteLength === 128 * KiB)).toBe(true);
    const other = Buffer.allocUnsafeSlow(64 * KiB);
    slabHandedOn(other);
    slabWritten(other);
    expect(other.buffer.byteLength).toBe(64 * KiB);
  });
});
