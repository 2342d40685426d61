// `checksum: 'auto'` over FTP: checksum files beside the URL, fetched through the FTP plugin with the
// download's login, each file form, none found, a mismatch.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget, type DownloadResult } from '@multiget/core';
import { startFtpServer, type FtpTestServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FtpPlugin } from '../src/index.js';

const LOGIN = { username: 'alice', password: 'wonder-land-7' };
let server: FtpTestServer;
let dir: string;
let mg: Multiget;
let counter = 0;

beforeAll(async () => {
  server = await startFtpServer({ users: { alice: LOGIN.password }, anonymous: false });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-ftp-sums-'));
  mg = new Multiget({ plugins: [new FtpPlugin({ useEnvProxy: false })] });
});
afterEach(async () => {
  await mg.close();
  await rm(dir, { recursive: true, force: true });
});

const sha = (algorithm: string, data: Buffer): string => createHash(algorithm).update(data).digest('hex');

/** A fresh folder with a file named `name` whose bytes are unique to it. */
function folder(name = 'file.bin'): { data: Buffer; url: string; put: (file: string, text: string) => void } {
  const base = `/d${++counter}/`;
  const data = Buffer.from(`content of folder ${counter}\n`.repeat(500));
  server.addFile(base + name, data);
  return { data, url: server.url(base + name), put: (file, text) => server.addFile(base + file, Buffer.from(text)) };
}

async function get(url: string): Promise<{ result: DownloadResult; warnings: string[] }> {
  const dl = mg.download(url, { dir, checksum: 'auto', credentials: LOGIN });
  const warnings: string[] = [];
  dl.on('warning', (w) => warnings.push(w.code));
  return { result: await dl.done, warnings };
}

describe("checksum: 'auto' over FTP", () => {
  it.each([
    ['NAME.sha256 with a bare hash', 'file.bin.sha256', (d: Buffer) => `${sha('sha256', d)}\n`, 'sha256'],
    ['NAME.sha512sum in GNU form', 'file.bin.sha512sum', (d: Buffer) => `${sha('sha512', d)}  file.bin\n`, 'sha512'],
    ['SHA256SUMS in BSD form', 'SHA256SUMS', (d: Buffer) => `SHA256 (file.bin) = ${sha('sha256', d)}\n`, 'sha256'],
  ])('verifies against %s, fetched with the same login', async (_label, file, text, algorithm) => {
    const f = folder();
    f.put(file, text(f.data));
    const { result, warnings } = await get(f.url);
    expect(result.verified).toBe(true);
    expect(result.checksum).toEqual({ algorithm, source: new URL(file, f.url).href });
    expect(warnings).toEqual([]);
    expect(sha('sha256', await readFile(result.file))).toBe(sha('sha256', f.data));
    expect(server.commands().some((c) => c.command === 'RETR' && c.argument.endsWith(file))).toBe(true);
  });

  it('finds a name with spaces in a SHA512SUMS of many entries', async () => {
    const f = folder('my file 1.bin');
    const others = Array.from({ length: 2000 }, (_, i) => `${sha('sha512', Buffer.from(String(i)))}  my file ${i + 2}.bin`);
    f.put('SHA512SUMS', [...others.slice(0, 1000), `${sha('sha512', f.data)}  my file 1.bin`, ...others.slice(1000)].join('\n'));
    const { result } = await get(f.url);
    expect(result.checksum?.source).toMatch(/\/SHA512SUMS$/);
    expect(result.verified).toBe(true);
  });

  it('goes on unverified and says so when no checksum file is there', async () => {
    const f = folder();
    const { result, warnings } = await get(f.url);
    expect(result.verified).toBe(false);
    expect(warnings).toEqual(['MG_WARN_NO_CHECKSUM_FILE']);
  });

  it('fails a mismatch with MG_ERR_CHECKSUM_MISMATCH and keeps nothing', async () => {
    const f = folder();
    f.put('file.bin.sha256', `${'0'.repeat(64)}  file.bin\n`);
    await expect(get(f.url)).rejects.toMatchObject({ code: 'MG_ERR_CHECKSUM_MISMATCH' });
    expect(await readdir(dir)).toEqual([]);
  });
});
