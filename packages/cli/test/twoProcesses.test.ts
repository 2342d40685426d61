// Regression: two multiget processes pointed at one target both wrote it (found by running the same
// command twice while the first was still going). The second must refuse, and the first finish.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, expect, it } from 'vitest';
import { Cleanup, fileSha256 } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

it('a second process on the same target exits 7 while the first one finishes the exact file', async () => {
  const server = cleanup.server(await startHttpServer());
  const file = { size: 8 * 1024 * 1024, seed: 77 };
  server.addFile('/shared.bin', file, { faults: { throttleBytesPerSec: 1024 * 1024 } });
  const dir = await cleanup.tempDir();
  const args = ['--json', '-c', '4', '-o', 'shared.bin', server.url('/shared.bin')];
  const first = cleanup.start(args, { cwd: dir });
  await first.waitForProgress(0.1);
  const second = await cleanup.run(args, { cwd: dir });
  expect(second.code, second.stdout + second.stderr).toBe(7);
  expect(second.stdout).toContain('another process');
  const r = await first.exited;
  expect(r.code, r.stderr).toBe(0);
  expect(await fileSha256(join(dir, 'shared.bin'))).toBe(sha256(file));
  for (const suffix of ['.mgpart', '.mgstate', '.mglock']) expect(existsSync(join(dir, `shared.bin${suffix}`))).toBe(false);
});
