// Mirrors through the executable: --same-file, tab-separated input lines, Metalink files and URLs,
// HTTP and FTP sources of one file. Real servers, every file checked by sha256.
import { createHash } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256, startFtpServer, startHttpServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, fileSha256 } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

const MiB = 1024 * 1024;

function bodyRequests(server: { requests(path?: string): Array<{ headers: Record<string, string> }> }, path: string): number {
  return server.requests(path).filter((r) => r.headers.range !== undefined && r.headers.range !== 'bytes=0-').length;
}

describe('mirrors from the command line', () => {
  it('--same-file reads one file from an HTTP and an FTP server at once', async () => {
    const content = { size: 6 * MiB, seed: 31 };
    const http = cleanup.server(await startHttpServer());
    const ftp = cleanup.server(await startFtpServer());
    http.addFile('/pub/same.bin', content, { faults: { throttleBytesPerSec: 3 * MiB } });
    ftp.addFile('/pub/same.bin', content);
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(['--same-file', '-c', '6', '--min-split-size', '256K', http.url('/pub/same.bin'), ftp.url('/pub/same.bin')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await fileSha256(join(dir, 'same.bin'))).toBe(sha256(content));
    expect(await readdir(dir)).toEqual(['same.bin']);
  });

  it('--same-file with one URL is a usage error', async () => {
    const r = await cleanup.run(['--same-file', 'http://127.0.0.1:1/a'], { cwd: await cleanup.tempDir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--same-file needs at least two URLs.*MG_ERR_INVALID_OPTION/);
  });

  it('reads tab-separated URLs of an input file as mirrors and leaves out one serving other bytes', async () => {
    const good = { size: 3 * MiB, seed: 32 };
    const a = cleanup.server(await startHttpServer());
    const b = cleanup.server(await startHttpServer());
    a.addFile('/f.bin', good);
    b.addFile('/f.bin', { size: 3 * MiB, seed: 33 });
    const dir = await cleanup.tempDir();
    await writeFile(join(dir, 'list.txt'), `${a.url('/f.bin')}\t${b.url('/f.bin')}\n  out=f.bin\n`);
    const r = await cleanup.run(['-i', 'list.txt', '-c', '4'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await fileSha256(join(dir, 'f.bin'))).toBe(sha256(good));
    expect(r.stderr).toMatch(/other bytes/);
    expect(bodyRequests(b, '/f.bin')).toBe(1); // the sample only
  });

  it('downloads the files of a Metalink URL from their mirrors, verified against its hashes', async () => {
    const content = Buffer.from(new Uint8Array(2 * MiB + 123).map((_, i) => (i * 31 + 7) & 0xff));
    const hex = createHash('sha256').update(content).digest('hex');
    const pieceLength = 256 * 1024;
    const pieces: string[] = [];
    for (let i = 0; i < content.length; i += pieceLength) {
      pieces.push(createHash('sha256').update(content.subarray(i, i + pieceLength)).digest('hex'));
    }
    const a = cleanup.server(await startHttpServer());
    const b = cleanup.server(await startHttpServer());
    a.addFile('/iso/disk.img', content);
    b.addFile('/mirror/disk.img', content);
    const meta4 = `<?xml version="1.0" encoding="UTF-8"?>
<metalink xmlns="urn:ietf:params:xml:ns:metalink">
  <file name="images/disk.img">
    <size>${content.length}</size>
    <hash type="sha-256">${hex}</hash>
    <pieces length="${pieceLength}" type="sha-256">${pieces.map((p) => `<hash>${p}</hash>`).join('')}</pieces>
    <url priority="1">${a.url('/iso/disk.img')}</url>
    <url priority="2">${b.url('/mirror/disk.img')}</url>
  </file>
</metalink>`;
    a.addFile('/disk.meta4', Buffer.from(meta4), { contentType: 'application/metalink4+xml' });
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(['--json', '-c', '4', '--min-split-size', '256K', a.url('/disk.meta4')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await fileSha256(join(dir, 'images', 'disk.img'))).toBe(hex);
    expect(await readdir(dir)).toEqual(['images']);
    const done = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; verified?: boolean }).find((e) => e.type === 'done');
    expect(done?.verified).toBe(true);
    expect(bodyRequests(b, '/mirror/disk.img')).toBeGreaterThan(0);
  });

  it('reads a local .meta4 file and refuses one that names a file outside the directory', async () => {
    const a = cleanup.server(await startHttpServer());
    a.addFile('/x.bin', { size: 1000, seed: 3 });
    const dir = await cleanup.tempDir();
    const evil = `<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="../escape.bin"><url>${a.url('/x.bin')}</url></file></metalink>`;
    await writeFile(join(dir, 'evil.meta4'), evil);
    const r = await cleanup.run(['evil.meta4'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unsafe file name "\.\.\/escape\.bin".*MG_ERR_INVALID_METALINK/);
    const good = `<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="x.bin"><size>1000</size><url>${a.url('/x.bin')}</url></file></metalink>`;
    await writeFile(join(dir, 'good.meta4'), good);
    const ok = await cleanup.run(['good.meta4'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(await fileSha256(join(dir, 'x.bin'))).toBe(sha256({ size: 1000, seed: 3 }));
  });
});
