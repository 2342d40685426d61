import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alteredContent } from '../src/generatedContent.js';
import { generateContent, startFtpServer, type FtpTestServer } from '../src/index.js';
import { RawFtp, readToEnd, until } from './ftpHelpers.js';

const SPEC = { size: 400_000, seed: 51 };
const BYTES = generateContent(SPEC);

describe('FTP faults', () => {
  let server: FtpTestServer;
  const clients: RawFtp[] = [];
  beforeEach(async () => {
    server = await startFtpServer();
    server.addFile('/f.bin', SPEC);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server.close();
  });

  async function login(): Promise<RawFtp> {
    const { client } = await RawFtp.connect(server.port);
    clients.push(client);
    expect((await client.login()).code).toBe(230);
    return client;
  }

  async function feat(c: RawFtp): Promise<string[]> {
    return (await c.send('FEAT')).lines.slice(1, -1).map((l) => l.trim());
  }

  describe('server-wide', () => {
    it("refuseRest 'all': REST is not implemented and FEAT does not list it", async () => {
      server.setFaults({ refuseRest: 'all' });
      const c = await login();
      expect(await feat(c)).not.toContain('REST STREAM');
      expect((await c.send('REST 0')).code).toBe(502);
      expect((await c.send('REST 10')).code).toBe(502);
    });

    it("refuseRest 'nonzero': FEAT promises REST STREAM, REST 0 works, any other offset gets 504", async () => {
      server.setFaults({ refuseRest: 'nonzero' });
      const c = await login();
      expect(await feat(c)).toContain('REST STREAM');
      expect((await c.send('REST 0')).code).toBe(350);
      expect((await c.send('REST 10')).code).toBe(504);
    });

    it('ignoreRest: REST is accepted with 350, and RETR sends the whole file from byte 0 anyway', async () => {
      server.setFaults({ ignoreRest: true });
      const c = await login();
      expect(await feat(c)).toContain('REST STREAM');
      const got = await c.retr('f.bin', { offset: SPEC.size - 1 });
      expect(got.replies.map((r) => r.code)).toEqual([350, 150, 226]);
      expect(got.data.equals(BYTES)).toBe(true);
    });

    it('noSize and noMdtm: 502, and FEAT does not list them', async () => {
      server.setFaults({ noSize: true, noMdtm: true });
      const c = await login();
      const features = await feat(c);
      expect(features).not.toContain('SIZE');
      expect(features).not.toContain('MDTM');
      expect((await c.send('SIZE f.bin')).code).toBe(502);
      expect((await c.send('MDTM f.bin')).code).toBe(502);
      expect((await c.retr('f.bin')).data.equals(BYTES)).toBe(true);
    });

    it('refuseEpsv: 502, and PASV still works', async () => {
      server.setFaults({ refuseEpsv: true });
      const c = await login();
      expect((await c.send('EPSV')).code).toBe(502);
      expect((await c.retr('f.bin', { pasv: true })).data.equals(BYTES)).toBe(true);
    });

    it('pasvAddress: the PASV reply names another host, while the listener stays on the real one', async () => {
      server.setFaults({ pasvAddress: '10.9.8.7' });
      const c = await login();
      const reply = await c.send('PASV');
      const m = /\(10,9,8,7,(\d+),(\d+)\)/.exec(reply.lines[0] ?? '');
      expect(m).not.toBeNull();
      const port = Number(m?.[1]) * 256 + Number(m?.[2]);
      const data = net.connect({ port, host: '127.0.0.1' });
      await new Promise<void>((resolve) => data.once('connect', () => resolve()));
      const body = readToEnd(data);
      expect((await c.send('RETR f.bin')).code).toBe(150);
      expect((await c.next()).code).toBe(226);
      expect((await body).equals(BYTES)).toBe(true);
      expect(() => server.setFaults({ pasvAddress: 'not-an-ip' })).toThrow(RangeError);
    });

    it('maxConnections: 421 above N open control connections, room again once one leaves', async () => {
      server.setFaults({ maxConnections: 2 });
      const a = await login();
      await login();
      const third = await RawFtp.connect(server.port);
      clients.push(third.client);
      expect(third.greeting.code).toBe(421);
      await until(() => third.client.closed);
      a.close();
      await until(() => server.openConnections() === 1);
      const fourth = await RawFtp.connect(server.port);
      clients.push(fourth.client);
      expect(fourth.greeting.code).toBe(220);
      expect(server.connectionsOpened()).toBe(4);
    });

    it('refuseAuthTls: 534 on a TLS-capable server', async () => {
      const secure = await startFtpServer({ tls: 'explicit', faults: { refuseAuthTls: true } });
      try {
        const { client } = await RawFtp.connect(secure.port);
        expect((await client.send('AUTH TLS')).code).toBe(534);
        expect((await client.login()).code).toBe(230);
        client.close();
      } finally {
        await secure.close();
      }
    });
  });

  describe('per file', () => {
    it('throttleBytesPerSec paces a transfer without changing it', async () => {
      server.setFileFaults('/f.bin', { throttleBytesPerSec: 4_000_000 });
      const c = await login();
      expect((await c.retr('f.bin')).data.equals(BYTES)).toBe(true);
      expect(server.transfers()[0]?.faults).toEqual(['throttleBytesPerSec']);
    });

    it('dropAfterBytes closes the data connection after exactly N bytes and answers 426, for the first dropTimes transfers', async () => {
      server.setFileFaults('/f.bin', { dropAfterBytes: 100_000, dropTimes: 2 });
      const c = await login();
      for (let i = 0; i < 2; i++) {
        const cut = await c.retr('f.bin', { offset: 1000 });
        expect(cut.replies.map((r) => r.code)).toEqual([350, 150, 426]);
        expect(cut.data.equals(BYTES.subarray(1000, 101_000))).toBe(true);
      }
      const whole = await c.retr('f.bin');
      expect(whole.replies.map((r) => r.code)).toEqual([150, 226]);
      expect(server.transfers().map((t) => t.outcome)).toEqual(['dropped', 'dropped', 'complete']);
      expect(server.transfers()[0]?.faults).toEqual(['dropAfterBytes']);
    });

    it('dropAfterBytes spares a transfer that is not longer than N', async () => {
      server.setFileFaults('/f.bin', { dropAfterBytes: 100_000 });
      const c = await login();
      const tail = await c.retr('f.bin', { offset: SPEC.size - 100_000 });
      expect(tail.replies.map((r) => r.code)).toEqual([350, 150, 226]);
    });

    it('stallAfterBytes sends N bytes then nothing, until the client gives up', async () => {
      server.setFileFaults('/f.bin', { stallAfterBytes: 5000 });
      const c = await login();
      const data = await c.openData();
      let received = 0;
      data.on('data', (chunk: Buffer) => (received += chunk.length));
      expect((await c.send('RETR f.bin')).code).toBe(150);
      await until(() => received === 5000);
      data.destroy();
      expect((await c.next()).code).toBe(426);
      expect(server.transfers()[0]).toMatchObject({ bytesSent: 5000, outcome: 'aborted', faults: ['stallAfterBytes'] });
      // stallTimes defaults to 1: the next transfer runs through.
      expect((await c.retr('f.bin')).data.equals(BYTES)).toBe(true);
    });

    it('failTimes refuses the first N RETRs with the given code', async () => {
      server.setFileFaults('/f.bin', { failTimes: { count: 2, code: 451 } });
      const c = await login();
      expect((await c.retr('f.bin')).replies.map((r) => r.code)).toEqual([451]);
      expect((await c.retr('f.bin')).replies.map((r) => r.code)).toEqual([451]);
      expect((await c.retr('f.bin')).data.equals(BYTES)).toBe(true);
      expect(() => server.setFileFaults('/f.bin', { failTimes: { count: 1, code: 226 } })).toThrow(RangeError);
    });

    it('replaceAfterRequests: the RETR after N gets new bytes and a later MDTM; one under way keeps the old', async () => {
      server.setFileFaults('/f.bin', { replaceAfterRequests: 1, throttleBytesPerSec: 1_000_000 });
      const a = await login();
      const b = await login();
      const mdtmBefore = (await a.send('MDTM f.bin')).lines[0];
      const first = a.retr('f.bin');
      await until(() => (server.transfers()[0]?.bytesSent ?? 0) > 0);
      const second = await b.retr('f.bin');
      expect((await first).data.equals(BYTES)).toBe(true);
      expect(second.data.equals(generateContent(alteredContent(SPEC) as typeof SPEC))).toBe(true);
      expect((await b.send('MDTM f.bin')).lines[0]).not.toBe(mdtmBefore);
      expect(server.transfers()[1]?.faults).toContain('replaceAfterRequests');
      expect(server.fileContent('/f.bin')).toEqual(alteredContent(SPEC));
    });

    it('setFileFaults restarts the counters, and refuses bad values', async () => {
      server.setFileFaults('/f.bin', { dropAfterBytes: 1000, dropTimes: 1 });
      const c = await login();
      expect((await c.retr('f.bin')).replies.at(-1)?.code).toBe(426);
      expect((await c.retr('f.bin')).replies.at(-1)?.code).toBe(226);
      server.setFileFaults('/f.bin', { dropAfterBytes: 1000, dropTimes: 1 });
      expect((await c.retr('f.bin')).replies.at(-1)?.code).toBe(426);
      expect(() => server.setFileFaults('/f.bin', { dropAfterBytes: -1 })).toThrow(RangeError);
      expect(() => server.setFileFaults('/f.bin', { throttleBytesPerSec: 0 })).toThrow(RangeError);
    });
  });
});
