// undici's parts come from its own modules (not its index, which loads fetch, WebSocket, caches and
// mocks): each must be the very export the index gives, and a plain download must not load the index.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startHttpServer } from '@multiget/test-servers';
import * as undici from 'undici';
import { describe, expect, it } from 'vitest';
import { loadAgent, loadBuildConnector, loadProxyAgent } from '../src/undiciParts.js';

describe("undici's parts", () => {
  it('are the exports of undici itself', async () => {
    expect(loadAgent()).toBe(undici.Agent);
    expect(loadBuildConnector()).toBe(undici.buildConnector);
    expect(await loadProxyAgent()).toBe(undici.ProxyAgent);
  });

  it("a download without a proxy never loads undici's index", async () => {
    const server = await startHttpServer();
    const dir = await mkdtemp(join(tmpdir(), 'mg-undici-'));
    try {
      server.addFile('/f.bin', { size: 300_000, seed: 3 });
      const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));
      // A fresh process (this one has loaded the index above): download, then list undici's loaded modules.
      const script = `
        import { createRequire } from 'node:module';
        import { Multiget } from '@multiget/core';
        const { HttpPlugin } = await import(${JSON.stringify(built)});
        const mg = new Multiget({ plugins: [new HttpPlugin({ useEnvProxy: false })] });
        await mg.download(process.argv[1], { dir: process.argv[2], connections: 2, minSplitSize: 65536 }).done;
        await mg.close();
        const cache = createRequire(import.meta.url).cache;
        console.log(JSON.stringify(Object.keys(cache).filter((k) => k.includes('undici'))));`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, server.url('/f.bin'), dir], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
      });
      const loaded = JSON.parse(stdout) as string[];
      expect(loaded.some((k) => k.endsWith(join('dispatcher', 'agent.js')))).toBe(true);
      expect(loaded.filter((k) => k.endsWith(join('undici', 'index.js')) || k.includes(join('lib', 'web', 'fetch')))).toEqual([]);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
