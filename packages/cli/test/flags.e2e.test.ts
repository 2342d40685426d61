import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256, startHttpServer, startProxyServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, cliEnv, fileSha256 } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

const FILE = { size: 256 * 1024 + 9, seed: 51 };

describe('flags reach the wire', () => {
  it('-A and -H are sent with every request; --bearer authenticates', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/data.bin', FILE, { auth: { bearer: 'tok-123456' } });
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(
      ['-A', 'test-agent/9', '-H', 'X-Trace: abc', '--bearer', 'tok-123456', server.url('/data.bin')],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    const requests = server.requests('/data.bin');
    expect(requests.length).toBeGreaterThan(0);
    for (const req of requests) expect(req.headers).toMatchObject({ 'user-agent': 'test-agent/9', 'x-trace': 'abc' });
    expect(await fileSha256(join(dir, 'data.bin'))).toBe(sha256(FILE));
  });

  it('--max-redirs caps redirects (exit 4)', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/data.bin', FILE);
    server.addRedirect('/hop', '/data.bin');
    const dir = await cleanup.tempDir();
    const refused = await cleanup.run(['--max-redirs', '0', '-o', 'a.bin', server.url('/hop')], { cwd: dir });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/\[MG_ERR_TOO_MANY_REDIRECTS\]/);
    const followed = await cleanup.run(['--max-redirs', '1', '-o', 'b.bin', server.url('/hop')], { cwd: dir });
    expect(followed.code, followed.stderr).toBe(0);
  });

  it('--timeout ends a stalled download (exit 3)', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/stall.bin', FILE, { faults: { stallAfterBytes: 1000, stallTimes: 1000 } });
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(['--timeout', '1', '--retries', '0', server.url('/stall.bin')], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/\[MG_ERR_(STALLED|TIMEOUT)\]/);
  });

  it('--proxy sends the traffic through the proxy; --no-proxy ignores HTTP_PROXY', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/data.bin', FILE);
    const proxy = cleanup.server(await startProxyServer());
    const dir = await cleanup.tempDir();
    const via = await cleanup.run(['--proxy', proxy.url, '-o', 'a.bin', server.url('/data.bin')], { cwd: dir });
    expect(via.code, via.stderr).toBe(0);
    expect(proxy.requests().length).toBeGreaterThan(0);
    expect(await fileSha256(join(dir, 'a.bin'))).toBe(sha256(FILE));

    const before = proxy.requests().length;
    const env = cliEnv({ HTTP_PROXY: proxy.url, http_proxy: proxy.url });
    const direct = await cleanup.run(['--no-proxy', '-o', 'b.bin', server.url('/data.bin')], { cwd: dir, env });
    expect(direct.code, direct.stderr).toBe(0);
    expect(proxy.requests().length).toBe(before);
  });

  it('HTTPS: an unknown CA exits 9; --cacert and -k make it work', async () => {
    const server = cleanup.server(await startHttpServer({ tls: true }));
    server.addFile('/data.bin', FILE);
    const dir = await cleanup.tempDir();
    const untrusted = await cleanup.run(['--retries', '0', '-o', 'a.bin', server.url('/data.bin')], { cwd: dir });
    expect(untrusted.code).toBe(9);
    expect(untrusted.stderr).toMatch(/\[MG_ERR_TLS\]/);
    await writeFile(join(dir, 'ca.pem'), server.ca!);
    const trusted = await cleanup.run(['--cacert', 'ca.pem', '-o', 'b.bin', server.url('/data.bin')], { cwd: dir });
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(await fileSha256(join(dir, 'b.bin'))).toBe(sha256(FILE));
    const insecure = await cleanup.run(['-k', '-o', 'c.bin', server.url('/data.bin')], { cwd: dir });
    expect(insecure.code, insecure.stderr).toBe(0);
    const missing = await cleanup.run(['--cacert', 'nope.pem', server.url('/data.bin')], { cwd: dir });
    expect(missing.code).toBe(2);
  });
});
