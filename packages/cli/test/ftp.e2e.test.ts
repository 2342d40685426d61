// The command over FTP: the same engine, another protocol plugin.
import { join } from 'node:path';
import { sha256, startFtpServer } from '@multiget/test-servers';
import { afterEach, expect, it } from 'vitest';
import { Cleanup, fileSha256 } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

it('downloads ftp:// with several connections into the exact bytes', async () => {
  const server = cleanup.server(await startFtpServer());
  const file = { size: 5 * 1024 * 1024 + 17, seed: 9 };
  server.addFile('/pub/file.bin', file);
  const dir = await cleanup.tempDir();
  const r = await cleanup.run(['-c', '4', '--min-split-size', '512K', server.url('/pub/file.bin')], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  expect(await fileSha256(join(dir, 'file.bin'))).toBe(sha256(file));
});

it('--ssl-reqd refuses a server without TLS (exit 9) instead of sending the password in clear', async () => {
  const server = cleanup.server(await startFtpServer({ faults: { refuseAuthTls: true } }));
  server.addFile('/f.bin', { size: 1000, seed: 1 });
  const dir = await cleanup.tempDir();
  const r = await cleanup.run(['--ssl-reqd', '--retries', '0', server.url('/f.bin')], { cwd: dir });
  expect(r.code, r.stderr).toBe(9);
  expect(r.stderr).toContain('MG_ERR_TLS');
});
