import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, cliEnv, fileSha256 } from './helpers.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

const FILE = { size: 2 * 1024 * 1024 + 5, seed: 31 };

/**
 * Writes the README's examples (exact code blocks; only example.com's URL and the checksum
 * placeholder replaced, by scripts/readme-examples.mjs) into a folder outside the repository whose
 * node_modules is the repository's, and HOME a folder of its own.
 */
async function examples(url: string): Promise<{ dir: string; home: string; env: NodeJS.ProcessEnv }> {
  const dir = await cleanup.tempDir();
  await run(process.execPath, [join(ROOT, 'scripts/readme-examples.mjs'), dir, url, sha256(FILE)]);
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const home = join(dir, 'home');
  await mkdir(home);
  return { dir, home, env: cliEnv({ HOME: home }) };
}

describe("the README's examples", () => {
  it('the library example downloads and verifies the file (its pause before start pauses, resume continues)', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/big.iso', FILE);
    const { dir, env } = await examples(server.url('/big.iso'));
    const { stdout } = await run(process.execPath, ['library.mjs'], { cwd: dir, env, timeout: 60_000 });
    expect(stdout).toContain(`${join(dir, 'downloads', 'big.iso')} true`);
    expect(await fileSha256(join(dir, 'downloads', 'big.iso'))).toBe(sha256(FILE));
    expect(await readdir(join(dir, 'downloads'))).toEqual(['big.iso']);
  });

  it('the manager example keeps its state under ~ (the home directory) and downloads the file', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/a.iso', FILE);
    const { dir, home, env } = await examples(server.url('/a.iso'));
    const { stdout } = await run(process.execPath, ['manager.mjs'], { cwd: dir, env, timeout: 60_000 });
    expect(stdout).toMatch(/completed/);
    expect(await fileSha256(join(dir, 'downloads', 'a.iso'))).toBe(sha256(FILE));
    expect(existsSync(join(home, '.local', 'state', 'multiget'))).toBe(true);
    expect(existsSync(join(dir, '~'))).toBe(false);
  });
});
