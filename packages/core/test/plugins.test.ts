// Plugins are recognised by their shape (apply, optional schemes and close), never by their class,
// so a plugin written as an object literal, or built against another copy of core, works the same.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ByteSource, type DownloadError, ErrorCodes, type FailureContext, Manager, Multiget, NetworkError, type Plugin, type ProtocolDriver } from '../src/index.js';
import { pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-plugins-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A whole protocol plugin as a plain object: no class of core's in it. */
function literalPlugin(data: Buffer, counts: { closes: number; failProbes?: number; failRanges?: number }): Plugin {
  const driver: ProtocolDriver = {
    name: 'lit',
    async probe(job) {
      if (counts.failProbes && counts.failProbes-- > 0) throw new NetworkError(ErrorCodes.CONNECTION_RESET, 'injected');
      return { url: new URL(job.url.href), size: data.length, ranges: true, validators: { etag: '"1"' }, digests: [] };
    },
    async fetchRange(req): Promise<ByteSource> {
      if (counts.failRanges && counts.failRanges-- > 0) throw new NetworkError(ErrorCodes.CONNECTION_RESET, 'injected');
      const end = req.end ?? data.length - 1;
      return {
        start: req.start,
        end,
        body: (async function* () {
          for (let at = req.start; at <= end; at += 65536) yield data.subarray(at, Math.min(end + 1, at + 65536));
        })(),
        cancel() {},
      };
    },
  };
  return {
    name: 'LiteralPlugin',
    schemes: ['lit:'],
    apply(engine) {
      engine.hooks.resolve.tapPromise('LiteralPlugin', async (url) => (url.protocol === 'lit:' ? driver : undefined));
      engine.hooks.probe.tapPromise({ name: 'LiteralPlugin', stage: -100 }, async (info, job) => (job.driver === driver ? driver.probe(job) : info));
      engine.hooks.fetchRange.tapPromise('LiteralPlugin', async (req, job) => (job.driver === driver ? driver.fetchRange(req, job) : undefined));
    },
    async close() {
      counts.closes++;
    },
  };
}

describe('duck-typed plugins', () => {
  it('downloads through a protocol plugin written as an object literal, and closes it', async () => {
    const data = pseudoRandom(2 * 1024 * 1024, 21);
    const counts = { closes: 0 };
    const mg = new Multiget({ plugins: [literalPlugin(data, counts)], minSplitSize: 256 * 1024 });
    const result = await mg.download('lit://host/a.bin', { dir, connections: 4 }).done;
    expect(sha256(await readFile(result.file))).toBe(sha256(data));
    await mg.close();
    expect(counts.closes).toBe(1);
  });

  it('a manager accepts the schemes of an object-literal plugin', async () => {
    const counts = { closes: 0 };
    const manager = await Manager.open({ plugins: [literalPlugin(pseudoRandom(1000, 22), counts)] });
    try {
      expect(manager.schemes).toContain('lit:');
      const entry = await manager.add('lit://host/b.bin', { dir });
      expect(entry.url).toBe('lit://host/b.bin');
    } finally {
      await manager.close();
    }
  });
});

describe('observing a download', () => {
  it('the download hook hands every download to observers before it starts: they see all its events', async () => {
    const data = pseudoRandom(300 * 1024, 23);
    const seen: string[] = [];
    const observer: Plugin = {
      name: 'Observer',
      apply(engine) {
        engine.hooks.download.tap('Observer', (dl) => {
          dl.on('state', (s) => seen.push(s));
          dl.on('done', () => seen.push('done'));
        });
      },
    };
    const mg = new Multiget({ plugins: [literalPlugin(data, { closes: 0 }), observer] });
    await mg.download('lit://host/c.bin', { dir }).done;
    expect(seen).toEqual(['probing', 'downloading', 'verifying', 'completed', 'done']);
  });

  it('the failure hook is asked for probes and for ranges alike', async () => {
    const data = pseudoRandom(300 * 1024, 24);
    const phases: FailureContext['phase'][] = [];
    const watcher: Plugin = {
      name: 'FailureWatcher',
      apply(engine) {
        // Before the retry policy: sees every failure, decides nothing.
        engine.hooks.failure.tapPromise({ name: 'FailureWatcher', stage: -1 }, async (_error: DownloadError, context) => {
          phases.push(context.phase);
          return undefined;
        });
      },
    };
    const mg = new Multiget({
      plugins: [literalPlugin(data, { closes: 0, failProbes: 1, failRanges: 1 }), watcher],
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    const result = await mg.download('lit://host/d.bin', { dir }).done;
    expect(sha256(await readFile(result.file))).toBe(sha256(data));
    expect(phases).toEqual(['probe', 'range']);
  });
});
