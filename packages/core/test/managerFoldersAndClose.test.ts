import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Job, Manager, type RemoteEntry } from '../src/index.js';
import { MemoryPlugin, pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

const KiB = 1024;
let dir: string;
const open: Manager[] = [];

/** The memory plugin with folders: a folder lists the files put under it and its subfolders. */
class MemoryFolders extends MemoryPlugin {
  async list(job: Job): Promise<RemoteEntry[]> {
    const prefix = decodeURIComponent(job.url.pathname);
    const entries = new Map<string, RemoteEntry>();
    for (const [path, f] of this.files) {
      if (!path.startsWith(prefix)) continue;
      const [first, ...rest] = path.slice(prefix.length).split('/');
      entries.set(first!, rest.length > 0 ? { name: first!, type: 'directory' } : { name: first!, type: 'file', size: f.data.length });
    }
    return [...entries.values()];
  }
}

let mem: MemoryFolders;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-manager-folders-'));
  mem = new MemoryFolders();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
  await rm(dir, { recursive: true, force: true });
});

async function manager(): Promise<Manager> {
  const m = await Manager.open({ plugins: [mem], checkpointIntervalMs: 50, settings: { dir, maxConcurrent: 2 } });
  open.push(m);
  return m;
}

describe('Manager folders and checksum files', () => {
  it('addFolder queues one download per file, verified against the folder SHA256SUMS with checksum auto', async () => {
    const a = pseudoRandom(100 * KiB, 1);
    const b = pseudoRandom(50 * KiB, 2);
    mem.put('/pub/set/a.bin', a);
    mem.put('/pub/set/sub/b.bin', b);
    mem.put('/pub/set/SHA256SUMS', Buffer.from(`${sha256(a)}  a.bin\n`));
    mem.put('/pub/set/sub/SHA256SUMS', Buffer.from(`${sha256(b)}  b.bin\n`));
    const m = await manager();
    const added = await m.addFolder('mem://h/pub/set', { checksum: 'auto', exclude: ['SHA256SUMS'] });
    expect(added.files.map((f) => f.remotePath)).toEqual(['a.bin', 'sub/b.bin']);
    expect(added.entries.map((e) => e.file)).toEqual([join(dir, 'set', 'a.bin'), join(dir, 'set', 'sub', 'b.bin')]);
    await m.idle();
    const history = m.history();
    expect(history.map((h) => [h.state, h.digest?.hex]).sort()).toEqual([
      ['completed', sha256(a)],
      ['completed', sha256(b)],
    ].sort());
    expect(createHash('sha256').update(await readFile(join(dir, 'set', 'sub', 'b.bin'))).digest('hex')).toBe(sha256(b));
    const again = await m.addFolder('mem://h/pub/set/', { exclude: ['SHA256SUMS'] });
    expect(again.entries).toEqual([]);
    expect(again.complete.map((f) => f.remotePath)).toEqual(['a.bin', 'sub/b.bin']);
  });

  it('addFolder refuses a checksum ALGO=HEX (one digest names one file) before listing or creating anything', async () => {
    mem.put('/pub/set/a.bin', pseudoRandom(KiB, 3));
    const m = await manager();
    await expect(m.addFolder('mem://h/pub/set/', { checksum: `sha256=${'0'.repeat(64)}` })).rejects.toMatchObject({ code: 'MG_ERR_INVALID_OPTION' });
    expect(existsSync(join(dir, 'set'))).toBe(false);
    expect(m.list()).toEqual([]);
  });

  it('addFolder checks every file with the caller\'s rule before queuing any: its output is used, and one refusal queues nothing', async () => {
    mem.put('/pub/set/a.bin', pseudoRandom(KiB, 4));
    mem.put('/pub/set/b.bin', pseudoRandom(KiB, 5));
    const m = await manager();
    const seen: string[] = [];
    await expect(
      m.addFolder('mem://h/pub/set/', {}, (f) => {
        seen.push(f.remotePath);
        if (f.remotePath === 'b.bin') throw new Error('not there');
        return f.output;
      }),
    ).rejects.toThrow('not there');
    expect(seen).toEqual(['a.bin', 'b.bin']);
    expect(m.list()).toEqual([]);
    const added = await m.addFolder('mem://h/pub/set/', {}, (f) => `${f.output}.renamed`);
    expect(added.entries.map((e) => e.file)).toEqual([join(dir, 'set', 'a.bin.renamed'), join(dir, 'set', 'b.bin.renamed')]);
  });

  it('a second close waits for the first: running downloads are paused and saved before either returns', async () => {
    mem.put('/slow.bin', pseudoRandom(4096 * KiB, 3), { chunkDelayMs: 20 });
    const m = await manager();
    const underWay = new Promise<void>((resolve) =>
      m.on('started', (_entry, download) => download.on('progress', (p) => p.bytesDone > 0 && resolve())),
    );
    await m.add('mem://h/slow.bin');
    await underWay;
    void m.close();
    await m.close();
    const file = join(dir, 'slow.bin');
    expect(existsSync(`${file}.mgstate`)).toBe(true);
    expect(existsSync(`${file}.mglock`)).toBe(false);
  });
});
