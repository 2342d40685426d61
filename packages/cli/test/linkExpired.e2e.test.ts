import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, expect, it } from 'vitest';
import { Cleanup, type CliEvent, fileSha256 } from './helpers.js';

// A presigned link that expires mid-download (the server starts answering 403): the run says how to
// continue, and the command it names, with a new link of the same file, resumes the bytes kept.

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

const MiB = 1024 * 1024;

it('says how to continue when the link expires mid-download, and `multiget NEWURL -o SAME` resumes the bytes', async () => {
  const server = cleanup.server(await startHttpServer());
  const content = { size: 4 * MiB, seed: 51 };
  server.addFile('/release.tar.gz', content, { faults: { signedLinks: { afterBytes: 1.5 * MiB } } });
  const dir = await cleanup.tempDir();

  const first = await cleanup.run(['-c', '4', server.signUrl('/release.tar.gz')], { cwd: dir });
  expect(first.code, first.stderr).not.toBe(0);
  const file = join(dir, 'release.tar.gz');
  expect(first.stderr).toContain(`hint: the server stopped accepting the link (it may have expired); the partial data is kept. Get a new link and run: multiget NEWURL -o ${file}`);
  expect(existsSync(`${file}.mgpart`)).toBe(true);

  server.setFaults('/release.tar.gz', { signedLinks: { afterBytes: 64 * MiB } });
  const again = await cleanup.run(['-c', '4', '--json', server.signUrl('/release.tar.gz'), '-o', file], { cwd: dir });
  expect(again.code, again.stderr).toBe(0);
  const events = again.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as CliEvent);
  const start = events.find((e) => e.type === 'start');
  expect(start?.['resumedBytes']).toBeGreaterThan(0);
  expect(await fileSha256(file)).toBe(sha256(content));
});

it('gives no such hint for a link refused from the start (nothing to resume)', async () => {
  const server = cleanup.server(await startHttpServer());
  server.addFile('/private.bin', { size: MiB, seed: 52 }, { faults: { status: 403 } });
  const dir = await cleanup.tempDir();
  const r = await cleanup.run([server.url('/private.bin')], { cwd: dir });
  expect(r.stderr).toMatch(/\[MG_ERR_FORBIDDEN\]/);
  expect(r.stderr).not.toContain('hint:');
});
