import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TraceFile } from '@multiget/core';
import { sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, fileSha256 } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

const MiB = 1024 * 1024;

/** The connection-count decisions of a trace, in order. */
function decisions(trace: TraceFile): Array<{ target: number; reason: string }> {
  return trace.traceEvents
    .filter((e) => e.name === 'connections' && e.ph === 'i')
    .map((e) => ({ target: e.args!.target as number, reason: e.args!.reason as string }));
}

describe('-c N and --fixed-connections', () => {
  it('-c is a ceiling: a download starts with a few connections; --fixed-connections opens all of them at once', async () => {
    const server = cleanup.server(await startHttpServer());
    const file = { size: 4 * MiB, seed: 71 };
    server.addFile('/c.bin', file, { faults: { throttleBytesPerSec: 2 * MiB } });
    const url = server.url('/c.bin');

    const adaptive = await cleanup.tempDir();
    const a = await cleanup.run(['-c', '8', '--min-split-size', '64K', '--no-cache', '-q', '--trace', 't.json', url], { cwd: adaptive });
    expect(a.code, a.stderr).toBe(0);
    expect(await fileSha256(join(adaptive, 'c.bin'))).toBe(sha256(file));
    const first = decisions(JSON.parse(await readFile(join(adaptive, 't.json'), 'utf8')) as TraceFile);
    expect(first[0]).toEqual({ target: 4, reason: 'initial' });

    const fixed = await cleanup.tempDir();
    const f = await cleanup.run(['-c', '8', '--fixed-connections', '--min-split-size', '64K', '--no-cache', '-q', '--trace', 't.json', url], {
      cwd: fixed,
    });
    expect(f.code, f.stderr).toBe(0);
    expect(await fileSha256(join(fixed, 'c.bin'))).toBe(sha256(file));
    const all = decisions(JSON.parse(await readFile(join(fixed, 't.json'), 'utf8')) as TraceFile);
    expect(all[0]).toEqual({ target: 8, reason: 'initial' });
    expect(all.every((d) => d.target === 8)).toBe(true);
  });
});
