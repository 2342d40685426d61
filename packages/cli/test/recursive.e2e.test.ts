// `multiget -r` through the executable against a real vsftpd: the tree, its links skipped, an
// interrupted run resumed by the same command (complete files skipped, the partial one resumed);
// and an SFTP folder under the host key rules of downloads.
import { existsSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256, startSftpServer, startVsftpd } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, cliEnv, fileSha256 } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

const MiB = 1024 * 1024;
const A = { size: 70_000, seed: 41 };
const B = { size: 90_001, seed: 42 };
const BIG = { size: 6 * MiB, seed: 43 };

describe('multiget -r', () => {
  it('downloads an FTP folder, skips its links, and a second run resumes what the first left', async () => {
    const server = cleanup.server(
      await startVsftpd({
        files: { 'pub/tree/a.bin': A, 'pub/tree/notes.txt': B, 'pub/tree/sub dir/ünï.bin': B, 'pub/tree/zz/big.bin': BIG },
        config: { anon_max_rate: String(MiB) },
      }),
    );
    await symlink('/etc/passwd', join(server.root, 'pub', 'tree', 'passwd'));
    const dir = await cleanup.tempDir();
    // Two connections of 1 MiB/s each: big.bin takes seconds, so the interrupt lands half-way.
    const args = ['-r', '--exclude', '*.txt', '-j', '1', '-c', '2', server.url('pub/tree/')];
    const first = cleanup.start(['--json', ...args], { cwd: dir });
    await first.waitFor(
      () => first.events().some((e) => e.type === 'progress' && e.url.endsWith('/big.bin') && (e.bytesDone ?? 0) >= MiB),
      'big.bin under way',
    );
    first.kill('SIGINT');
    await first.exited;
    const skipped = first.events().filter((e) => e.type === 'skipped');
    expect(skipped.map((e) => [e['path'], e.url, typeof e.id])).toEqual([['passwd', server.url('pub/tree/'), 'string']]);
    expect(existsSync(join(dir, 'tree', 'zz', 'big.bin'))).toBe(false);
    expect(existsSync(join(dir, 'tree', 'zz', 'big.bin.mgpart'))).toBe(true);

    const second = await cleanup.run(args, { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`complete: ${join(dir, 'tree', 'a.bin')} (already downloaded)`);
    expect(second.stderr).toContain(`complete: ${join(dir, 'tree', 'sub dir', 'ünï.bin')} (already downloaded)`);
    expect(second.stderr).toMatch(/skipped: passwd: a symbolic link/);
    expect(second.stderr).toMatch(/done: .*big\.bin \(.*resumed/);
    expect(await fileSha256(join(dir, 'tree', 'a.bin'))).toBe(sha256(A));
    expect(await fileSha256(join(dir, 'tree', 'sub dir', 'ünï.bin'))).toBe(sha256(B));
    expect(await fileSha256(join(dir, 'tree', 'zz', 'big.bin'))).toBe(sha256(BIG));
    expect(existsSync(join(dir, 'tree', 'notes.txt'))).toBe(false);
    expect(existsSync(join(dir, 'tree', 'passwd'))).toBe(false);
  });

  it('-o names the local folder, --depth 0 takes only its own files, --include narrows them', async () => {
    const server = cleanup.server(await startVsftpd({ files: { 'd/a.bin': A, 'd/b.txt': B, 'd/sub/c.bin': B } }));
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(['-r', '--depth', '0', '--include', '*.bin', '-o', 'mirror', server.url('d')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await fileSha256(join(dir, 'mirror', 'a.bin'))).toBe(sha256(A));
    expect(existsSync(join(dir, 'mirror', 'b.txt'))).toBe(false);
    expect(existsSync(join(dir, 'mirror', 'sub'))).toBe(false);
  });

  it('downloads an SFTP folder with -u, an unknown host key refusing the listing (exit 9)', async () => {
    const server = cleanup.server(await startSftpServer({ users: [{ username: 'alice', password: 's3cret-pw' }] }));
    server.addFile('/data/set/a.bin', A);
    server.addFile('/data/set/in ner/b.bin', B);
    const dir = await cleanup.tempDir();
    const env = cliEnv({ HOME: dir, SSH_AUTH_SOCK: '' });
    const url = server.url('/data/set/');
    const refused = await cleanup.run(['-r', '-u', 'alice:s3cret-pw', url], { cwd: dir, env });
    expect(refused.code, refused.stderr).toBe(9);
    expect(refused.stderr).toContain('MG_ERR_HOST_KEY_UNKNOWN');
    expect(existsSync(join(dir, 'set'))).toBe(false);
    const r = await cleanup.run(['-r', '--ssh-fingerprint', server.hostKey.fingerprint, '-u', 'alice:s3cret-pw', url], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(await fileSha256(join(dir, 'set', 'a.bin'))).toBe(sha256(A));
    expect(await fileSha256(join(dir, 'set', 'in ner', 'b.bin'))).toBe(sha256(B));
    expect(r.stdout + r.stderr + refused.stderr).not.toContain('s3cret-pw');
  });

  it('refuses what makes no sense with folders', async () => {
    const dir = await cleanup.tempDir();
    for (const [args, message] of [
      [['-r', 'https://example.com/dir/'], /-r downloads ftp:\/\/, ftps:\/\/ and sftp:\/\/ folders/],
      [['--include', '*.iso', 'ftp://127.0.0.1/x/'], /--include applies to folders: add -r/],
      [['-r', '--depth', '-1', 'ftp://127.0.0.1/x/'], /--depth/],
      [['-r', '--checksum', `sha256=${'0'.repeat(64)}`, 'ftp://127.0.0.1/x/'], /with -r use --checksum auto/],
    ] as const) {
      const r = await cleanup.run(args, { cwd: dir });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});
