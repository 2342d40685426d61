import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, cliEnv, closedPort, fileSha256 } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

const FILE = { size: 512 * 1024 + 3, seed: 21 };

describe('exit codes of real runs', () => {
  it('404 exits 4', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/missing.bin', FILE, { faults: { status: 404 } });
    const dir = await cleanup.tempDir();
    const r = await cleanup.run([server.url('/missing.bin')], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/\[MG_ERR_NOT_FOUND\]/);
    expect(existsSync(join(dir, 'missing.bin'))).toBe(false);
  });

  it('a malformed URL exits 2', async () => {
    const dir = await cleanup.tempDir();
    for (const url of ['http://[::1', 'not a url', 'http://']) {
      const r = await cleanup.run([url], { cwd: dir });
      expect(r.code, url).toBe(2);
      expect(r.stderr).toMatch(/\[MG_ERR_INVALID_URL\]/);
    }
  });

  it('an unsupported scheme exits 2', async () => {
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(['gopher://127.0.0.1/file'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[MG_ERR_UNSUPPORTED_PROTOCOL\]/);
  });

  it('a bad flag exits 2 with a usage message', async () => {
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(['--no-such-flag', 'http://127.0.0.1/x'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^multiget: .*--no-such-flag.*\[MG_ERR_INVALID_OPTION\]$/m);
    const several = await cleanup.run(['-o', 'x', 'http://127.0.0.1/a', 'http://127.0.0.1/b'], { cwd: dir });
    expect(several.code).toBe(2);
  });

  it('an existing -o file exits 7 and stays untouched; --overwrite replaces it', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/data.bin', FILE);
    const dir = await cleanup.tempDir();
    await writeFile(join(dir, 'data.bin'), 'precious');
    const r = await cleanup.run(['-o', 'data.bin', server.url('/data.bin')], { cwd: dir });
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toMatch(/\[MG_ERR_FILE_EXISTS\]/);
    expect(await readFile(join(dir, 'data.bin'), 'utf8')).toBe('precious');
    expect(existsSync(join(dir, 'data.bin.mgpart'))).toBe(false);
    const replaced = await cleanup.run(['--overwrite', '-o', 'data.bin', server.url('/data.bin')], { cwd: dir });
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(await fileSha256(join(dir, 'data.bin'))).toBe(sha256(FILE));
  });

  it('an existing -o file that an earlier run downloaded from the same URL also exits 7, untouched', async () => {
    // The content store knows the file (same URL, same version, its digest proves): it is still not
    // this run's to complete or replace. (A build that took it as "found complete" ended silently, 1.)
    const server = cleanup.server(await startHttpServer());
    server.addFile('/data.bin', FILE);
    const dir = await cleanup.tempDir();
    const env = cliEnv();
    const first = await cleanup.run(['-o', 'data.bin', server.url('/data.bin')], { cwd: dir, env });
    expect(first.code, first.stderr).toBe(0);
    const again = await cleanup.run(['-o', 'data.bin', server.url('/data.bin')], { cwd: dir, env });
    expect(again.code, again.stderr).toBe(7);
    expect(again.stderr).toMatch(/\[MG_ERR_FILE_EXISTS\]/);
    expect(await fileSha256(join(dir, 'data.bin'))).toBe(sha256(FILE));
  });

  it('an existing server-named file stays untouched: the download gets a numbered name', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/data.bin', FILE);
    const dir = await cleanup.tempDir();
    await writeFile(join(dir, 'data.bin'), 'precious');
    const r = await cleanup.run([server.url('/data.bin')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(join(dir, 'data.bin'), 'utf8')).toBe('precious');
    expect(await fileSha256(join(dir, 'data.1.bin'))).toBe(sha256(FILE));
  });

  it('a checksum mismatch exits 5 and leaves no file behind', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/data.bin', FILE);
    const dir = await cleanup.tempDir();
    const wrong = `sha256=${'0'.repeat(64)}`;
    const r = await cleanup.run(['--checksum', wrong, '-o', 'c.bin', server.url('/data.bin')], { cwd: dir });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/\[MG_ERR_CHECKSUM_MISMATCH\]/);
    for (const name of ['c.bin', 'c.bin.mgpart', 'c.bin.mgstate']) expect(existsSync(join(dir, name)), name).toBe(false);
    const right = await cleanup.run(['--checksum', `sha256=${sha256(FILE)}`, '-o', 'c.bin', server.url('/data.bin')], { cwd: dir });
    expect(right.code, right.stderr).toBe(0);
    expect(right.stderr).toMatch(/sha256 verified/);
  });

  it('connection refused with --retries 0 exits 3', async () => {
    const dir = await cleanup.tempDir();
    const port = await closedPort();
    const r = await cleanup.run(['--retries', '0', `http://127.0.0.1:${port}/file.bin`], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/\[MG_ERR_CONNECT\]/);
  });

  it('with several downloads, the first failure in input order decides', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/ok.bin', FILE);
    server.addFile('/gone', FILE, { faults: { status: 404 } });
    const dir = await cleanup.tempDir();
    const port = await closedPort();
    const r = await cleanup.run(
      ['--retries', '0', server.url('/ok.bin'), server.url('/gone'), `http://127.0.0.1:${port}/x`],
      { cwd: dir },
    );
    expect(r.code).toBe(4);
    expect(await fileSha256(join(dir, 'ok.bin'))).toBe(sha256(FILE));
  });
});
