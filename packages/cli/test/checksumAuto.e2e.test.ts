// `--checksum auto` through the executable: the digest comes from a checksum file beside each URL.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, type CliEvent } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

const ONE = { size: 300 * 1024 + 5, seed: 31 };
const TWO = { size: 200 * 1024 + 9, seed: 32 };

describe('--checksum auto', () => {
  it('verifies several files against SHA256SUMS and says so', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/rel/one.bin', ONE);
    server.addFile('/rel/two%20files.bin', TWO);
    server.addFile('/rel/SHA256SUMS', Buffer.from(`${sha256(ONE)}  one.bin\n${sha256(TWO)}  two files.bin\n`));
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(['--checksum', 'auto', server.url('/rel/one.bin'), server.url('/rel/two%20files.bin')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/verified sha256 from SHA256SUMS/g)).toHaveLength(2);
  });

  it('--json puts the checksum file in the done event; a missing one is a warning', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/a/one.bin', ONE);
    server.addFile('/a/one.bin.sha256', Buffer.from(`${sha256(ONE)}\n`));
    server.addFile('/b/two.bin', TWO);
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(['--json', '--checksum', 'auto', server.url('/a/one.bin'), server.url('/b/two.bin')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as CliEvent);
    const done = events.filter((e) => e.type === 'done');
    expect(done.find((e) => e.url.endsWith('/a/one.bin'))).toMatchObject({
      verified: true,
      checksum: { algorithm: 'sha256', source: server.url('/a/one.bin.sha256') },
    });
    expect(done.find((e) => e.url.endsWith('/b/two.bin'))).toMatchObject({ verified: false });
    expect(events.filter((e) => e.type === 'warning').map((e) => e['code'])).toEqual(['MG_WARN_NO_CHECKSUM_FILE']);
  });

  it('a mismatch exits 5 and leaves no file behind', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/c/one.bin', ONE);
    server.addFile('/c/SHA512SUMS', Buffer.from(`${'0'.repeat(128)}  one.bin\n`));
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(['--checksum', 'auto', server.url('/c/one.bin')], { cwd: dir });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/SHA512SUMS.*\[MG_ERR_CHECKSUM_MISMATCH\]/);
    for (const name of ['one.bin', 'one.bin.mgpart', 'one.bin.mgstate']) expect(existsSync(join(dir, name)), name).toBe(false);
  });
});
