// `checksum: 'auto'` over HTTP: checksum files beside the URL, fetched through the same plugin and
// credentials as the download, each file form, none found, a mismatch.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget, type DownloadResult } from '@multiget/core';
import { type HttpTestServer, startHttpServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';

const AUTH = { username: 'carol', password: 'pa ss:word' };
let server: HttpTestServer;
let dir: string;
let mg: Multiget;
let counter = 0;

beforeAll(async () => {
  server = await startHttpServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-http-sums-'));
  mg = new Multiget({ plugins: [new HttpPlugin({ useEnvProxy: false })] });
});
afterEach(async () => {
  await mg.close();
  await rm(dir, { recursive: true, force: true });
});

const sha = (algorithm: string, data: Buffer): string => createHash(algorithm).update(data).digest('hex');

/** A fresh folder with a file named `name` (spaces allowed) whose bytes are unique to it; every file behind Basic auth. */
function folder(name = 'file.bin'): { data: Buffer; url: string; put: (file: string, text: string) => void } {
  const base = `/d${++counter}/`;
  const data = Buffer.from(`content of folder ${counter}\n`.repeat(500));
  const auth = { auth: AUTH };
  server.addFile(base + encodeURIComponent(name), data, auth);
  return {
    data,
    url: server.url(base + encodeURIComponent(name)),
    put: (file, text) => server.addFile(base + encodeURIComponent(file), Buffer.from(text), auth),
  };
}

async function get(url: string): Promise<{ result: DownloadResult; warnings: string[] }> {
  const dl = mg.download(url, { dir, checksum: 'auto', credentials: AUTH });
  const warnings: string[] = [];
  dl.on('warning', (w) => warnings.push(w.code));
  return { result: await dl.done, warnings };
}

describe("checksum: 'auto' over HTTP", () => {
  it.each([
    ['NAME.sha256 with a bare hash', 'file.bin.sha256', (d: Buffer) => `${sha('sha256', d)}\n`, 'sha256'],
    ['NAME.sha256sum in binary mode', 'file.bin.sha256sum', (d: Buffer) => `${sha('sha256', d)} *file.bin\n`, 'sha256'],
    ['NAME.sha512 in BSD form', 'file.bin.sha512', (d: Buffer) => `SHA512 (file.bin) = ${sha('sha512', d)}\n`, 'sha512'],
    ['SHA512SUMS', 'SHA512SUMS', (d: Buffer) => `${sha('sha512', d)}  file.bin\n`, 'sha512'],
  ])('verifies against %s and says where the digest came from', async (_label, file, text, algorithm) => {
    const f = folder();
    f.put(file, text(f.data));
    const { result, warnings } = await get(f.url);
    expect(result.verified).toBe(true);
    expect(result.checksum).toEqual({ algorithm, source: new URL(file, f.url).href });
    expect(warnings).toEqual([]);
    expect(sha('sha256', await readFile(result.file))).toBe(sha('sha256', f.data));
  });

  it('finds a name with spaces in a SHA256SUMS of many entries', async () => {
    const f = folder('my file 1.bin');
    const others = Array.from({ length: 2000 }, (_, i) => `${sha('sha256', Buffer.from(String(i)))}  my file ${i + 2}.bin`);
    f.put('SHA256SUMS', [...others.slice(0, 1000), `${sha('sha256', f.data)}  my file 1.bin`, ...others.slice(1000)].join('\n'));
    const { result } = await get(f.url);
    expect(result.checksum?.source).toMatch(/\/SHA256SUMS$/);
    expect(result.verified).toBe(true);
  });

  it('reads no more than 1 MiB of a checksum file of unknown length, and goes on unverified', async () => {
    const f = folder();
    // Far more than socket buffers hold, so what was sent shows where the reader stopped.
    const huge = { size: 64 * 1024 * 1024, seed: 5 };
    server.addFile(new URL('SHA256SUMS', f.url).pathname, huge, { auth: AUTH, faults: { chunked: true } });
    const { result, warnings } = await get(f.url);
    expect(result.verified).toBe(false);
    expect(warnings).toEqual(['MG_WARN_CHECKSUM_FILE_TOO_LARGE', 'MG_WARN_NO_CHECKSUM_FILE']);
    const sent = server.requests(new URL('SHA256SUMS', f.url).pathname).reduce((n, r) => n + r.bytesSent, 0);
    expect(sent).toBeLessThan(huge.size / 2);
  });

  it('goes on unverified and says so when no checksum file is there', async () => {
    const f = folder();
    const { result, warnings } = await get(f.url);
    expect(result.verified).toBe(false);
    expect(warnings).toEqual(['MG_WARN_NO_CHECKSUM_FILE']);
  });

  it('fails a mismatch with MG_ERR_CHECKSUM_MISMATCH and keeps nothing', async () => {
    const f = folder();
    f.put('SHA256SUMS', `${'0'.repeat(64)}  file.bin\n`);
    await expect(get(f.url)).rejects.toMatchObject({ code: 'MG_ERR_CHECKSUM_MISMATCH' });
    expect(await readdir(dir)).toEqual([]);
  });
});
