import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFtpServer, type FtpTestServer } from '../src/index.js';
import { RawFtp, readToEnd } from './ftpHelpers.js';

describe('FTP server listings', () => {
  let server: FtpTestServer;
  let client: RawFtp;
  beforeEach(async () => {
    server = await startFtpServer();
    server.addFile('/pub/f.bin', Buffer.from('12345'), { mtime: new Date(Date.UTC(2024, 1, 29, 12, 34, 56)) });
    server.addFile('/pub/sub dir/g.bin', Buffer.from('x'));
    ({ client } = await RawFtp.connect(server.port));
    await client.login();
  });
  afterEach(async () => {
    client.close();
    await server.close();
  });

  async function list(command: string): Promise<{ codes: number[]; lines: string[] }> {
    const data = await client.openData();
    const text = readToEnd(data);
    const first = await client.send(command);
    if (first.code !== 150) {
      data.destroy();
      return { codes: [first.code], lines: [] };
    }
    const lines = (await text).toString('utf8').split('\r\n').filter((l) => l !== '');
    return { codes: [first.code, (await client.next()).code], lines };
  }

  it('answers MLSD with RFC 3659 facts, and FEAT lists MLST', async () => {
    expect((await client.send('FEAT')).lines.join('\n')).toMatch(/MLST type\*;size\*;modify\*;/);
    expect(await list('MLSD pub')).toEqual({
      codes: [150, 226],
      lines: ['type=file;size=5;modify=20240229123456; f.bin', expect.stringMatching(/^type=dir;size=0;modify=\d{14}; sub dir$/)],
    });
  });

  it('answers LIST (with ls options) in ls -l form, and 550 for a missing folder', async () => {
    const { codes, lines } = await list('LIST -a /pub');
    expect(codes).toEqual([150, 226]);
    expect(lines[0]).toMatch(/^-rw-r--r-- .* 5 Jan 01 00:00 f\.bin$/);
    expect(lines[1]).toMatch(/^drw-r--r-- .* sub dir$/);
    expect((await list('LIST /none')).codes).toEqual([550]);
  });

  it('endlessListings sends generated lines after the real ones until the client closes, then 426', async () => {
    server.setFaults({ endlessListings: ['/pub'] });
    const data = await client.openData();
    expect((await client.send('LIST /pub')).code).toBe(150);
    let text = '';
    // Bounded: a megabyte of a listing that would never end.
    for await (const chunk of data) {
      text += (chunk as Buffer).toString('latin1');
      if (text.length >= 1024 * 1024) break;
    }
    data.destroy();
    expect((await client.next()).code).toBe(426);
    const lines = text.split('\r\n');
    expect(lines[0]).toMatch(/ f\.bin$/);
    expect(lines[1]).toMatch(/ sub dir$/);
    expect(lines[2]).toMatch(/^-rw-r--r-- .* 1 Jan 01 00:00 endless-0\.bin$/);
    expect(lines.filter((l) => /endless-\d+\.bin$/.test(l)).length).toBeGreaterThan(10_000);
  });

  it('noMlsd refuses MLSD and leaves MLST out of FEAT; extraListLines are added as given', async () => {
    server.setFaults({ noMlsd: true, extraListLines: { '/pub': ['prw-r--r-- 1 ftp ftp 0 Jan 01 00:00 fifo'] } });
    expect((await client.send('FEAT')).lines.join('\n')).not.toMatch(/MLST/);
    expect((await list('MLSD pub')).codes).toEqual([502]);
    expect((await list('LIST pub')).lines.at(-1)).toBe('prw-r--r-- 1 ftp ftp 0 Jan 01 00:00 fifo');
  });
});
