import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Client, Server, type ClientChannel, type ServerChannel } from 'ssh2';
import { generateSshKeyPair } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { FALLBACK_MAX_READ, SftpSession, SftpSessionError, SftpStatusReply } from '../src/SftpSession.js';

// SftpSession against a scripted SFTP peer: a real ssh2 server whose `sftp` subsystem is a test's
// function, so replies the test servers never send (malformed, oversized, split byte by byte) can be.

interface Request {
  readonly type: number;
  readonly id: number;
  readonly body: Buffer;
}

/** What a script sees: the requests as they arrive, a way to answer, and the raw data events. */
interface Peer {
  readonly requests: Request[];
  /** Each 'data' event of the channel, as the bytes arrived (to see how requests were packed). */
  readonly events: Buffer[];
  next(): Promise<Request>;
  write(bytes: Buffer): void;
  close(): void;
}

const KiB = 1024;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function packet(type: number, ...fields: Buffer[]): Buffer {
  const body = Buffer.concat(fields);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length + 1, 0);
  head[4] = type;
  return Buffer.concat([head, body]);
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}
function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n), 0);
  return b;
}
function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([u32(b.length), b]);
}
const version = (extensions: Array<[string, string]> = []): Buffer =>
  packet(2, u32(3), ...extensions.flatMap(([k, v]) => [str(k), str(v)]));
const status = (id: number, code: number, message = ''): Buffer => packet(101, u32(id), u32(code), str(message), str(''));
const data = (id: number, bytes: Buffer): Buffer => packet(103, u32(id), str(bytes));

/** Starts an SSH server whose sftp subsystem runs `script`, and a session connected to it. */
async function scripted(script: (peer: Peer) => Promise<void> | void): Promise<{ session: SftpSession; done: Promise<void> }> {
  const hostKey = generateSshKeyPair('ed25519');
  let finished!: Promise<void>;
  let startedResolve!: () => void;
  const started = new Promise<void>((resolve) => (startedResolve = resolve));
  const server = new Server({ hostKeys: [hostKey.privateKey] }, (conn) => {
    conn.on('error', () => undefined);
    conn.on('authentication', (ctx) => ctx.accept());
    conn.on('session', (accept) => {
      accept().on('subsystem', (acceptSubsystem) => {
        const channel: ServerChannel = acceptSubsystem();
        const peer = makePeer(channel);
        finished = Promise.resolve(script(peer));
        startedResolve();
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const client = new Client();
  client.on('error', () => undefined);
  cleanups.push(() => void client.end());
  client.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, username: 'u', password: 'p', hostVerifier: () => true });
  await once(client, 'ready');
  const channel = await new Promise<ClientChannel>((resolve, reject) => client.subsys('sftp', (err, ch) => (err ? reject(err) : resolve(ch))));
  const session = SftpSession.start(channel);
  await started;
  return { session: await session, done: finished };
}

function makePeer(channel: ServerChannel): Peer {
  const requests: Request[] = [];
  const events: Buffer[] = [];
  const waiting: Array<(r: Request) => void> = [];
  let pending = Buffer.alloc(0);
  let read = 0;
  channel.on('data', (chunk: Buffer) => {
    events.push(Buffer.from(chunk));
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
      const length = pending.readUInt32BE(0);
      const type = pending[4]!;
      const request = { type, id: type === 1 ? 0 : pending.readUInt32BE(5), body: pending.subarray(type === 1 ? 5 : 9, 4 + length) };
      pending = pending.subarray(4 + length);
      requests.push(request);
    }
    while (waiting.length > 0 && read < requests.length) waiting.shift()!(requests[read++]!);
  });
  return {
    requests,
    events,
    next: () =>
      read < requests.length ? Promise.resolve(requests[read++]!) : new Promise<Request>((resolve) => waiting.push(resolve)),
    write: (bytes) => void channel.write(bytes),
    close: () => void channel.close(),
  };
}

describe('SftpSession', () => {
  it('starts with INIT version 3 and, without limits@openssh.com, uses the safe read size', async () => {
    const { session } = await scripted(async (peer) => {
      const init = await peer.next();
      expect(init.type).toBe(1);
      expect(init.body.readUInt32BE(0)).toBe(3);
      peer.write(version([['other@example.com', '1']]));
    });
    expect(session.server.version).toBe(3);
    expect(session.server.extensions.get('other@example.com')).toBe('1');
    expect(session.server.maxReadLen).toBe(FALLBACK_MAX_READ);
  });

  it("asks for the server's limits when it offers limits@openssh.com and reads up to them", async () => {
    const { session } = await scripted(async (peer) => {
      await peer.next();
      peer.write(version([['limits@openssh.com', '1']]));
      const ext = await peer.next();
      expect(ext.type).toBe(200);
      expect(ext.body.subarray(4).toString()).toBe('limits@openssh.com');
      peer.write(packet(201, u32(ext.id), u64(256 * KiB), u64(255 * KiB), u64(255 * KiB), u64(1024)));
    });
    expect(session.server.maxReadLen).toBe(255 * KiB);
  });

  it('hands a READ answer on as the bytes sent, even when they arrive one byte per packet, and [] at EOF', async () => {
    const content = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 251));
    const { session } = await scripted(async (peer) => {
      await peer.next();
      peer.write(version());
      const first = await peer.next();
      // Header and data dribbled in one byte per channel packet: the parser must put it together.
      for (const byte of data(first.id, content.subarray(0, 1000))) peer.write(Buffer.from([byte]));
      const second = await peer.next();
      peer.write(Buffer.concat([data(second.id, content.subarray(1000)), status((await peer.next()).id, 1, 'EOF')]));
    });
    const handle = Buffer.from('h1');
    const a = await session.read(handle, 0, 1000);
    const b = session.read(handle, 1000, 4000); // a short answer: 2000 of 4000
    const eof = session.read(handle, 3000, 10);
    expect(Buffer.concat(a)).toEqual(content.subarray(0, 1000));
    expect(Buffer.concat(await b)).toEqual(content.subarray(1000));
    expect(await eof).toEqual([]);
  });

  it('sends the requests of one tick as one SSH packet', async () => {
    const { session, done } = await scripted(async (peer) => {
      await peer.next();
      peer.write(version());
      const reads = [await peer.next(), await peer.next(), await peer.next()];
      // INIT, then the three READs together in one channel data message.
      expect(peer.events).toHaveLength(2);
      peer.write(Buffer.concat(reads.map((r) => data(r.id, Buffer.alloc(10, r.id)))));
    });
    const answers = await Promise.all([0, 1, 2].map((i) => session.read(Buffer.from('h'), i * 10, 10)));
    expect(answers.map((a) => Buffer.concat(a).length)).toEqual([10, 10, 10]);
    await done;
  });

  it('turns a status into SftpStatusReply with the code and message', async () => {
    const { session } = await scripted(async (peer) => {
      await peer.next();
      peer.write(version());
      const open = await peer.next();
      expect(open.type).toBe(3);
      expect(open.body.subarray(4, 4 + open.body.readUInt32BE(0)).toString()).toBe('/no/such');
      peer.write(status(open.id, 2, 'No such file'));
    });
    const err = await session.open('/no/such').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SftpStatusReply);
    expect((err as SftpStatusReply).code).toBe(2);
    expect((err as Error).message).toBe('No such file');
  });

  it('parses ATTRS (size, permissions, times, extended pairs)', async () => {
    const { session } = await scripted(async (peer) => {
      await peer.next();
      peer.write(version());
      const stat = await peer.next();
      expect(stat.type).toBe(17);
      const flags = (0x1 | 0x2 | 0x4 | 0x8 | 0x80000000) >>> 0;
      peer.write(
        packet(105, u32(stat.id), u32(flags), u64(2 ** 40 + 5), u32(1000), u32(1000), u32(0o100644), u32(1), u32(1_700_000_000), u32(1), str('k'), str('v')),
      );
      const dir = await peer.next();
      peer.write(packet(105, u32(dir.id), u32(0x4), u32(0o040755)));
    });
    const st = await session.stat('/f');
    expect(st.size).toBe(2 ** 40 + 5);
    expect(st.mtime).toBe(1_700_000_000);
    expect(st.isFile()).toBe(true);
    const dir = await session.stat('/d');
    expect(dir.isDirectory()).toBe(true);
    expect(dir.isFile()).toBe(false);
  });

  it('fails the session on DATA longer than the READ asked for, and every request pending on it', async () => {
    const { session } = await scripted(async (peer) => {
      await peer.next();
      peer.write(version());
      const read = await peer.next();
      await peer.next(); // the stat, left unanswered
      peer.write(data(read.id, Buffer.alloc(20)));
    });
    const read = session.read(Buffer.from('h'), 0, 10).catch((e: unknown) => e);
    const stat = session.stat('/f').catch((e: unknown) => e);
    expect(await read).toBeInstanceOf(SftpSessionError);
    expect(String(await read)).toMatch(/read of 10 bytes .* \(20 bytes\)/);
    expect(await stat).toBe(await read);
    expect(session.closed).toBe(await read);
    await expect(session.fstat(Buffer.from('h'))).rejects.toBe(await read);
  });

  it('fails on a reply to a request that is not pending, and on an oversized reply', async () => {
    const first = await scripted(async (peer) => {
      await peer.next();
      peer.write(version());
      await peer.next();
      peer.write(status(999, 0));
    });
    await expect(first.session.stat('/f')).rejects.toThrow(/request 999, which is not pending/);
    const second = await scripted(async (peer) => {
      await peer.next();
      peer.write(version());
      await peer.next();
      const huge = Buffer.alloc(9);
      huge.writeUInt32BE(64 * 1024 * 1024, 0);
      huge[4] = 105;
      peer.write(huge);
    });
    await expect(second.session.stat('/f')).rejects.toThrow(/packet of 67108864 bytes/);
  });

  it('fails pending requests when the channel closes, and reports it to onClose listeners', async () => {
    const { session } = await scripted(async (peer) => {
      await peer.next();
      peer.write(version());
      await peer.next();
      peer.close();
    });
    const closed = new Promise<Error>((resolve) => session.onClose(resolve));
    await expect(session.read(Buffer.from('h'), 0, 10)).rejects.toBeInstanceOf(SftpSessionError);
    expect((await closed).message).toMatch(/closed/);
  });
});
