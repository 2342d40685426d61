// `checksum: 'auto'` over SFTP: checksum files beside the URL, fetched through the SFTP plugin with
// the download's login and host key check, each file form, none found, a mismatch.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget, type DownloadResult } from '@multiget/core';
import { startSftpServer, type SftpTestServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SftpPlugin } from '../src/index.js';
import { tempHome, type TempHome } from './helpers.js';

const PASSWORD = 's3cr3t-pw';
let server: SftpTestServer;
let home: TempHome;
let dir: string;
let mg: Multiget;
let counter = 0;

beforeAll(async () => {
  server = await startSftpServer({ users: [{ username: 'alice', password: PASSWORD }] });
  home = await tempHome();
  await home.knownHosts(server.knownHostsLine());
});
afterAll(async () => {
  await server.close();
  await home.dispose();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-sftp-sums-'));
  mg = new Multiget({ plugins: [new SftpPlugin({ home: home.path, agent: false, useEnvProxy: false })] });
});
afterEach(async () => {
  await mg.close();
  await rm(dir, { recursive: true, force: true });
});

const sha = (algorithm: string, data: Buffer): string => createHash(algorithm).update(data).digest('hex');

/** A fresh folder with a file named `name` whose bytes are unique to it. */
function folder(name = 'file.bin'): { data: Buffer; url: string; put: (file: string, text: string) => void } {
  const base = `/data/d${++counter}/`;
  const data = Buffer.from(`content of folder ${counter}\n`.repeat(500));
  server.addFile(base + name, data);
  return { data, url: server.url(base + name, 'alice', PASSWORD), put: (file, text) => server.addFile(base + file, Buffer.from(text)) };
}

async function get(url: string): Promise<{ result: DownloadResult; warnings: string[] }> {
  const dl = mg.download(url, { dir, checksum: 'auto' });
  const warnings: string[] = [];
  dl.on('warning', (w) => warnings.push(w.code));
  return { result: await dl.done, warnings };
}

/** The URL of `file` beside `url`, without credentials (as results report it). */
function beside(url: string, file: string): string {
  const u = new URL(file, url);
  u.username = '';
  u.password = '';
  return u.href;
}

describe("checksum: 'auto' over SFTP", () => {
  it.each([
    ['NAME.sha256sum in GNU text mode', 'file.bin.sha256sum', (d: Buffer) => `${sha('sha256', d)}  file.bin\n`, 'sha256'],
    ['NAME.sha512 with a bare hash', 'file.bin.sha512', (d: Buffer) => `${sha('sha512', d)}\n`, 'sha512'],
    ['SHA256SUMS in binary mode', 'SHA256SUMS', (d: Buffer) => `${sha('sha256', d)} *file.bin\n`, 'sha256'],
  ])('verifies against %s, fetched with the same login', async (_label, file, text, algorithm) => {
    const f = folder();
    f.put(file, text(f.data));
    const { result, warnings } = await get(f.url);
    expect(result.verified).toBe(true);
    expect(result.checksum).toEqual({ algorithm, source: beside(f.url, file) });
    expect(result.checksum?.source).not.toContain(PASSWORD);
    expect(warnings).toEqual([]);
    expect(sha('sha256', await readFile(result.file))).toBe(sha('sha256', f.data));
  });

  it('finds a name with spaces and unicode in a SHA256SUMS of many entries', async () => {
    const f = folder('mé file 1.bin');
    const others = Array.from({ length: 2000 }, (_, i) => `${sha('sha256', Buffer.from(String(i)))}  mé file ${i + 2}.bin`);
    f.put('SHA256SUMS', [...others.slice(0, 1000), `${sha('sha256', f.data)}  mé file 1.bin`, ...others.slice(1000)].join('\n'));
    const { result } = await get(f.url);
    expect(result.checksum?.source).toMatch(/\/SHA256SUMS$/);
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
    f.put('SHA512SUMS', `${'0'.repeat(128)}  file.bin\n`);
    await expect(get(f.url)).rejects.toMatchObject({ code: 'MG_ERR_CHECKSUM_MISMATCH' });
    expect(await readdir(dir)).toEqual([]);
  });
});
