import { once } from 'node:events';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectSlabSocket, isSlabView, slabCounts, slabHandedOn, slabPinned, slabReleased } from '../src/util/slabSocket.js';

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

/** A server that sends `payload` in writes of the given sizes (cycling), then ends (unless `end` is false). */
async function sender(payload: Buffer, writeSizes: number[], end = true): Promise<number> {
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
      if (end) sock.end();
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
    const chunks = await receive(connectSlabSocket('127.0.0.1', port, { slabSize: slab }));
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
    const sock = connectSlabSocket('127.0.0.1', port, { slabSize: 128 * KiB });
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

  it('frees a slab when all its data were written and a second slab after it began, or the socket closed', async () => {
    const payload = pattern(3 * 1024 * KiB);
    const chunks = await handedChunks(payload);
    const copy = Buffer.concat(chunks);
    expect(copy.equals(payload)).toBe(true);
    const slabs = slabsOf(chunks);
    expect(slabs.length).toBeGreaterThan(4);
    const before = slabCounts().freed;
    for (const c of chunks) slabReleased(c);
    // Detached buffers read as empty: freed. The socket is closed, so the two newest settled too.
    expect(slabs.every((b) => b.byteLength === 0)).toBe(true);
    expect(slabCounts().freed - before).toBe(slabs.length);
  });

  it('while the socket is open, keeps the two newest slabs (a packet may still end in them), then frees them when it closes', async () => {
    const payload = pattern(2 * 1024 * KiB);
    const port = await sender(payload, [64 * KiB], false);
    const sock = connectSlabSocket('127.0.0.1', port, { slabSize: 128 * KiB });
    const chunks: Buffer[] = [];
    let got = 0;
    sock.on('data', (c: Buffer) => {
      slabHandedOn(c);
      chunks.push(c);
      got += c.length;
    });
    while (got < payload.length) await new Promise((resolve) => setTimeout(resolve, 5));
    for (const c of chunks) slabReleased(c);
    const slabs = slabsOf(chunks);
    expect(slabs.slice(0, -2).every((b) => b.byteLength === 0)).toBe(true);
    expect(slabs.slice(-2).every((b) => b.byteLength === 128 * KiB)).toBe(true);
    sock.destroy();
    await once(sock, 'close');
    expect(slabs.every((b) => b.byteLength === 0)).toBe(true);
  });

  it('keeps a slab while any byte it handed on is unwritten: a chunk cut short, or not written at all', async () => {
    const payload = pattern(3 * 1024 * KiB);
    const chunks = await handedChunks(payload);
    const slabs = slabsOf(chunks);
    const [first, second] = slabs;
    const ofFirst = chunks.filter((c) => c.buffer === first);
    const ofSecond = chunks.filter((c) => c.buffer === second);
    // Slab 1: every chunk written but the last, which is written only in part.
    for (const c of ofFirst.slice(0, -1)) slabReleased(c);
    slabReleased(ofFirst.at(-1)!.subarray(0, ofFirst.at(-1)!.length - 1));
    // Slab 2: one chunk never written.
    for (const c of ofSecond.slice(1)) slabReleased(c);
    for (const c of chunks) if (c.buffer !== first && c.buffer !== second) slabReleased(c);
    expect(first!.byteLength).toBe(128 * KiB);
    expect(second!.byteLength).toBe(128 * KiB);
    // What they handed on still reads as it arrived.
    expect(Buffer.concat([...ofFirst, ...ofSecond]).equals(payload.subarray(0, ofFirst.concat(ofSecond).reduce((n, c) => n + c.length, 0)))).toBe(true);
    expect(slabs[2]!.byteLength).toBe(0);
  });

  it('leaves slabs nothing was handed on from, and buffers that are not slabs, to the collector', async () => {
    const port = await sender(pattern(1024 * KiB), [64 * KiB]);
    const sock = connectSlabSocket('127.0.0.1', port, { slabSize: 128 * KiB });
    const chunks = await receive(sock);
    for (const c of chunks) slabReleased(c);
    expect(slabsOf(chunks).every((b) => b.byteLength === 128 * KiB)).toBe(true);
    const other = Buffer.allocUnsafeSlow(64 * KiB);
    slabHandedOn(other);
    slabReleased(other);
    expect(other.buffer.byteLength).toBe(64 * KiB);
  });
});

describe("slabs of a socket read with socket.read() ('push')", () => {
  it('hands every read to read() in order, pausing the socket while its buffer is full', async () => {
    const payload = pattern(3 * 1024 * KiB + 7);
    const port = await sender(payload, [64 * KiB, 1, 300 * KiB]);
    const sock = connectSlabSocket('127.0.0.1', port, { slabSize: 256 * KiB, deliver: 'push' });
    const chunks: Buffer[] = [];
    let reads = 0;
    sock.on('readable', () => {
      // A slow reader: one read per event, after a pause, so the socket's buffer fills and reading stops.
      setTimeout(() => {
        reads++;
        let c: Buffer | null;
        while ((c = sock.read() as Buffer | null) !== null) chunks.push(c);
      }, reads % 8 === 0 ? 5 : 0);
    });
    await once(sock, 'end');
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
  });

  it('frees a retired slab once its data were written and the socket holds none of its bytes; never the slab it reads into', async () => {
    const payload = pattern(2 * 1024 * KiB);
    const port = await sender(payload, [32 * KiB], false);
    const sock = connectSlabSocket('127.0.0.1', port, { slabSize: 128 * KiB, deliver: 'push' });
    const chunks: Buffer[] = [];
    let got = 0;
    sock.on('readable', () => {
      let c: Buffer | null;
      while ((c = sock.read() as Buffer | null) !== null) {
        // As undici parses: every body chunk handed on at once.
        slabHandedOn(c);
        chunks.push(c);
        got += c.length;
      }
    });
    while (got < payload.length) await new Promise((resolve) => setTimeout(resolve, 5));
    const copy = Buffer.from(Buffer.concat(chunks));
    expect(copy.equals(payload)).toBe(true);
    const slabs = [...new Set(chunks.map((c) => c.buffer))];
    expect(slabs.length).toBeGreaterThan(4);
    // All but one chunk of the first slab written: it stays, with its bytes.
    const first = chunks.filter((c) => c.buffer === slabs[0]);
    for (const c of chunks.filter((c) => c !== first[0])) slabReleased(c);
    expect(slabs[0]!.byteLength).toBe(128 * KiB);
    expect(Buffer.concat(first).equals(payload.subarray(0, first.reduce((n, c) => n + c.length, 0)))).toBe(true);
    // Every other retired slab is freed; the last one, which the socket would read into next, is not.
    expect(slabs.slice(1, -1).every((b) => b.byteLength === 0)).toBe(true);
    expect(slabs.at(-1)!.byteLength).toBe(128 * KiB);
    slabReleased(first[0]!);
    expect(slabs[0]!.byteLength).toBe(0);
    sock.destroy();
    await once(sock, 'close');
    expect(slabs.at(-1)!.byteLength).toBe(0);
  });

  it('never frees a slab while the socket still buffers part of it: a reader taking small pieces, each written at once, gets every byte', async () => {
    const payload = pattern(3 * 1024 * KiB + 11);
    const port = await sender(payload, [100 * KiB, 7, 64 * KiB]);
    const sock = connectSlabSocket('127.0.0.1', port, { slabSize: 128 * KiB, deliver: 'push' });
    const copies: Buffer[] = [];
    const before = slabCounts().freed;
    sock.on('readable', () => {
      // Pieces of 10 KiB: the rest of each read stays in the socket's buffer, a view of its slab.
      let c: Buffer | null;
      while ((c = sock.read(10 * KiB) as Buffer | null) !== null) {
        slabHandedOn(c);
        copies.push(Buffer.from(c));
        slabReleased(c);
      }
    });
    sock.on('end', () => undefined);
    await new Promise<void>((resolve) => sock.once('end', () => resolve()).once('close', () => resolve()));
    const rest = sock.read() as Buffer | null;
    if (rest !== null) copies.push(Buffer.from(rest));
    expect(Buffer.concat(copies).equals(payload)).toBe(true);
    // Not vacuous: slabs were freed along the way (when the buffer happened to be empty).
    expect(slabCounts().freed - before).toBeGreaterThan(0);
  });

  it('never frees a slab a view of which was pinned', async () => {
    const payload = pattern(1024 * KiB);
    const port = await sender(payload, [64 * KiB]);
    const sock = connectSlabSocket('127.0.0.1', port, { slabSize: 128 * KiB, deliver: 'push' });
    const chunks: Buffer[] = [];
    sock.on('readable', () => {
      let c: Buffer | null;
      while ((c = sock.read() as Buffer | null) !== null) {
        slabHandedOn(c);
        chunks.push(c);
      }
    });
    await once(sock, 'end');
    slabPinned(chunks[0]!);
    for (const c of chunks) slabReleased(c);
    expect(chunks[0]!.buffer.byteLength).toBe(128 * KiB);
    expect(isSlabView(chunks[0]!)).toBe(true);
    expect(isSlabView(Buffer.alloc(4))).toBe(false);
  });
});
