// The executable against servers that redirect across origins and down to plain HTTP, send forbidden
// bytes in a header, or drip: --location-trusted, the warning line, exit codes, --lowest-speed-limit.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, fileSha256 } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

const FILE = { size: 64 * 1024 + 9, seed: 77 };

describe('redirects and the headers of -H', () => {
  it('a cross-origin redirect gets no -H header; --location-trusted sends it; a same-origin one keeps it', async () => {
    const [first, second] = [cleanup.server(await startHttpServer()), cleanup.server(await startHttpServer())];
    second.addFile('/data.bin', FILE);
    first.addFile('/data.bin', FILE);
    first.addRedirect('/away', second.url('/data.bin'));
    first.addRedirect('/here', '/data.bin');
    const dir = await cleanup.tempDir();

    const away = await cleanup.run(['-H', 'X-Api-Key: k-1', '-o', 'a.bin', first.url('/away')], { cwd: dir });
    expect(away.code, away.stderr).toBe(0);
    expect(first.requests('/away')[0]?.headers['x-api-key']).toBe('k-1');
    expect(second.requests('/data.bin').length).toBeGreaterThan(0);
    expect(second.requests('/data.bin').every((r) => r.headers['x-api-key'] === undefined)).toBe(true);
    expect(await fileSha256(join(dir, 'a.bin'))).toBe(sha256(FILE));

    second.resetLog();
    const trusted = await cleanup.run(['--location-trusted', '-H', 'X-Api-Key: k-2', '-o', 'b.bin', first.url('/away')], { cwd: dir });
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(second.requests('/data.bin').every((r) => r.headers['x-api-key'] === 'k-2')).toBe(true);

    const here = await cleanup.run(['-H', 'X-Api-Key: k-3', '-o', 'c.bin', first.url('/here')], { cwd: dir });
    expect(here.code, here.stderr).toBe(0);
    expect(first.requests('/data.bin').every((r) => r.headers['x-api-key'] === 'k-3')).toBe(true);
  });

  it('HTTPS to plain HTTP: refused with exit 4 when -H or -u is given, else followed with a warning line', async () => {
    const secure = cleanup.server(await startHttpServer({ tls: true }));
    const plain = cleanup.server(await startHttpServer());
    plain.addFile('/data.bin', FILE);
    secure.addRedirect('/down', plain.url('/data.bin'));
    const dir = await cleanup.tempDir();
    await writeFile(join(dir, 'ca.pem'), secure.ca!);

    for (const extra of [['-H', 'X-Api-Key: k'], ['-u', 'alice:pw']]) {
      const refused = await cleanup.run(['--cacert', 'ca.pem', ...extra, '-o', 'x.bin', secure.url('/down')], { cwd: dir });
      expect(refused.code, refused.stderr).toBe(4);
      expect(refused.stderr).toMatch(/redirects to plain HTTP.*\[MG_ERR_BAD_REDIRECT\]/);
      expect(refused.stderr).not.toMatch(/pw|k-/);
    }
    expect(plain.requests()).toHaveLength(0);
    expect(existsSync(join(dir, 'x.bin'))).toBe(false);

    const followed = await cleanup.run(['--cacert', 'ca.pem', '-o', 'y.bin', secure.url('/down')], { cwd: dir });
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stderr).toMatch(/^warning: .*redirects to plain HTTP: http:\/\/127\.0\.0\.1:\d+\/data\.bin.*\[MG_WARN_INSECURE_REDIRECT\]$/m);
    expect(await fileSha256(join(dir, 'y.bin'))).toBe(sha256(FILE));
  });
});

describe('broken servers', () => {
  it('a NUL in a response header exits 4 with MG_ERR_PROTOCOL after one request', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/nul.bin', FILE, { faults: { rawHeaderLine: Buffer.from('x-bad: a\0b', 'latin1') } });
    const dir = await cleanup.tempDir();
    const r = await cleanup.run([server.url('/nul.bin')], { cwd: dir });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/\[MG_ERR_PROTOCOL\]/);
    expect(server.requests('/nul.bin')).toHaveLength(1);
  });

  it('--lowest-speed-limit and --speed-time end a dripping download with exit 3 and MG_ERR_STALLED', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/drip.bin', FILE, { faults: { throttleBytesPerSec: 2 } });
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(['--lowest-speed-limit', '1K', '--speed-time', '1', '--retries', '1', '-o', 'drip.bin', server.url('/drip.bin')], { cwd: dir });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/Slower than 1\.00 KiB\/s for 1 s.*\[MG_ERR_STALLED\]/);
    expect(existsSync(join(dir, 'drip.bin'))).toBe(false);
  });

  it('rejects a malformed --lowest-speed-limit and --speed-time with exit 2', async () => {
    const dir = await cleanup.tempDir();
    for (const args of [['--lowest-speed-limit', 'fast'], ['--speed-time', '0'], ['--speed-time', '-1']]) {
      const r = await cleanup.run([...args, 'http://127.0.0.1:9/x'], { cwd: dir });
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
