import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, fileSha256 } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

/** Throttled so that a download takes a few seconds over four connections. */
const FILE = { size: 16 * 1024 * 1024 + 321, seed: 31 };
const THROTTLE = 1024 * 1024;

describe('interruptions', () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} mid-download ends the process by ${signal} (shell status ${code}), keeps the partial data, and the same command resumes`, async () => {
      const server = cleanup.server(await startHttpServer());
      server.addFile('/big.bin', FILE, { faults: { throttleBytesPerSec: THROTTLE } });
      const dir = await cleanup.tempDir();
      const args = ['--json', '-c', '4', '-o', 'big.bin', server.url('/big.bin')];

      const first = cleanup.start(args, { cwd: dir });
      await first.waitForProgress(0.25);
      first.kill(signal);
      const r = await first.exited;
      // Ends by the signal itself, after saving its state: a shell reports 128 + n (130, 143).
      expect(r.signal, r.stderr).toBe(signal);
      expect(128 + constants.signals[signal]).toBe(code);
      expect(r.stderr).toContain('interrupted; run the same command again to resume');
      expect(first.events().at(-1)).toMatchObject({ type: 'failed', error: { code: 'MG_ERR_ABORTED' } });
      expect(existsSync(join(dir, 'big.bin.mgpart'))).toBe(true);
      expect(existsSync(join(dir, 'big.bin.mgstate'))).toBe(true);
      expect(existsSync(join(dir, 'big.bin'))).toBe(false);

      const again = await cleanup.run(args, { cwd: dir });
      expect(again.code, again.stderr).toBe(0);
      const events = again.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect((events[0]!['resumedBytes'] as number) > 0).toBe(true);
      expect(events.at(-1)).toMatchObject({ type: 'done', resumed: true });
      expect(await fileSha256(join(dir, 'big.bin'))).toBe(sha256(FILE));
      expect(existsSync(join(dir, 'big.bin.mgpart'))).toBe(false);
      expect(existsSync(join(dir, 'big.bin.mgstate'))).toBe(false);
    });
  }

  it('SIGKILL at about 20%, 50% and 80% loses nothing: the last run completes with the exact bytes', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/big.bin', FILE, { faults: { throttleBytesPerSec: THROTTLE } });
    const dir = await cleanup.tempDir();
    const args = ['--json', '-c', '4', '-o', 'big.bin', server.url('/big.bin')];

    for (const fraction of [0.2, 0.5, 0.8]) {
      const run = cleanup.start(args, { cwd: dir });
      await run.waitForProgress(fraction);
      run.kill('SIGKILL');
      const r = await run.exited;
      expect(r.signal).toBe('SIGKILL');
      expect(existsSync(join(dir, 'big.bin')), `no target after the kill at ${fraction}`).toBe(false);
      expect(existsSync(join(dir, 'big.bin.mgpart'))).toBe(true);
    }

    const last = await cleanup.run(args, { cwd: dir });
    expect(last.code, last.stderr).toBe(0);
    const done = JSON.parse(last.stdout.trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
    expect(done).toMatchObject({ type: 'done', resumed: true, size: FILE.size });
    expect(await fileSha256(join(dir, 'big.bin'))).toBe(sha256(FILE));
    expect(existsSync(join(dir, 'big.bin.mgpart'))).toBe(false);
    expect(existsSync(join(dir, 'big.bin.mgstate'))).toBe(false);
  });
});
