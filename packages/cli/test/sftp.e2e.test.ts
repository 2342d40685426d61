// The command over SFTP: host keys checked by default, trust given by --known-hosts or a pinned
// fingerprint, passwords from -u, never printed.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256, startSftpServer } from '@multiget/test-servers';
import { afterEach, expect, it } from 'vitest';
import { Cleanup, cliEnv, fileSha256 } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

async function setUp() {
  const server = cleanup.server(await startSftpServer({ users: [{ username: 'alice', password: 's3cret-pw' }] }));
  const file = { size: 3 * 1024 * 1024 + 5, seed: 12 };
  server.addFile('/data/file.bin', file);
  const dir = await cleanup.tempDir();
  // An empty HOME: no ~/.ssh of the machine's user leaks into the test.
  const env = cliEnv({ HOME: dir, SSH_AUTH_SOCK: '' });
  return { server, file, dir, env };
}

it('downloads sftp:// from a host in --known-hosts, with the password from -u', async () => {
  const { server, file, dir, env } = await setUp();
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, `${server.knownHostsLine()}\n`);
  const r = await cleanup.run(['-c', '4', '--min-split-size', '512K', '--known-hosts', knownHosts, '-u', 'alice:s3cret-pw', server.url('/data/file.bin')], { cwd: dir, env });
  expect(r.code, r.stderr).toBe(0);
  expect(await fileSha256(join(dir, 'file.bin'))).toBe(sha256(file));
  expect(r.stdout + r.stderr).not.toContain('s3cret-pw');
});

it('refuses an unknown host key (exit 9) and prints its fingerprint; --ssh-fingerprint trusts it', async () => {
  const { server, file, dir, env } = await setUp();
  const url = server.url('/data/file.bin', 'alice', 's3cret-pw');
  const refused = await cleanup.run(['--retries', '0', url], { cwd: dir, env });
  expect(refused.code, refused.stderr).toBe(9);
  expect(refused.stderr).toContain('MG_ERR_HOST_KEY_UNKNOWN');
  expect(refused.stderr).toContain(server.hostKey.fingerprint);
  expect(refused.stderr).not.toContain('s3cret-pw');
  const pinned = await cleanup.run(['--ssh-fingerprint', server.hostKey.fingerprint, url], { cwd: dir, env });
  expect(pinned.code, pinned.stderr).toBe(0);
  expect(await fileSha256(join(dir, 'file.bin'))).toBe(sha256(file));
});
