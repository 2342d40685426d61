import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateContent, startFtpServer, type FtpTestServer } from '../src/index.js';
import { RawFtp, readToEnd, until } from './ftpHelpers.js';

const SPEC = { size: 700_000, seed: 41 };
const BYTES = generateContent(SPEC);

describe('FTP server basics', () => {
  let server: FtpTestServer;
  const clients: RawFtp[] = [];
  beforeEach(async () => {
    server = await startFtpServer({ users: { alice: 'in wonderland' } });
    server.addFile('/pub/f.bin', SPEC, { mtime: new Date(Date.UTC(2024, 1, 29, 12, 34, 56)) });
    server.addFile('/top.txt', Buffer.from('hello\n'));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server.close();
  });

  async function connect(): Promise<RawFtp> {
    const { client, greeting } = await RawFtp.connect(server.port);
    expect(greeting.code).toBe(220);
    clients.push(client);
    return client;
  }

  it('listens on 127.0.0.1 port 0 and builds URLs, with percent-encoded credentials', () => {
    expect(server.origin).toBe(`ftp://127.0.0.1:${server.port}`);
    expect(server.url('/pub/f.bin')).toBe(`ftp://127.0.0.1:${server.port}/pub/f.bin`);
    expect(server.url('/a b', { username: 'u@x', password: 'p:w' })).toBe(`ftp://u%40x:p%3Aw@127.0.0.1:${server.port}/a%20b`);
    expect(server.ca).toBeUndefined();
  });

  it('logs in anonymously and with a configured user; refuses a wrong password and commands before login', async () => {
    const c = await connect();
    expect((await c.send('SIZE pub/f.bin')).code).toBe(530);
    expect((await c.login('alice', 'wrong')).code).toBe(530);
    expect((await c.login('alice', 'in wonderland')).code).toBe(230);
    const d = await connect();
    expect((await d.login('anonymous', 'me@example.org')).code).toBe(230);
    const e = await connect();
    expect((await e.login('ftp', '')).code).toBe(230);
  });

  it('refuses anonymous logins when asked to', async () => {
    const closed = await startFtpServer({ anonymous: false });
    try {
      const { client } = await RawFtp.connect(closed.port);
      expect((await client.login()).code).toBe(530);
      client.close();
    } finally {
      await closed.close();
    }
  });

  it('answers FEAT, SYST, TYPE, OPTS UTF8, PWD, CWD and CDUP', async () => {
    const c = await connect();
    await c.login();
    const feat = await c.send('FEAT');
    expect(feat.code).toBe(211);
    expect(feat.lines.slice(1, -1).map((l) => l.trim())).toEqual(['EPSV', 'PASV', 'SIZE', 'MDTM', 'REST STREAM', 'MLST type*;size*;modify*;', 'UTF8']);
    expect((await c.send('SYST')).lines[0]).toBe('215 UNIX Type: L8');
    expect((await c.send('TYPE I')).code).toBe(200);
    expect((await c.send('TYPE X')).code).toBe(504);
    expect((await c.send('OPTS UTF8 ON')).code).toBe(200);
    expect((await c.send('PWD')).lines[0]).toBe('257 "/" is the current directory');
    expect((await c.send('CWD nowhere')).code).toBe(550);
    expect((await c.send('CWD pub')).code).toBe(250);
    expect((await c.send('PWD')).lines[0]).toBe('257 "/pub" is the current directory');
    expect((await c.send('SIZE f.bin')).lines[0]).toBe(`213 ${SPEC.size}`);
    expect((await c.send('CDUP')).code).toBe(250);
    expect((await c.send('NOOP')).code).toBe(200);
    expect((await c.send('SITE CHMOD 777 x')).code).toBe(502);
  });

  it('answers SIZE and MDTM (UTC, whole seconds), and 550 for what is not a file', async () => {
    const c = await connect();
    await c.login();
    expect((await c.send('SIZE /pub/f.bin')).lines[0]).toBe(`213 ${SPEC.size}`);
    expect((await c.send('MDTM pub/f.bin')).lines[0]).toBe('213 20240229123456');
    expect(server.fileMtime('/pub/f.bin').toISOString()).toBe('2024-02-29T12:34:56.000Z');
    expect((await c.send('SIZE pub')).code).toBe(550);
    expect((await c.send('MDTM missing')).code).toBe(550);
  });

  it('sends a whole file over EPSV and over PASV, then 226', async () => {
    const c = await connect();
    await c.login();
    const epsv = await c.retr('pub/f.bin');
    expect(epsv.replies.map((r) => r.code)).toEqual([150, 226]);
    expect(epsv.data.equals(BYTES)).toBe(true);
    const pasv = await c.retr('/top.txt', { pasv: true });
    expect(pasv.data.toString()).toBe('hello\n');
    expect(server.commands('PASV')[0]?.replies).toEqual([227]);
  });

  it('names its own IPv4 address in PASV replies', async () => {
    const c = await connect();
    await c.login();
    const reply = await c.send('PASV');
    expect(reply.lines[0]).toMatch(/^227 Entering Passive Mode \(127,0,0,1,\d+,\d+\)\.$/);
  });

  it('restarts at a REST offset, and refuses an offset beyond the end with 554', async () => {
    const c = await connect();
    await c.login();
    const got = await c.retr('pub/f.bin', { offset: 123_456 });
    expect(got.replies.map((r) => r.code)).toEqual([350, 150, 226]);
    expect(got.data.equals(BYTES.subarray(123_456))).toBe(true);
    const atEnd = await c.retr('pub/f.bin', { offset: SPEC.size });
    expect(atEnd.data.length).toBe(0);
    const beyond = await c.retr('pub/f.bin', { offset: SPEC.size + 1 });
    expect(beyond.replies.map((r) => r.code)).toEqual([350, 554]);
    expect((await c.send('REST -1')).code).toBe(501);
    expect(server.transfers('/pub/f.bin').map((t) => t.offset)).toEqual([123_456, SPEC.size]);
  });

  it('refuses RETR without a passive connection (425) and of a missing file (550)', async () => {
    const c = await connect();
    await c.login();
    expect((await c.send('RETR pub/f.bin')).code).toBe(425);
    expect((await c.retr('nope.bin')).replies.map((r) => r.code)).toEqual([550]);
  });

  it('answers ABOR during a transfer with 426 then 226, and 225 when idle', async () => {
    server.setFileFaults('/pub/f.bin', { throttleBytesPerSec: 100_000 });
    const c = await connect();
    await c.login();
    expect((await c.send('ABOR')).code).toBe(225);
    const data = await c.openData();
    const body = readToEnd(data);
    expect((await c.send('RETR pub/f.bin')).code).toBe(150);
    await until(() => (server.transfers()[0]?.bytesSent ?? 0) > 0);
    c.write('ABOR');
    expect((await c.next()).code).toBe(426);
    expect((await c.next()).code).toBe(226);
    expect((await body).length).toBeLessThan(SPEC.size);
    expect(server.transfers()[0]?.outcome).toBe('aborted');
    expect(server.commands('ABOR').map((r) => r.replies)).toEqual([[225], [226]]);
    expect((await c.send('NOOP')).code).toBe(200);
  });

  it('answers 426 when the client closes the data connection early, and stays usable', async () => {
    server.setFileFaults('/pub/f.bin', { throttleBytesPerSec: 100_000 });
    const c = await connect();
    await c.login();
    const data = await c.openData();
    expect((await c.send('RETR pub/f.bin')).code).toBe(150);
    await new Promise<void>((resolve) => data.once('data', () => resolve()));
    data.destroy();
    expect((await c.next()).code).toBe(426);
    expect(server.transfers()[0]?.outcome).toBe('aborted');
    expect((await c.send('SIZE top.txt')).lines[0]).toBe('213 6');
  });

  it('keeps later commands until a transfer ends, as real servers do', async () => {
    server.setFileFaults('/pub/f.bin', { throttleBytesPerSec: 2_000_000 });
    const c = await connect();
    await c.login();
    const data = await c.openData();
    const body = readToEnd(data);
    c.write('RETR pub/f.bin');
    c.write('SIZE top.txt');
    const codes = [(await c.next()).code, (await c.next()).code, (await c.next()).code];
    expect(codes).toEqual([150, 226, 213]);
    expect((await body).equals(BYTES)).toBe(true);
  });

  it('logs commands with their replies (PASS masked) and transfers with their outcome', async () => {
    const c = await connect();
    await c.login('alice', 'in wonderland');
    await c.retr('pub/f.bin', { offset: 10 });
    const log = server.commands();
    expect(log.map((r) => r.command)).toEqual(['USER', 'PASS', 'EPSV', 'REST', 'RETR']);
    expect(log[1]).toMatchObject({ argument: '****', replies: [230], connectionId: 1, tls: false });
    expect(log[4]?.replies).toEqual([150, 226]);
    expect(server.transfers()).toEqual([
      { connectionId: 1, path: '/pub/f.bin', offset: 10, bytesSent: SPEC.size - 10, tls: false, faults: [], outcome: 'complete' },
    ]);
    expect(JSON.stringify(log)).not.toContain('wonderland');
    server.resetLog();
    expect(server.commands()).toEqual([]);
    expect(server.transfers()).toEqual([]);
  });

  it('counts connections and simultaneous transfers', async () => {
    server.setFileFaults('/pub/f.bin', { throttleBytesPerSec: 1_000_000 });
    const a = await connect();
    const b = await connect();
    expect(server.connectionsOpened()).toBe(2);
    expect(server.openConnections()).toBe(2);
    await Promise.all([a.login(), b.login()]);
    await Promise.all([a.retr('pub/f.bin', { offset: 400_000 }), b.retr('pub/f.bin', { offset: 400_000 })]);
    expect(server.maxConcurrentTransfers('/pub/f.bin')).toBe(2);
    expect(server.maxConcurrentTransfers()).toBe(2);
    a.close();
    await until(() => server.openConnections() === 1);
  });

  it('replaces a file with new bytes and a later modification time', async () => {
    const before = server.fileMtime('/top.txt').getTime();
    server.replaceFile('/top.txt', Buffer.from('bye\n'));
    expect(server.fileMtime('/top.txt').getTime()).toBeGreaterThan(before);
    const c = await connect();
    await c.login();
    expect((await c.retr('top.txt')).data.toString()).toBe('bye\n');
  });

  it('refuses bad file paths and taken ones', () => {
    expect(() => server.addFile('relative', Buffer.alloc(1))).toThrow(/absolute/);
    expect(() => server.addFile('/top.txt', Buffer.alloc(1))).toThrow(/already served/);
    expect(() => server.addFile('/pub', Buffer.alloc(1))).toThrow(/already served/);
    expect(() => server.replaceFile('/none', Buffer.alloc(1))).toThrow(/not served/);
  });

  it('closes a connection whose command line never ends', async () => {
    const c = await connect();
    c.writeRaw('X'.repeat(20_000));
    expect((await c.next()).code).toBe(500);
    await until(() => c.closed);
  });

  it('close() ends stalled transfers, idle connections and passive listeners, and can be called twice', async () => {
    server.setFileFaults('/pub/f.bin', { stallAfterBytes: 1000 });
    const c = await connect();
    await c.login();
    const idle = await connect();
    await idle.login();
    const data = await c.openData();
    const body = readToEnd(data);
    expect((await c.send('RETR pub/f.bin')).code).toBe(150);
    await until(() => server.transfers()[0]?.bytesSent === 1000);
    const pending = await idle.send('EPSV');
    const port = Number(/\|\|\|(\d+)\|/.exec(pending.lines[0] ?? '')?.[1]);
    await Promise.all([server.close(), server.close()]);
    expect((await body).length).toBe(1000);
    await until(() => c.closed && idle.closed);
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });

  it('listens on ::1 when asked, with the host in brackets', async () => {
    let v6: FtpTestServer;
    try {
      v6 = await startFtpServer({ host: '::1' });
    } catch {
      return; // No IPv6 loopback on this machine: nothing to check.
    }
    try {
      expect(v6.origin).toBe(`ftp://[::1]:${v6.port}`);
      v6.addFile('/six', Buffer.from('six'));
      const { client } = await RawFtp.connect(v6.port, { host: '::1' });
      await client.login();
      expect((await client.send('PASV')).code).toBe(425);
      expect((await client.retr('six')).data.toString()).toBe('six');
      client.close();
    } finally {
      await v6.close();
    }
  });
});
