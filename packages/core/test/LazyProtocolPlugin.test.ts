import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, LazyProtocolPlugin, Manager, Multiget, type HookHost, type Plugin, UsageError } from '../src/index.js';
import { MemoryPlugin, pseudoRandom } from './helpers/MemoryPlugin.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-lazy-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A memory plugin that also taps `verify` (a hook beyond probe and fetchRange), and counts closes. */
class ObservedMemoryPlugin extends MemoryPlugin {
  readonly finished: string[] = [];
  closes = 0;

  override apply(engine: HookHost): void {
    super.apply(engine);
    engine.hooks.verify.tapPromise(this.name, async (job) => {
      this.finished.push(job.url.pathname);
      return undefined;
    });
  }

  override async close(): Promise<void> {
    this.closes++;
  }
}

/** A lazy `mem:` plugin whose factory builds `real` and counts its calls. */
function lazyMem(real: MemoryPlugin, fail?: Error) {
  const calls = { n: 0 };
  const lazy = new LazyProtocolPlugin('MemoryPlugin', ['mem:'], async () => {
    calls.n++;
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (fail) throw fail;
    return real;
  });
  return { lazy, calls };
}

function engine(plugins: Plugin[]): Multiget {
  return new Multiget({ plugins, minSplitSize: 64 * 1024, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
}

describe('LazyProtocolPlugin', () => {
  it('loads the real plugin once, on the first URL of its schemes, with all its taps in place', async () => {
    const real = new ObservedMemoryPlugin();
    real.put('/a.bin', pseudoRandom(700 * 1024));
    real.put('/b.bin', pseudoRandom(300 * 1024));
    const other = new MemoryPlugin();
    // A second, eager plugin for another scheme: using it must not load the lazy one.
    Object.defineProperty(other, 'schemes', { value: ['other:'] });
    other.put('/c.bin', pseudoRandom(1000));
    const { lazy, calls } = lazyMem(real);
    const mg = engine([lazy, other]);

    await mg.download('other://host/c.bin', { dir }).done;
    expect(calls.n).toBe(0);
    expect(lazy.loaded).toBeUndefined();

    // Two downloads at once: one load, both through the real plugin (connections > 1: fetchRange too).
    const [a, b] = await Promise.all([
      mg.download('mem://host/a.bin', { dir, connections: 4 }).done,
      mg.download('mem://host/b.bin', { dir }).done,
    ]);
    expect(calls.n).toBe(1);
    expect(lazy.loaded).toBe(real);
    expect((await readFile(a.file)).equals(real.files.get('/a.bin')!.data)).toBe(true);
    expect((await readFile(b.file)).equals(real.files.get('/b.bin')!.data)).toBe(true);
    expect(real.fetches.length).toBeGreaterThan(1);
    expect(real.finished.sort()).toEqual(['/a.bin', '/b.bin']);

    await mg.close();
    expect(real.closes).toBe(1);
  });

  it('applies the real plugin to every engine it was given to, also engines added after loading', async () => {
    const real = new ObservedMemoryPlugin();
    real.put('/x.bin', pseudoRandom(1000));
    const { lazy, calls } = lazyMem(real);
    const first = engine([lazy]);
    const second = engine([lazy]);
    await second.download('mem://host/x.bin', { dir, output: join(dir, 'second.bin') }).done;
    await first.download('mem://host/x.bin', { dir, output: join(dir, 'first.bin') }).done;
    const third = engine([lazy]);
    await third.download('mem://host/x.bin', { dir, output: join(dir, 'third.bin') }).done;
    expect(calls.n).toBe(1);
    expect(real.finished).toEqual(['/x.bin', '/x.bin', '/x.bin']);
  });

  it('lists its schemes before loading; a failed load fails downloads of its schemes with its error', async () => {
    const { lazy, calls } = lazyMem(new MemoryPlugin(), new UsageError(ErrorCodes.INVALID_OPTION, 'bad plugin option'));
    const m = await Manager.open({ plugins: [lazy], settings: { dir } });
    try {
      expect(m.schemes).toEqual(['mem:']);
      expect(calls.n).toBe(0);
      const mg = engine([lazy]);
      await expect(mg.download('mem://host/x.bin', { dir }).done).rejects.toMatchObject({
        code: 'MG_ERR_INVALID_OPTION',
        message: 'bad plugin option',
      });
      await expect(lazy.load()).rejects.toThrow('bad plugin option');
      expect(calls.n).toBe(1);
    } finally {
      await m.close();
    }
  });

  it('close() does not load a plugin that was never used; load() can load it ahead', async () => {
    const real = new ObservedMemoryPlugin();
    const { lazy, calls } = lazyMem(real);
    const mg = engine([lazy]);
    await mg.close();
    expect(calls.n).toBe(0);
    expect(await lazy.load()).toBe(real);
    await mg.close();
    expect(real.closes).toBe(1);
  });
});
