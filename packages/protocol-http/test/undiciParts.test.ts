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
        console.log(JSON.stringify({
          undici: Object.keys(cache).filter((k) => k.includes('undici')),
          http2: process.moduleLoadList.includes('NativeModule http2'),
        }));`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, server.url('/f.bin'), dir], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
      });
      const { undici: loaded, http2 } = JSON.parse(stdout) as { undici: string[]; http2: boolean };
      expect(loaded.some((k) => k.endsWith(join('dispatcher', 'agent.js')))).toBe(true);
      expect(loaded.filter((k) => k.endsWith(join('undici', 'index.js')) || k.includes(join('lib', 'web', 'fetch')))).toEqual([]);
      // undici's HTTP/2 half (and node:http2 with it) waits until a connection negotiates h2.
      expect(http2).toBe(false);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an HTTP/2 connection through the same undici still works: the stand-in loads the real module when it is used', async () => {
    const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    // A fresh process: the plugin's module puts the stand-in in place, then undici (its index, as
    // another user of the same copy would) makes an HTTP/2 request with allowH2.
    const script = `
      const { deferredHttp2 } = await import(${JSON.stringify(built.replace(/index\.js$/, 'deferHttp2.js'))});
      await import(${JSON.stringify(built)});
      const before = { standIn: deferredHttp2 !== undefined, loaded: deferredHttp2?.loaded() ?? null, http2: process.moduleLoadList.includes('NativeModule http2') };
      const { Agent, request } = await import('undici');
      const { testCertificate } = await import('@multiget/test-servers');
      const { key, cert } = await testCertificate();
      const { createSecureServer } = await import('node:http2');
      const server = createSecureServer({ key, cert }, (req, res) => res.end('over ' + req.httpVersion));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const agent = new Agent({ allowH2: true, connect: { ca: cert } });
      const res = await request('https://127.0.0.1:' + server.address().port + '/', { dispatcher: agent });
      const text = await res.body.text();
      await agent.close();
      server.close();
      console.log(JSON.stringify({ before, text, loaded: deferredHttp2?.loaded() ?? null }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    const out = JSON.parse(stdout) as { before: { standIn: boolean; loaded: boolean | null; http2: boolean }; text: string; loaded: boolean | null };
    expect(out.before).toEqual({ standIn: true, loaded: false, http2: false });
    expect(out.text).toBe('over 2.0');
    expect(out.loaded).toBe(true);
  });
});
