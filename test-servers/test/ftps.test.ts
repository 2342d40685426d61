import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateContent, startFtpServer, type FtpTestServer } from '../src/index.js';
import { RawFtp } from './ftpHelpers.js';

const SPEC = { size: 300_000, seed: 61 };
const BYTES = generateContent(SPEC);

describe('FTPS', () => {
  let explicit: FtpTestServer;
  let implicit: FtpTestServer;
  let plain: FtpTestServer;
  beforeAll(async () => {
    [explicit, implicit, plain] = await Promise.all([
      startFtpServer({ tls: 'explicit' }),
      startFtpServer({ tls: 'implicit' }),
      startFtpServer(),
    ]);
    for (const s of [explicit, implicit, plain]) s.addFile('/f.bin', SPEC);
  });
  afterAll(async () => {
    await Promise.all([explicit.close(), implicit.close(), plain.close()]);
  });

  it('explicit: AUTH TLS upgrades the control connection, PROT P protects the data', async () => {
    expect(explicit.origin).toMatch(/^ftp:/);
    expect(explicit.ca).toContain('BEGIN CERTIFICATE');
    const { client } = await RawFtp.connect(explicit.port);
    try {
      const features = (await client.send('FEAT')).lines.map((l) => l.trim());
      expect(features).toEqual(expect.arrayContaining(['AUTH TLS', 'PBSZ', 'PROT']));
      expect((await client.send('PBSZ 0')).code).toBe(503);
      expect((await client.secure({ ca: explicit.ca! })).code).toBe(234);
      expect((await client.login()).code).toBe(230);
      expect((await client.send('PBSZ 0')).code).toBe(200);
      expect((await client.send('PROT P')).code).toBe(200);
      const got = await client.retr('f.bin', { tls: { ca: explicit.ca! } });
      expect(got.replies.map((r) => r.code)).toEqual([150, 226]);
      expect(got.data.equals(BYTES)).toBe(true);
      expect((await client.send('PROT C')).code).toBe(200);
      expect((await client.retr('f.bin', { offset: 5 })).data.equals(BYTES.subarray(5))).toBe(true);
      expect((await client.send('AUTH TLS')).code).toBe(503);
    } finally {
      client.close();
    }
    const log = explicit.commands();
    expect(log.find((r) => r.command === 'USER')?.tls).toBe(true);
    expect(explicit.transfers().map((t) => t.tls)).toEqual([true, false]);
  });

  it('never runs commands pipelined in clear text behind AUTH TLS', async () => {
    explicit.resetLog();
    const { client } = await RawFtp.connect(explicit.port);
    try {
      client.writeRaw('AUTH TLS\r\nUSER injected\r\n');
      expect((await client.next()).code).toBe(234);
      await client.secure({ ca: explicit.ca! }).catch(() => undefined);
    } finally {
      client.close();
    }
    expect(explicit.commands().map((r) => r.command)).toEqual(['AUTH']);
  });

  it('implicit: TLS from the first byte, and the certificate verifies for 127.0.0.1', async () => {
    expect(implicit.origin).toBe(`ftps://127.0.0.1:${implicit.port}`);
    const { client, greeting } = await RawFtp.connect(implicit.port, { implicit: { ca: implicit.ca! } });
    try {
      expect(greeting.code).toBe(220);
      expect((await client.send('AUTH TLS')).code).toBe(503);
      await client.login();
      await client.send('PBSZ 0');
      await client.send('PROT P');
      expect((await client.retr('f.bin', { tls: { ca: implicit.ca! } })).data.equals(BYTES)).toBe(true);
    } finally {
      client.close();
    }
    expect(implicit.commands().every((r) => r.tls)).toBe(true);
  });

  it('a server without TLS answers AUTH TLS with 502', async () => {
    const { client } = await RawFtp.connect(plain.port);
    try {
      expect((await client.send('AUTH TLS')).code).toBe(502);
      expect((await client.send('PROT P')).code).toBe(503);
    } finally {
      client.close();
    }
  });
});
