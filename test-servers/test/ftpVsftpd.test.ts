import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateContent, startVsftpd } from '../src/index.js';
import { RawFtp } from './ftpHelpers.js';

const SPEC = { size: 200_000, seed: 81 };

describe('startVsftpd', () => {
  it('runs vsftpd on a loopback port with the files, logs its protocol, and cleans up on close', async () => {
    const server = await startVsftpd({ files: { 'a.bin': SPEC, 'sub dir/b.txt': Buffer.from('bee\n') } });
    try {
      expect(server.origin).toBe(`ftp://127.0.0.1:${server.port}`);
      expect(server.url('sub dir/b.txt')).toBe(`${server.origin}/sub dir/b.txt`);
      expect((await readFile(join(server.root, 'a.bin'))).equals(generateContent(SPEC))).toBe(true);
      const { client, greeting } = await RawFtp.connect(server.port);
      expect(greeting.lines[0]).toMatch(/^220 .*vsFTPd/);
      expect((await client.login()).code).toBe(230);
      expect((await client.send('TYPE I')).code).toBe(200);
      expect((await client.send('SIZE a.bin')).lines[0]).toBe(`213 ${SPEC.size}`);
      const got = await client.retr('a.bin', { offset: 1000 });
      expect(got.replies.map((r) => r.code)).toEqual([350, 150, 226]);
      expect(got.data.equals(generateContent(SPEC, 1000))).toBe(true);
      client.close();
      expect(await server.log()).toContain('RETR a.bin');
    } finally {
      await server.close();
    }
    await expect(stat(server.root)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('serves explicit FTPS with a certificate generated for the run (data sessions resumed as vsftpd requires)', async () => {
    const server = await startVsftpd({ files: { 'a.bin': SPEC }, tls: 'explicit' });
    try {
      const { client } = await RawFtp.connect(server.port);
      // vsftpd forces TLS for anonymous logins in this configuration.
      expect((await client.secure({ ca: server.ca! })).code).toBe(234);
      expect((await client.login()).code).toBe(230);
      await client.send('PBSZ 0');
      expect((await client.send('PROT P')).code).toBe(200);
      await client.send('TYPE I');
      expect((await client.retr('a.bin', { tls: { ca: server.ca! } })).data.equals(generateContent(SPEC))).toBe(true);
      client.close();
    } finally {
      await server.close();
    }
  });

  it('serves implicit FTPS', async () => {
    const server = await startVsftpd({ files: { 'a.bin': SPEC }, tls: 'implicit' });
    try {
      expect(server.origin).toMatch(/^ftps:/);
      const { client, greeting } = await RawFtp.connect(server.port, { implicit: { ca: server.ca! } });
      expect(greeting.code).toBe(220);
      expect((await client.login()).code).toBe(230);
      client.close();
    } finally {
      await server.close();
    }
  });

  it('says how to install vsftpd when the binary is missing', async () => {
    await expect(startVsftpd({ binary: '/nonexistent/vsftpd' })).rejects.toThrow(/apt-get install vsftpd/);
  });

  it('reports what vsftpd printed when it cannot start', async () => {
    await expect(startVsftpd({ config: { no_such_option: 'YES' }, startTimeoutMs: 5000 })).rejects.toThrow(/unrecognised variable/);
  });
});
