import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { Manager, type ManagerOptions, type DownloadResult } from '../../src/index.js';
import type { ContentRecord } from '../../src/manager/store/ManagerStore.js';
import { recordsOfLog } from '../../src/manager/content/contentLog.js';
import { MemoryPlugin } from './MemoryPlugin.js';

const KiB = 1024;

/** The content-store tests' world: a temporary directory, a MemoryPlugin and the managers opened on them. */
export interface ContentFixture {
  /** The test's directory (state in `state/`, default downloads in `out/`). */
  readonly dir: string;
  readonly mem: MemoryPlugin;
  /** Opens a manager on the test's state directory (closed after the test). */
  manager(options?: ManagerOptions): Promise<Manager>;
  /** Adds a download to `output` (in the test's directory) and waits for its end: the result when it came from the store. */
  fetch(m: Manager, url: string, output: string, extra?: Record<string, unknown>): Promise<{ state: string; result?: DownloadResult; error?: string }>;
  /** Closes `m` (which waits for records under way) and reads the records in force in `content.jsonl`. */
  records(m: Manager): Promise<ContentRecord[]>;
}

/** Registers the set-up and tear-down of a {@link ContentFixture} for the tests of the calling file. */
export function contentFixture(): ContentFixture {
  let dir = '';
  let mem = new MemoryPlugin();
  const open: Manager[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mg-content-'));
    mem = new MemoryPlugin();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((m) => m.close()));
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    get mem() {
      return mem;
    },
    async manager(options: ManagerOptions = {}) {
      const m = await Manager.open({
        plugins: [mem],
        stateDir: join(dir, 'state'),
        minSplitSize: 64 * KiB,
        retry: { baseDelayMs: 5, maxDelayMs: 20 },
        ...options,
        settings: { dir: join(dir, 'out'), ...options.settings },
      });
      open.push(m);
      return m;
    },
    async fetch(m, url, output, extra = {}) {
      let result: DownloadResult | undefined;
      const onCached = (_e: unknown, r: DownloadResult): void => void (result = r);
      m.on('cached', onCached);
      const e = await m.add(url, { output: join(dir, output), ...extra });
      await m.idle();
      m.off('cached', onCached);
      const now = m.get(e.id);
      return { state: now.state, ...(result ? { result } : {}), ...(now.error ? { error: now.error.code } : {}) };
    },
    async records(m) {
      await m.close();
      return recordsOfLog(await readFile(join(dir, 'state', 'content.jsonl'), 'utf8'));
    },
  };
}
