import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Multiget } from '../src/index.js';
import { MemoryPlugin, pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

// A link that expired is replaced by another URL: the partial file of the old one must resume when
// it is provably the same file, and must never be mixed with the bytes of another file.

let dir: string;
let mem: MemoryPlugin;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-relink-'));
  mem = new MemoryPlugin();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MiB = 1024 * 1024;

function engine(): Multiget {
  return new Multiget({ plugins: [mem], minSplitSize: 256 * 1024, checkpointIntervalMs: 50, progressIntervalMs: 20 });
}

/** Starts `url` into `output` and stops it (partial data kept) once more than 1 MiB is on disk. */
async function partial(url: string, output: string): Promise<void> {
  const ctl = new AbortController();
  const dl = engine().download(url, { output, signal: ctl.signal });
  await new Promise<void>((resolve) => dl.on('progress', (p) => p.bytesDone > MiB && resolve()));
  ctl.abort();
  await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_ABORTED' });
}

describe('a partial file of another URL', () => {
  it('resumes when the caller names the file and the server proves it is the same (size and validators)', async () => {
    const data = pseudoRandom(6 * MiB, 31);
    mem.put('/a.bin', data, { chunkDelayMs: 5 });
    const output = join(dir, 'a.bin');
    await partial('mem://host/a.bin?sig=old', output);
    const served = mem.bytesServed;
    const result = await engine().download('mem://host/a.bin?sig=new', { output }).done;
    expect(result.resumed).toBe(true);
    expect(sha256(await readFile(output))).toBe(sha256(data));
    // The bytes already there were not fetched again.
    expect(mem.bytesServed - served).toBeLessThan(data.length);
  });

  it('is refused, and kept, when the new URL serves another file and nothing says the partial file is this download’s', async () => {
    mem.put('/a.bin', pseudoRandom(6 * MiB, 32), { chunkDelayMs: 5 });
    mem.put('/other.bin', pseudoRandom(5 * MiB, 33));
    const output = join(dir, 'a.bin');
    await partial('mem://host/a.bin', output);
    const before = await readFile(`${output}.mgpart`);
    await expect(engine().download('mem://host/other.bin', { output }).done).rejects.toMatchObject({ code: 'MG_ERR_FILE_EXISTS' });
    expect((await readFile(`${output}.mgpart`)).equals(before)).toBe(true);
  });

  it('named in previousUrls: starts over with the new file’s bytes when size or validators differ, never mixing them', async () => {
    mem.put('/a.bin', pseudoRandom(6 * MiB, 34), { chunkDelayMs: 5 });
    const other = pseudoRandom(5 * MiB, 35);
    mem.put('/other.bin', other);
    const output = join(dir, 'a.bin');
    await partial('mem://host/a.bin', output);
    const dl = engine().download('mem://host/other.bin', { output, previousUrls: ['mem://host/a.bin'] });
    const reasons: string[] = [];
    dl.on('restart', (r) => reasons.push(r.reason));
    const result = await dl.done;
    expect(result.resumed).toBe(false);
    expect(reasons.join()).toMatch(/changed/);
    expect(sha256(await readFile(output))).toBe(sha256(other));
    expect(await readdir(dir)).toEqual(['a.bin']);
  });

  it('named in previousUrls (credentials and all): resumes when it matches, also for a file named by the server', async () => {
    const data = pseudoRandom(6 * MiB, 36);
    mem.put('/a.bin', data, { chunkDelayMs: 5 });
    const ctl = new AbortController();
    const first = engine().download('mem://user:pw@host/a.bin?sig=1', { dir, signal: ctl.signal });
    await new Promise<void>((resolve) => first.on('progress', (p) => p.bytesDone > MiB && resolve()));
    ctl.abort();
    await first.done.catch(() => undefined);
    const result = await engine().download('mem://host/a.bin?sig=2', { dir, previousUrls: ['mem://user:pw@host/a.bin?sig=1'] }).done;
    expect(result).toMatchObject({ resumed: true, file: join(dir, 'a.bin') });
    expect(sha256(await readFile(result.file))).toBe(sha256(data));
  });
});
