// A long list must not keep every download it ran. The runner kept each Download in a map for the
// whole run (only to tell later whether an entry had started), and the manager's entry kept its
// Download after it ended: about 50 KiB per finished file stayed reachable, 578 MiB for a list of
// 10,000 files. Here a download that ended must be collectable while the list goes on, and a task
// that maps to an entry whose download already ended still gets its outcome.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type Download, Manager, normalizeOptions } from '@multiget/core';
import { HttpPlugin } from '@multiget/protocol-http';
import { startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DownloadTask } from '../src/runner/buildTasks.js';
import { runDownloads, type TaskOutcome } from '../src/runner/runDownloads.js';

let server: HttpTestServer;
let dir: string;
let manager: Manager | undefined;

beforeAll(async () => {
  server = await startHttpServer();
  for (let i = 0; i < 6; i++) server.addFile(`/f${i}.bin`, { size: 64 * 1024, seed: 60 + i });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-cli-run-'));
});
afterEach(async () => {
  await manager?.close();
  manager = undefined;
  await rm(dir, { recursive: true, force: true });
});

function task(index: number, path: string): DownloadTask {
  const url = server.url(path);
  return { index, id: `t${index}`, url, parsedUrl: new URL(url), label: url, options: normalizeOptions({ output: join(dir, `out${index}.bin`) }) };
}

function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // WeakRefs made or read in a job keep their target until that job ends: collect from later ones.
  return new Promise((resolve) => {
    setTimeout(() => {
      gc();
      setTimeout(() => {
        gc();
        resolve();
      }, 5);
    }, 5);
  });
}

describe('runDownloads', () => {
  it('lets go of a download once it ended, while the rest of the list runs', async () => {
    manager = await Manager.open({ plugins: [new HttpPlugin({ useEnvProxy: false })], settings: { dir, maxConcurrent: 1 }, contentDir: false });
    const tasks = Array.from({ length: 5 }, (_, i) => task(i, `/f${i}.bin`));
    const refs: WeakRef<Download>[] = [];
    const collected: boolean[] = [];
    let checks: Promise<void> = Promise.resolve();
    const outcomes = await runDownloads(manager, tasks, {}, {
      started: (_task, download) => {
        refs.push(new WeakRef(download));
        // One at a time: when the last task starts, the first three have ended.
        if (refs.length === tasks.length) {
          checks = collectGarbage().then(() => {
            for (const ref of refs.slice(0, 3)) collected.push(ref.deref() === undefined);
          });
        }
      },
      finished: () => undefined,
    });
    await checks;
    expect(outcomes.map((o) => o.status)).toEqual(['done', 'done', 'done', 'done', 'done']);
    expect(collected).toEqual([true, true, true]);
  });

  it('a later task of the list on the same file as a download that already ended gets its outcome', async () => {
    const real = await Manager.open({ plugins: [new HttpPlugin({ useEnvProxy: false })], settings: { dir, maxConcurrent: 1 }, contentDir: false });
    manager = real;
    let firstEnded!: () => void;
    const ended = new Promise<void>((resolve) => (firstEnded = resolve));
    real.on('started', (_entry, download) => void download.done.then(firstEnded, firstEnded));
    // The second add returns only once the first download ended (as on a slow disk), so the task
    // maps to an entry whose download is over.
    let adds = 0;
    const slowAdd: Manager['add'] = async (url, options) => {
      const entry = await real.add(url, options);
      if (++adds === 2) await ended;
      return entry;
    };
    const slow = new Proxy(real, {
      get: (target, key) => {
        if (key === 'add') return slowAdd;
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const first = task(0, '/f5.bin');
    const again: DownloadTask = { ...task(1, '/f5.bin'), options: first.options };
    const seen: TaskOutcome[] = [];
    const outcomes = await runDownloads(slow, [first, again], {}, { started: () => undefined, finished: (o) => seen.push(o) });
    expect(adds).toBe(2);
    expect(outcomes.map((o) => o.status)).toEqual(['done', 'done']);
    expect(seen).toHaveLength(2);
  });
});
