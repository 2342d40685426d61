// Trust in the partial file, its state and its names (issue 12, items 1, 2, 3, 11, 13): whole
// downloads through the engine over real sockets into real files, with the bookkeeping tampered
// with between runs. Every download that succeeds is compared with the source by sha256.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { link, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Download, Multiget, type DownloadOptions, StateFile } from '@multiget/core';
import { type HttpTestServer, generateContent, sha256, startHttpServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;

let server: HttpTestServer;
let dir: string;
let engines: Multiget[] = [];
let counter = 0;

beforeAll(async () => {
  server = await startHttpServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-http-trust-'));
});
afterEach(async () => {
  await Promise.all(engines.map((e) => e.close()));
  engines = [];
  await rm(dir, { recursive: true, force: true });
});

function engine(): Multiget {
  const mg = new Multiget({
    plugins: [new HttpPlugin({ useEnvProxy: false })],
    minSplitSize: 128 * KiB,
    checkpointIntervalMs: 50,
    progressIntervalMs: 20,
    retry: { baseDelayMs: 10, maxDelayMs: 100 },
  });
  engines.push(mg);
  return mg;
}

function hashOf(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Serves a fresh file under `name` (a path of its own) and returns its URL and content. */
function serve(name: string, size: number, extra: Parameters<HttpTestServer['addFile']>[2] = {}) {
  const path = `/${++counter}/${name}`;
  const content = { size, seed: counter };
  server.addFile(path, content, extra);
  return { path, content, url: server.url(path) };
}

/** Downloads a throttled file until at least `bytes` are on disk, then pauses it: a real state. */
async function partial(url: string, bytes: number, options: DownloadOptions = {}): Promise<Download> {
  const dl = engine().download(url, { dir, connections: 4, ...options });
  await new Promise<void>((resolve, reject) => {
    dl.on('progress', (p) => p.bytesDone >= bytes && resolve());
    dl.done.catch(reject);
  });
  await dl.pause();
  return dl;
}

describe('sidecar names a server chooses (item 1)', () => {
  it.each([
    ['Content-Disposition', 'f.bin.mgstate'],
    ['Content-Disposition', 'f.bin.mgpart'],
    ['Content-Disposition', 'F.BIN.MGLOCK'],
    ['Content-Disposition', 'f.bin.mgstate.tmp'],
    ['URL path', 'f.bin.mgstate'],
    ['URL path', 'f.bin.mgpart'],
  ])('a name from the %s like %s is renamed, and a later download of f.bin is exact', async (how, evilName) => {
    const real = serve('f.bin', 3 * MiB + 17);
    const me = real.url;
    // The attacker's state claims every byte of f.bin for its URL, without validators (what a
    // state of a server without ETag looks like), over a .mgpart of the attacker's bytes.
    const fakeState = JSON.stringify({
      format: 'multiget-state',
      version: 2,
      target: 'f.bin',
      url: me,
      finalUrl: me,
      size: real.content.size,
      ranges: true,
      validators: {},
      segments: [[0, real.content.size, real.content.size]],
      updatedAt: new Date().toISOString(),
    });
    const evilBytes = evilName.toLowerCase().includes('mgpart') ? Buffer.alloc(real.content.size, 0x41) : Buffer.from(fakeState);
    const evil =
      how === 'URL path'
        ? serve(evilName, evilBytes.length, {})
        : serve('innocent', evilBytes.length, { contentDisposition: `attachment; filename="${evilName}"` });
    server.replaceFile(evil.path, evilBytes);
    const got = await engine().download(evil.url, { dir }).done;
    expect(got.file.endsWith(`${evilName}_`)).toBe(true);
    expect(await readdir(dir)).toEqual([`${evilName}_`]);

    const result = await engine().download(me, { dir }).done;
    expect(hashOf(await readFile(result.file))).toBe(sha256(real.content));
    expect(result.resumed).toBe(false);
  });

  it('an explicit output named like a sidecar is refused (MG_ERR_INVALID_OPTION), nothing is written', async () => {
    const f = serve('x.bin', 64 * KiB);
    await expect(engine().download(f.url, { output: join(dir, 'x.bin.mgstate') }).done).rejects.toMatchObject({
      code: 'MG_ERR_INVALID_OPTION',
    });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('adopting a saved state (item 1)', () => {
  it('never adopts a state without validators: a server without ETag and Last-Modified starts over', async () => {
    const f = serve('nv.bin', 4 * MiB, { etag: false, lastModified: false, faults: { throttleBytesPerSec: 4 * MiB } });
    await partial(f.url, MiB);
    const state = JSON.parse(await readFile(join(dir, 'nv.bin.mgstate'), 'utf8'));
    expect(state.validators.etag).toBeUndefined();
    // Attacker's (or a disk's) bytes in place of the real ones: without a validator nothing proves them.
    await writeFile(join(dir, 'nv.bin.mgpart'), Buffer.alloc(4 * MiB, 0x41));
    server.setFaults(f.path, {});
    const dl = engine().download(f.url, { dir });
    const reasons: string[] = [];
    dl.on('restart', (r) => reasons.push(r.reason));
    const result = await dl.done;
    expect(hashOf(await readFile(result.file))).toBe(sha256(f.content));
    expect(result.resumed).toBe(false);
    expect(reasons.join('\n')).toMatch(/no validator/);
  });

  it('never adopts a state written for another file name', async () => {
    const f = serve('a.bin', 4 * MiB, { faults: { throttleBytesPerSec: 4 * MiB } });
    await partial(f.url, MiB);
    const state = JSON.parse(await readFile(join(dir, 'a.bin.mgstate'), 'utf8'));
    expect(state.target).toBe('a.bin');
    state.target = 'b.bin';
    await writeFile(join(dir, 'a.bin.mgstate'), JSON.stringify(state));
    await writeFile(join(dir, 'a.bin.mgpart'), Buffer.alloc(4 * MiB, 0x41));
    server.setFaults(f.path, {});
    const result = await engine().download(f.url, { dir }).done;
    expect(hashOf(await readFile(result.file))).toBe(sha256(f.content));
    expect(result.resumed).toBe(false);
  });
});

describe('a state whose segments do not cover the file (item 3)', () => {
  type Seg = [number, number, number];
  const tamper: Array<[string, (segs: Seg[], size: number) => Seg[]]> = [
    ['a segment missing (gap)', (s) => s.slice(0, 1).concat(s.slice(2))],
    ['overlapping segments', (s) => [[0, s[0]![1] + 1000, s[0]![2]] as Seg, ...s.slice(1)]],
    ['a segment past the end', (s, size) => [...s.slice(0, -1), [s.at(-1)![0], size + 4096, s.at(-1)![2]] as Seg]],
    ['a segment done past its length', (s) => [[s[0]![0], s[0]![1], s[0]![1] + 10] as Seg, ...s.slice(1)]],
    ['every byte claimed, over zeros', (s) => s.map(([a, b]) => [a, b, b] as Seg)],
  ];
  it.each(tamper)('%s: discarded with a restart event, the file ends exact', async (_what, edit) => {
    const size = 4 * MiB;
    const f = serve('g.bin', size, { faults: { throttleBytesPerSec: 4 * MiB } });
    await partial(f.url, MiB);
    const statePath = join(dir, 'g.bin.mgstate');
    const state = JSON.parse(await readFile(statePath, 'utf8'));
    expect(state.segments.length).toBeGreaterThanOrEqual(3);
    state.segments = edit(state.segments as Seg[], size);
    delete state.blocks; // the old shape of a state; block digests are tested on their own
    await writeFile(statePath, JSON.stringify(state));
    // Zero the data so that any byte trusted without cause shows up in the hash.
    await writeFile(join(dir, 'g.bin.mgpart'), Buffer.alloc(size));
    server.setFaults(f.path, {});
    const dl = engine().download(f.url, { dir });
    const reasons: string[] = [];
    dl.on('restart', (r) => reasons.push(r.reason));
    const result = await dl.done;
    expect(hashOf(await readFile(result.file))).toBe(sha256(f.content));
    expect(reasons.length).toBeGreaterThan(0);
  });
});

describe('links planted at the names Multiget creates (items 2 and 11)', () => {
  const names = ['.mgstate.tmp', '.mgpart', '.mglock', '.mgstate'] as const;

  it.each(names)('a hard link at NAME%s is never written through', async (suffix) => {
    const f = serve('h.bin', 2 * MiB, { faults: { throttleBytesPerSec: 4 * MiB } });
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'precious');
    await link(victim, join(dir, `h.bin${suffix}`));
    const result = await engine().download(f.url, { dir, connections: 4 }).done;
    expect(hashOf(await readFile(result.file))).toBe(sha256(f.content));
    expect(await readFile(victim, 'utf8')).toBe('precious');
  });

  it('a hard link at the target is replaced with --overwrite, never written through', async () => {
    const f = serve('t.bin', 512 * KiB);
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'precious');
    await link(victim, join(dir, 't.bin'));
    const result = await engine().download(f.url, { dir, existing: 'overwrite' }).done;
    expect(hashOf(await readFile(result.file))).toBe(sha256(f.content));
    expect(await readFile(victim, 'utf8')).toBe('precious');
  });

  it('a hard link planted at NAME.mgstate.tmp between checkpoints is not written through', async () => {
    const f = serve('m.bin', 3 * MiB, { faults: { throttleBytesPerSec: 1 * MiB } });
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'precious');
    const dl = engine().download(f.url, { dir, connections: 2 });
    await new Promise<void>((resolve) => dl.on('progress', (p) => p.bytesDone > 256 * KiB && resolve()));
    // The name exists only while a checkpoint writes it (50 ms apart here): plant it in a gap.
    let planted = false;
    for (let tries = 0; !planted && tries < 10_000; tries++) {
      planted = await link(victim, join(dir, 'm.bin.mgstate.tmp')).then(
        () => true,
        () => false,
      );
    }
    expect(planted).toBe(true);
    const result = await dl.done;
    expect(hashOf(await readFile(result.file))).toBe(sha256(f.content));
    expect(await readFile(victim, 'utf8')).toBe('precious');
  });

  it.each(names)('a symlink at NAME%s fails with MG_ERR_UNSAFE_PATH and is not followed', async (suffix) => {
    const f = serve('s.bin', 2 * MiB);
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'precious');
    await symlink(victim, join(dir, `s.bin${suffix}`));
    await expect(engine().download(f.url, { dir, output: join(dir, 's.bin') }).done).rejects.toMatchObject({
      code: 'MG_ERR_UNSAFE_PATH',
    });
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect((await lstat(join(dir, `s.bin${suffix}`))).isSymbolicLink()).toBe(true);
  });
});

describe('names Windows refuses (item 13)', () => {
  it.each([
    ['CON', '_CON'],
    ['nul.txt', '_nul.txt'],
    ['COM1.tar.gz', '_COM1.tar.gz'],
    ['lpt9', '_lpt9'],
    ['COM\u00b9.bin', '_COM\u00b9.bin'],
    ['conin$', '_conin$'],
    ['CONOUT$.log', '_CONOUT$.log'],
    ['report.pdf. . ', 'report.pdf'],
  ])('Content-Disposition %j is saved as %j', async (name, expected) => {
    const f = serve('w', 1000, { contentDisposition: `attachment; filename="${name}"` });
    const result = await engine().download(f.url, { dir }).done;
    expect(result.file).toBe(join(dir, expected));
    expect(await readFile(result.file)).toEqual(generateContent(f.content));
  });
});

describe('block digests of the partial file (item 4)', () => {
  it('records a digest per completed block, and a resumed run keeps the blocks that match', async () => {
    const size = 8 * MiB;
    const f = serve('b.bin', size, { faults: { throttleBytesPerSec: 6 * MiB } });
    await partial(f.url, 5 * MiB, { connections: 2 });
    const state = JSON.parse(await readFile(join(dir, 'b.bin.mgstate'), 'utf8'));
    expect(state.blocks.size).toBe(MiB);
    const digested = (state.blocks.digests as Array<string | null>).filter((d) => d !== null).length;
    expect(digested).toBeGreaterThanOrEqual(3);
    server.setFaults(f.path, {});
    server.resetLog();
    const dl = engine().download(f.url, { dir, connections: 2 });
    let resumedBytes = -1;
    dl.on('start', (e) => (resumedBytes = e.resumedBytes));
    const result = await dl.done;
    expect(hashOf(await readFile(result.file))).toBe(sha256(f.content));
    expect(result.resumed).toBe(true);
    expect(resumedBytes).toBeGreaterThanOrEqual(digested * MiB);
    // No range request (the probe's `bytes=0-` aside) starts inside a block the state vouched for.
    const digests = state.blocks.digests as Array<string | null>;
    for (const r of server.requests(f.path)) {
      const start = Number(/^bytes=(\d+)-/.exec(r.headers.range ?? '')?.[1] ?? 0);
      if (start > 0) expect(digests[Math.floor(start / MiB)]).toBeNull();
    }
  });

  it('fetches again exactly the blocks whose bytes changed on disk, and says which', async () => {
    const size = 8 * MiB;
    const f = serve('c.bin', size, { faults: { throttleBytesPerSec: 6 * MiB } });
    await partial(f.url, 5 * MiB, { connections: 2 });
    const state = JSON.parse(await readFile(join(dir, 'c.bin.mgstate'), 'utf8'));
    const i = (state.blocks.digests as Array<string | null>).findIndex((d) => d !== null);
    expect(i).toBeGreaterThanOrEqual(0);
    // A disk (or a hand) changes one byte inside a block the state vouches for.
    const part = await readFile(join(dir, 'c.bin.mgpart'));
    part[i * MiB + 12345]! ^= 0xff;
    await writeFile(join(dir, 'c.bin.mgpart'), part);
    server.setFaults(f.path, {});
    server.resetLog();
    const dl = engine().download(f.url, { dir, connections: 2 });
    const warnings: string[] = [];
    dl.on('warning', (w) => warnings.push(`${w.code}: ${w.message}`));
    const result = await dl.done;
    expect(hashOf(await readFile(result.file))).toBe(sha256(f.content));
    expect(warnings.join('\n')).toContain(`MG_WARN_BLOCKS_REFETCHED: bytes [${i * MiB}, ${(i + 1) * MiB})`);
    expect(server.requests(f.path).some((r) => r.headers.range?.startsWith(`bytes=${i * MiB}-`))).toBe(true);
  });

  it('a state that claims every byte over a partial file with holes refetches the holes', async () => {
    const size = 8 * MiB;
    const f = serve('d.bin', size, { faults: { throttleBytesPerSec: 6 * MiB } });
    await partial(f.url, 3 * MiB, { connections: 4 });
    const statePath = join(dir, 'd.bin.mgstate');
    const state = JSON.parse(await readFile(statePath, 'utf8'));
    state.segments = (state.segments as Array<[number, number, number]>).map(([a, b]) => [a, b, b]);
    await writeFile(statePath, JSON.stringify(state));
    server.setFaults(f.path, {});
    const result = await engine().download(f.url, { dir }).done;
    expect(hashOf(await readFile(result.file))).toBe(sha256(f.content));
  });

  it('a checksum mismatch names the ranges that changed on disk after they were received', async () => {
    const size = 4 * MiB;
    const f = serve('e.bin', size);
    const mg = new Multiget({
      plugins: [
        new HttpPlugin({ useEnvProxy: false }),
        {
          name: 'DiskRot',
          // A real plugin on the real hook: flips a byte of the finished file before it is verified.
          apply(host) {
            host.hooks.flush.tapPromise('DiskRot', async () => {
              const data = await readFile(join(dir, 'e.bin.mgpart'));
              data[2 * MiB + 7]! ^= 0x01;
              await writeFile(join(dir, 'e.bin.mgpart'), data);
            });
          },
        },
      ],
    });
    engines.push(mg);
    const good = createHash('sha256').update(generateContent(f.content)).digest('hex');
    const err = await mg.download(f.url, { dir, checksum: `sha256=${good}` }).done.catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'MG_ERR_CHECKSUM_MISMATCH' });
    expect((err as Error).message).toContain(`bytes [${2 * MiB}, ${3 * MiB}) changed on disk after they were received`);
  });

  it('a checksum mismatch of bytes received as sent says so', async () => {
    const f = serve('w.bin', 2 * MiB);
    const wrong = '0'.repeat(64);
    const err = await engine().download(f.url, { dir, checksum: `sha256=${wrong}` }).done.catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'MG_ERR_CHECKSUM_MISMATCH' });
    expect((err as Error).message).toContain('every block on disk is what was received');
  });
});

// A small file system of its own: tmpfs needs root to mount. Not root (a developer's machine): the
// space tests cannot run, and say why.
const isRoot = process.getuid?.() === 0;
describe.skipIf(!isRoot)('a disk that runs out of space (item 12; needs root to mount a tmpfs)', () => {
  let mnt: string;
  beforeEach(async () => {
    mnt = join(dir, 'small');
    await mkdir(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]);
  });
  afterEach(() => {
    execFileSync('umount', ['-l', mnt]);
  });

  it('of two downloads that each fit alone, the second sees the first one\'s reservation', async () => {
    const a = serve('a.bin', 5 * MiB, { faults: { throttleBytesPerSec: 8 * MiB } });
    const b = serve('b.bin', 5 * MiB, { faults: { throttleBytesPerSec: 8 * MiB } });
    const mg = engine();
    const first = mg.download(a.url, { dir: mnt });
    const second = mg.download(b.url, { dir: mnt });
    const [r1, r2] = await Promise.allSettled([first.done, second.done]);
    // Exactly one fits; the other fails at once, before writing a byte, and says why.
    const ok = [r1, r2].filter((r) => r.status === 'fulfilled');
    const failed = [r1, r2].filter((r) => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect((failed[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'MG_ERR_NO_SPACE' });
    expect(String((failed[0] as PromiseRejectedResult).reason.message)).toMatch(/promised to other running downloads/);
    const done = (ok[0] as PromiseFulfilledResult<{ file: string }>).value;
    expect(hashOf(await readFile(done.file))).toBe(sha256(done.file.endsWith('a.bin') ? a.content : b.content));
    expect((await readdir(mnt)).filter((n) => n.includes('.mg'))).toEqual([]);
  });

  it('a disk filled by someone else mid-download leaves a resumable partial file, which resumes', async () => {
    const f = serve('k.bin', 6 * MiB, { faults: { throttleBytesPerSec: 3 * MiB } });
    const dl = engine().download(f.url, { dir: mnt, connections: 2 });
    await new Promise<void>((resolve) => dl.on('progress', (p) => p.bytesDone > 1.5 * MiB && resolve()));
    // Another program takes what is left.
    const filler = join(mnt, 'filler');
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' });
    } catch {
      // dd stops with "No space left on device": that is the point.
    }
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_NO_SPACE' });
    const names = await readdir(mnt);
    expect(names).toContain('k.bin.mgpart');
    expect(names).not.toContain('k.bin.mgstate.tmp');
    const state = await new StateFile(join(mnt, 'k.bin.mgstate')).read();
    expect(state).not.toBe('corrupt');
    await rm(filler);
    server.setFaults(f.path, {});
    const again = engine().download(f.url, { dir: mnt, connections: 2 });
    let resumedBytes = 0;
    again.on('start', (e) => (resumedBytes = e.resumedBytes));
    const result = await again.done;
    expect(hashOf(await readFile(result.file))).toBe(sha256(f.content));
    expect(result.resumed).toBe(true);
    expect(resumedBytes).toBeGreaterThan(MiB);
  });

  it('a disk filled before the first checkpoint still leaves a state to resume from (written in place)', async () => {
    execFileSync('mount', ['-o', 'remount,size=16m', mnt]);
    const f = serve('e.bin', 10 * MiB, { faults: { throttleBytesPerSec: 4 * MiB } });
    // No checkpoint in this run but the one written at the start and the last one when it stops.
    const mg = new Multiget({
      plugins: [new HttpPlugin({ useEnvProxy: false })],
      minSplitSize: 128 * KiB,
      checkpointIntervalMs: 600_000,
      progressIntervalMs: 20,
    });
    engines.push(mg);
    const dl = mg.download(f.url, { dir: mnt, connections: 2 });
    await new Promise<void>((resolve) => dl.on('progress', (p) => p.bytesDone > 2 * MiB && resolve()));
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=64k'], { stdio: 'ignore' });
    } catch {
      // "No space left on device" is the point.
    }
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_NO_SPACE' });
    expect(await readdir(mnt)).not.toContain('e.bin.mgstate.tmp');
    const state = await new StateFile(join(mnt, 'e.bin.mgstate')).read();
    if (state === undefined || state === 'corrupt') throw new Error(`no usable state: ${String(state)}`);
    expect(state.segments.reduce((n, [a, , p]) => n + (p - a), 0)).toBeGreaterThan(MiB);
    await rm(join(mnt, 'filler'));
    server.setFaults(f.path, {});
    const result = await engine().download(f.url, { dir: mnt, connections: 2 }).done;
    expect(hashOf(await readFile(result.file))).toBe(sha256(f.content));
    expect(result.resumed).toBe(true);
  });

  it('a stream of unknown length that fills the disk leaves a valid state and no stray .mgstate.tmp', async () => {
    const f = serve('u.bin', 12 * MiB, { faults: { chunked: true } });
    await expect(engine().download(f.url, { dir: mnt }).done).rejects.toMatchObject({ code: 'MG_ERR_NO_SPACE' });
    const names = await readdir(mnt);
    expect(names.sort()).toEqual(['u.bin.mgpart', 'u.bin.mgstate']);
    const state = await new StateFile(join(mnt, 'u.bin.mgstate')).read();
    expect(state).not.toBe('corrupt');
    expect(state).toBeDefined();
    const claimed = (state as Exclude<typeof state, 'corrupt' | undefined>).segments[0]![2];
    expect(claimed).toBeGreaterThan(4 * MiB);
    // Every claimed full block has its digest: a server with ranges would resume from there.
    const blocks = (state as Exclude<typeof state, 'corrupt' | undefined>).blocks!;
    expect(blocks.digests.slice(0, Math.floor(claimed / blocks.size)).every((d) => d !== null)).toBe(true);
  });
});
