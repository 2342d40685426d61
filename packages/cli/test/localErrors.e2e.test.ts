// Local file-system refusals through the real command: checked before a byte is written.
import { chmod, readdir } from 'node:fs/promises';
import { startHttpServer } from '@multiget/test-servers';
import { afterEach, expect, it } from 'vitest';
import { Cleanup, cliEnv } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

it('a file larger than the free space fails at once with exit 8 (MG_ERR_NO_SPACE), writing nothing', async () => {
  const server = cleanup.server(await startHttpServer());
  // A petabyte: generated on demand by the server, never materialised.
  server.addFile('/huge.bin', { size: 2 ** 50, seed: 1 });
  const dir = await cleanup.tempDir();
  const r = await cleanup.run(['--retries', '0', server.url('/huge.bin')], { cwd: dir });
  expect(r.code, r.stderr).toBe(8);
  expect(r.stderr).toContain('MG_ERR_NO_SPACE');
  expect(await readdir(dir)).toEqual([]);
});

it('an unwritable directory fails at once with exit 8 (MG_ERR_NOT_WRITABLE)', async () => {
  const server = cleanup.server(await startHttpServer());
  server.addFile('/f.bin', { size: 1000, seed: 1 });
  const dir = await cleanup.tempDir();
  await chmod(dir, 0o555);
  // root ignores permission bits: run the command as nobody, who may enter but not write.
  const asRoot = process.getuid?.() === 0;
  const r = await cleanup.run(['--retries', '0', '-d', dir, server.url('/f.bin')], {
    cwd: dir,
    env: cliEnv(),
    ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
  });
  await chmod(dir, 0o755);
  expect(r.code, r.stderr).toBe(8);
  expect(r.stderr).toContain('MG_ERR_NOT_WRITABLE');
  expect(await readdir(dir)).toEqual([]);
});
