import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, cliEnv } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('the multiget executable', () => {
  it('starts cleanly: its V8 tuning prints nothing, and it fills the compile cache it was given', async () => {
    const dir = await cleanup.tempDir();
    const cache = join(dir, 'compile-cache');
    const env = cliEnv({ NODE_COMPILE_CACHE: cache });
    // vitest's V8 coverage sets NODE_DISABLE_COMPILE_CACHE=1 in its workers (for exact figures); the
    // child would inherit it and never fill the cache, so this case must not depend on how tests run.
    delete env.NODE_DISABLE_COMPILE_CACHE;
    const r = await cleanup.run(['--version'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^multiget \d+\.\d+\.\d+\n$/);
    // An unknown V8 flag would be reported here.
    expect(r.stderr).toBe('');
    expect((await filesUnder(cache)).length).toBeGreaterThan(0);

    const off = join(dir, 'off');
    const r2 = await cleanup.run(['--version'], { cwd: dir, env: cliEnv({ NODE_COMPILE_CACHE: off, NODE_DISABLE_COMPILE_CACHE: '1' }) });
    expect(r2.code).toBe(0);
    expect(await filesUnder(off)).toEqual([]);
  });
});
