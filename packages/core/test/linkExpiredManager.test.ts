import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Manager, type EntrySnapshot, type ErrorCode } from '../src/index.js';
import { MemoryPlugin, pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

// The engine's own code for an expired link (MG_ERR_LINK_EXPIRED, from a URL re-resolution that
// could not refresh it) pauses the download like an HTTP 401/403/410 mid-download does (see
// protocol-http's linkExpiry.manager.test.ts for that, over real sockets).

let dir: string;
let mem: MemoryPlugin;
let m: Manager | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-link-expired-'));
  mem = new MemoryPlugin();
});
afterEach(async () => {
  await m?.close();
  await rm(dir, { recursive: true, force: true });
});

function until(id: string, test: (e: EntrySnapshot) => boolean): Promise<EntrySnapshot> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (!test(m!.get(id))) return;
      m!.off('changed', check);
      resolve(m!.get(id));
    };
    m!.on('changed', check);
    check();
  });
}

it('pauses a download that fails with MG_ERR_LINK_EXPIRED (reason linkExpired), and updateUrl finishes it', async () => {
  const data = pseudoRandom(2 * 1024 * 1024, 41);
  mem.put('/x.bin', data, { failFetches: { count: 1000, code: 'MG_ERR_LINK_EXPIRED' as ErrorCode } });
  m = await Manager.open({ plugins: [mem], stateDir: join(dir, 'state'), retry: { baseDelayMs: 1, maxDelayMs: 2 }, settings: { dir } });
  const { id } = await m.add('mem://host/x.bin?sig=1');
  const paused = await until(id, (e) => e.state === 'paused' || e.state === 'failed');
  expect(paused).toMatchObject({ state: 'paused', reason: 'linkExpired', error: { code: 'MG_ERR_LINK_EXPIRED' } });
  mem.put('/x.bin', data, { failFetches: { count: 0, code: 'MG_ERR_LINK_EXPIRED' as ErrorCode } });
  await m.updateUrl(id, 'mem://host/x.bin?sig=2');
  const done = await until(id, (e) => e.state === 'completed' || e.state === 'failed');
  expect(done).toMatchObject({ state: 'completed', reason: undefined, error: undefined });
  expect(sha256(await readFile(join(dir, 'x.bin')))).toBe(sha256(data));
});
