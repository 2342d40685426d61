import { lstat, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, Multiget, NetworkError, SegmentPlanner, allAtOnce, type DownloadOptions, type Plugin } from '../src/index.js';
import { MemoryPlugin, pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

let dir: string;
let mem: MemoryPlugin;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-engine-'));
  mem = new MemoryPlugin();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MiB = 1024 * 1024;

function engine(extra: ConstructorParameters<typeof Multiget>[0] = {}): Multiget {
  return new Multiget({
    plugins: [mem],
    minSplitSize: 256 * 1024,
    checkpointIntervalMs: 50,
    progressIntervalMs: 20,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    ...extra,
  });
}

async function fetchFile(url: string, options: DownloadOptions = {}, mg = engine()) {
  const dl = mg.download(url, { dir, ...options });
  const result = await dl.done;
  return { dl, result, data: await readFile(result.file) };
}

describe('engine', () => {
  it('downloads with several connections into the exact bytes, leaving no bookkeeping behind', async () => {
    const data = pseudoRandom(5 * MiB);
    mem.put('/five.bin', data);
    const { result, data: got } = await fetchFile('mem://host/five.bin', { connections: 4 });
    expect(sha256(got)).toBe(sha256(data));
    expect(result).toMatchObject({ size: data.length, resumed: false, restarts: 0, verified: false });
    expect(await readdir(dir)).toEqual(['five.bin']);
    expect(new Set(mem.fetches.map((f) => f.start)).size).toBeGreaterThanOrEqual(4);
  });

  it('removes a new state file a crash left unrenamed, and every sidecar of a download that checkpointed', async () => {
    // A crash between creating NAME.mgstate.tmp and renaming it leaves only the temporary (no .mgstate).
    const small = pseudoRandom(64 * 1024, 3);
    mem.put('/left.bin', small);
    await writeFile(join(dir, 'left.bin.mgstate.tmp'), '{"half": ');
    await fetchFile('mem://host/left.bin');
    expect(await readdir(dir)).toEqual(['left.bin']);
    // Long enough to write its state file before the first byte (and to checkpoint): nothing is left either.
    const big = pseudoRandom(9 * MiB, 4);
    mem.put('/big.bin', big);
    const { data } = await fetchFile('mem://host/big.bin', { connections: 2 });
    expect(sha256(data)).toBe(sha256(big));
    expect((await readdir(dir)).sort()).toEqual(['big.bin', 'left.bin']);
  });

  it('lets an idle connection take half of a slow connection\'s segment', async () => {
    const data = pseudoRandom(4 * MiB, 7);
    // The segment starting at 0 crawls; the others finish and must split it.
    mem.put('/slow.bin', data, { slowStartOffsets: new Set([0]) });
    const { data: got } = await fetchFile('mem://host/slow.bin', { connections: 4 });
    expect(sha256(got)).toBe(sha256(data));
    const splits = mem.fetches.filter((f) => f.start > 0 && f.start < MiB);
    expect(splits.length).toBeGreaterThan(0);
  });

  it('uses one connection for a file smaller than two split sizes', async () => {
    mem.put('/small.bin', pseudoRandom(300 * 1024));
    await fetchFile('mem://host/small.bin', { connections: 8 });
    expect(mem.fetches).toHaveLength(1);
  });

  it('downloads an empty file', async () => {
    mem.put('/empty', Buffer.alloc(0));
    const { data, result } = await fetchFile('mem://host/empty');
    expect(data.length).toBe(0);
    expect(result.size).toBe(0);
  });

  it('downloads a file of unknown size in one stream', async () => {
    const data = pseudoRandom(700 * 1024, 3);
    mem.put('/stream', data, { unknownSize: true });
    const { data: got, result } = await fetchFile('mem://host/stream', { connections: 8 });
    expect(sha256(got)).toBe(sha256(data));
    expect(result.size).toBe(data.length);
    expect(mem.fetches).toHaveLength(1);
  });

  it('reports progress that ends at the total', async () => {
    mem.put('/p.bin', pseudoRandom(2 * MiB));
    const mg = engine();
    const dl = mg.download('mem://host/p.bin', { dir });
    const seen: number[] = [];
    dl.on('progress', (p) => seen.push(p.bytesDone));
    await dl.done;
    expect(seen.at(-1)).toBe(2 * MiB);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(dl.state).toBe('completed');
  });

  it('pauses with a state file and resumes without fetching the done bytes again', async () => {
    const data = pseudoRandom(8 * MiB, 11);
    mem.put('/big.bin', data, { chunkDelayMs: 10 });
    const mg = engine();
    const dl = mg.download('mem://host/big.bin', { dir, connections: 4 });
    await new Promise<void>((resolve) => dl.on('progress', (p) => p.bytesDone > 2 * MiB && resolve()));
    await dl.pause();
    expect(dl.state).toBe('paused');
    const names = await readdir(dir);
    expect(names.sort()).toEqual(['big.bin.mgpart', 'big.bin.mgstate']);
    const state = JSON.parse(await readFile(join(dir, 'big.bin.mgstate'), 'utf8'));
    expect(state.url).toBe('mem://host/big.bin');
    const servedBefore = mem.bytesServed;
    dl.resume();
    const result = await dl.done;
    expect(sha256(await readFile(result.file))).toBe(sha256(data));
    expect(result.resumed).toBe(true);
    expect(mem.bytesServed - servedBefore).toBeLessThan(data.length);
  });

  it('fails at once when the host refuses its first connection, and retries a host that answered before', async () => {
    let refuse = true;
    let probes = 0;
    class Flaky extends MemoryPlugin {
      override async probe(job: Parameters<MemoryPlugin['probe']>[0]) {
        probes++;
        if (refuse) throw new NetworkError(ErrorCodes.CONNECT, 'Cannot connect: ECONNREFUSED', { errno: 'ECONNREFUSED' });
        return super.probe(job);
      }
    }
    const flaky = new Flaky();
    flaky.put('/a.bin', pseudoRandom(64 * 1024, 1));
    const mg = engine({ plugins: [flaky] });
    await expect(mg.download('mem://host/a.bin', { dir }).done).rejects.toMatchObject({ code: 'MG_ERR_CONNECT' });
    expect(probes).toBe(1);
    refuse = false;
    await mg.download('mem://host/a.bin', { dir }).done;
    // The host answered once: its refusals are now a restart to wait out.
    refuse = true;
    probes = 0;
    const retried = mg.download('mem://host/a.bin', { dir, retries: 2 });
    await expect(retried.done).rejects.toMatchObject({ code: 'MG_ERR_CONNECT' });
    expect(probes).toBe(3);
  });

  it('stays paused when paused before it started, and downloads on resume', async () => {
    const data = pseudoRandom(MiB, 3);
    mem.put('/early.bin', data);
    const mg = engine();
    const dl = mg.download('mem://host/early.bin', { dir });
    const states: string[] = [];
    dl.on('state', (s) => states.push(s));
    await dl.pause();
    expect(dl.state).toBe('paused');
    // Long enough for the 1 MiB download to finish had it started (it takes a few ms here).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(dl.state).toBe('paused');
    expect(mem.fetches).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
    dl.resume();
    const result = await dl.done;
    expect(sha256(await readFile(result.file))).toBe(sha256(data));
    expect(states[0]).toBe('paused');
    expect(states.at(-1)).toBe('completed');
  });

  it('cancels a download paused before it started', async () => {
    mem.put('/never.bin', pseudoRandom(MiB, 4));
    const dl = engine().download('mem://host/never.bin', { dir });
    await dl.pause();
    await dl.cancel();
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_ABORTED' });
    expect(dl.state).toBe('canceled');
    expect(mem.fetches).toEqual([]);
  });

  it('resumes in a new engine (a new process) from the state file', async () => {
    const data = pseudoRandom(6 * MiB, 5);
    mem.put('/r.bin', data, { chunkDelayMs: 10 });
    const first = engine();
    const ctl = new AbortController();
    const dl = first.download('mem://host/r.bin', { dir, signal: ctl.signal });
    await new Promise<void>((resolve) => dl.on('progress', (p) => p.bytesDone > MiB && resolve()));
    ctl.abort();
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_ABORTED' });
    const { result, data: got } = await fetchFile('mem://host/r.bin', {}, engine());
    expect(result.resumed).toBe(true);
    expect(sha256(got)).toBe(sha256(data));
  });

  it('starts over when the remote file changed between runs, and says so', async () => {
    mem.put('/c.bin', pseudoRandom(4 * MiB, 1), { chunkDelayMs: 10 });
    const ctl = new AbortController();
    const dl = engine().download('mem://host/c.bin', { dir, signal: ctl.signal });
    await new Promise<void>((resolve) => dl.on('progress', (p) => p.bytesDone > MiB && resolve()));
    ctl.abort();
    await dl.done.catch(() => undefined);
    const v2 = pseudoRandom(4 * MiB, 2);
    mem.put('/c.bin', v2);
    const again = engine().download('mem://host/c.bin', { dir });
    const reasons: string[] = [];
    again.on('restart', (r) => reasons.push(r.reason));
    const result = await again.done;
    expect(reasons.join()).toMatch(/changed/);
    expect(result.resumed).toBe(false);
    expect(sha256(await readFile(result.file))).toBe(sha256(v2));
  });

  it('starts over when the remote changes mid-download', async () => {
    const v1 = pseudoRandom(4 * MiB, 1);
    mem.put('/m.bin', v1, { chunkDelayMs: 10 });
    const dl = engine().download('mem://host/m.bin', { dir, connections: 4 });
    let swapped = false;
    const v2 = pseudoRandom(4 * MiB, 9);
    dl.on('progress', (p) => {
      if (!swapped && p.bytesDone > MiB) {
        swapped = true;
        mem.put('/m.bin', v2);
      }
    });
    const restarts: string[] = [];
    dl.on('restart', (r) => restarts.push(r.reason));
    const result = await dl.done;
    expect(restarts.length).toBeGreaterThanOrEqual(1);
    expect(result.restarts).toBeGreaterThanOrEqual(1);
    expect(sha256(await readFile(result.file))).toBe(sha256(v2));
  });

  it('retries retryable failures and reports each retry', async () => {
    const data = pseudoRandom(MiB);
    mem.put('/flaky.bin', data, { failFetches: { count: 2, code: 'MG_ERR_CONNECTION_RESET' } });
    const dl = engine().download('mem://host/flaky.bin', { dir, connections: 1 });
    const retries: string[] = [];
    dl.on('retry', (r) => retries.push(r.error.code));
    const result = await dl.done;
    expect(retries).toEqual(['MG_ERR_CONNECTION_RESET', 'MG_ERR_CONNECTION_RESET']);
    expect(sha256(await readFile(result.file))).toBe(sha256(data));
  });

  it('fails at once on an error retrying cannot fix', async () => {
    mem.put('/denied', pseudoRandom(1000), { failFetches: { count: 100, code: 'MG_ERR_FORBIDDEN' } });
    const dl = engine().download('mem://host/denied', { dir });
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_FORBIDDEN' });
    expect(dl.state).toBe('failed');
    expect(mem.fetches).toHaveLength(1);
  });

  it('gives up after the retry limit with the last error', async () => {
    mem.put('/down', pseudoRandom(1000), { failFetches: { count: 100, code: 'MG_ERR_SERVER' } });
    const dl = engine().download('mem://host/down', { dir, retries: 2 });
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_SERVER' });
    expect(mem.fetches).toHaveLength(3);
  });

  it('verifies a matching checksum and reports it', async () => {
    const data = pseudoRandom(MiB);
    mem.put('/ok.bin', data);
    const { result } = await fetchFile('mem://host/ok.bin', { checksum: `sha256=${sha256(data)}` });
    expect(result.verified).toBe(true);
    expect(result.digest).toMatchObject({ algorithm: 'sha256', source: 'user' });
  });

  it('fails a checksum mismatch and leaves no complete-looking file', async () => {
    mem.put('/bad.bin', pseudoRandom(MiB));
    const dl = engine().download('mem://host/bad.bin', { dir, checksum: `sha256=${'0'.repeat(64)}` });
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_CHECKSUM_MISMATCH' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('checks a digest the server announced', async () => {
    mem.put('/srv.bin', pseudoRandom(1000), { digest: '1'.repeat(64) });
    const dl = engine().download('mem://host/srv.bin', { dir });
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_CHECKSUM_MISMATCH' });
  });

  it('never overwrites an explicit output that exists, unless asked', async () => {
    mem.put('/x.bin', pseudoRandom(1000));
    const out = join(dir, 'mine.txt');
    await writeFile(out, 'precious');
    const dl = engine().download('mem://host/x.bin', { output: out });
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_FILE_EXISTS' });
    expect(await readFile(out, 'utf8')).toBe('precious');
    const { data } = await fetchFile('mem://host/x.bin', { output: out, overwrite: true });
    expect(data.length).toBe(1000);
  });

  it('numbers the name when a server-named file exists', async () => {
    mem.put('/same.tar.gz', pseudoRandom(1000));
    await writeFile(join(dir, 'same.tar.gz'), 'old');
    const { result } = await fetchFile('mem://host/same.tar.gz');
    expect(result.file).toBe(join(dir, 'same.tar.1.gz'));
    expect(await readFile(join(dir, 'same.tar.gz'), 'utf8')).toBe('old');
  });

  it('refuses a symlink planted at the temporary path', async () => {
    mem.put('/t.bin', pseudoRandom(1000));
    const victim = join(dir, 'victim');
    await writeFile(victim, 'precious');
    await symlink(victim, join(dir, 't.bin.mgpart'));
    const dl = engine().download('mem://host/t.bin', { dir });
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_UNSAFE_PATH' });
    expect(await readFile(victim, 'utf8')).toBe('precious');
  });

  it('replaces a symlink at the target only with --overwrite, never writing through it', async () => {
    mem.put('/s.bin', pseudoRandom(1000));
    const victim = join(dir, 'victim');
    await writeFile(victim, 'precious');
    await symlink(victim, join(dir, 'out'));
    await expect(engine().download('mem://host/s.bin', { output: join(dir, 'out') }).done).rejects.toMatchObject({
      code: 'MG_ERR_FILE_EXISTS',
    });
    await fetchFile('mem://host/s.bin', { output: join(dir, 'out'), overwrite: true });
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect((await lstat(join(dir, 'out'))).isFile()).toBe(true);
  });

  it('cancel() deletes the partial data', async () => {
    mem.put('/cancel.bin', pseudoRandom(8 * MiB), { chunkDelayMs: 10 });
    const dl = engine().download('mem://host/cancel.bin', { dir });
    await new Promise<void>((resolve) => dl.on('progress', (p) => p.bytesDone > MiB && resolve()));
    await dl.cancel();
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_ABORTED' });
    expect(dl.state).toBe('canceled');
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails with MG_ERR_NO_SPACE before writing when the file cannot fit', async () => {
    const mg = engine();
    mem.put('/huge', Buffer.alloc(1));
    // Claim a size no disk has; the engine must check before allocating anything.
    mg.hooks.probe.tap('HugeSize', (info) => ({ ...info, size: 2 ** 52, validators: {} }));
    const dl = mg.download('mem://host/huge', { dir });
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_NO_SPACE' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails with MG_ERR_NOT_WRITABLE for a directory that does not exist', async () => {
    mem.put('/a', pseudoRandom(10));
    const dl = engine().download('mem://host/a', { output: join(dir, 'missing', 'a') });
    await expect(dl.done).rejects.toMatchObject({ code: 'MG_ERR_NOT_WRITABLE' });
  });

  it('rejects malformed URLs and bad options at once, unknown schemes through done', async () => {
    const mg = engine();
    expect(() => mg.download('not a url')).toThrow(expect.objectContaining({ code: 'MG_ERR_INVALID_URL' }));
    expect(() => mg.download('mem://h/a', { connections: 0 })).toThrow(
      expect.objectContaining({ code: 'MG_ERR_INVALID_OPTION' }),
    );
    expect(() => mg.download('mem://h/a', { checksum: 'sha256=zz' })).toThrow(
      expect.objectContaining({ code: 'MG_ERR_INVALID_CHECKSUM' }),
    );
    await expect(mg.download('gopher://h/a', { dir }).done).rejects.toMatchObject({
      code: 'MG_ERR_UNSUPPORTED_PROTOCOL',
    });
  });

  it('lets a caller replace a built-in plugin', async () => {
    mem.put('/one.bin', pseudoRandom(4 * MiB));
    const onePiece: Plugin = {
      name: 'OnePiece',
      apply(e) {
        e.hooks.plan.tap('OnePiece', (segs, job) => [{ id: 0, start: 0, end: job.size ?? Infinity, pos: 0 }]);
      },
    };
    const mg = engine({ defaultPlugins: (d) => [...d.filter((p) => !(p instanceof SegmentPlanner)), onePiece] });
    await fetchFile('mem://host/one.bin', { connections: 1 }, mg);
    expect(mem.fetches).toEqual([{ start: 0, end: 4 * MiB - 1 }]);
  });

  it('takes the connections from the plan: a planner that cuts eight pieces for three connections gets three', async () => {
    mem.put('/eight.bin', pseudoRandom(4 * MiB, 8), { chunkDelayMs: 2 });
    const eightForThree: Plugin = {
      name: 'EightForThree',
      apply(e) {
        e.hooks.plan.tap('EightForThree', (segs, job) => {
          job.connections = 3;
          const piece = (job.size ?? 0) / 8;
          return Array.from({ length: 8 }, (_, id) => ({ id, start: id * piece, end: (id + 1) * piece, pos: id * piece }));
        });
      },
    };
    const mg = engine({ connectionPolicy: allAtOnce, defaultPlugins: (d) => [...d.filter((p) => !(p instanceof SegmentPlanner)), eightForThree] });
    const dl = mg.download('mem://host/eight.bin', { dir, connections: 8 });
    const ceilings = new Set<number>();
    const open = new Set<number>();
    let most = 0;
    dl.on('connections', (c) => ceilings.add(c.ceiling));
    dl.on('rangeStart', (r) => {
      open.add(r.connection);
      most = Math.max(most, open.size);
    });
    dl.on('rangeEnd', (r) => open.delete(r.connection));
    await dl.done;
    expect([...ceilings]).toEqual([3]);
    expect(most).toBe(3);
    expect(new Set(mem.fetches.map((f) => f.start)).size).toBeGreaterThanOrEqual(8);
  });

  it('derives the connections when a planner sets a count that is not one (0, NaN, 2.5, Infinity, 1000)', async () => {
    for (const [i, bad] of [0, Number.NaN, 2.5, Number.POSITIVE_INFINITY, 1000].entries()) {
      const name = `/bad${i}.bin`;
      mem.put(name, pseudoRandom(2 * MiB, 20 + i));
      const badCount: Plugin = {
        name: 'BadCount',
        apply(e) {
          e.hooks.plan.tap('BadCount', (segs, job) => {
            job.connections = bad;
            return segs;
          });
        },
      };
      const mg = engine({ connectionPolicy: allAtOnce, plugins: [mem, badCount] });
      const dl = mg.download(`mem://host${name}`, { dir, connections: 4 });
      const ceilings = new Set<number>();
      dl.on('connections', (c) => ceilings.add(c.ceiling));
      const result = await dl.done;
      expect(result.size).toBe(2 * MiB);
      // What the options allow for 2 MiB in 256 KiB pieces: the 4 connections asked for.
      expect([...ceilings]).toEqual([4]);
    }
  });
});

describe('engine: one writer per file', () => {
  it('never lets two downloads of one engine write the same target', async () => {
    mem.put('/one.bin', pseudoRandom(2 * MiB), { chunkDelayMs: 10 });
    mem.put('/two.bin', pseudoRandom(2 * MiB, 2), { chunkDelayMs: 10 });
    const mg = engine();
    const out = join(dir, 'same.bin');
    const a = mg.download('mem://host/one.bin', { output: out });
    const b = mg.download('mem://host/two.bin', { output: out });
    const [ra, rb] = await Promise.allSettled([a.done, b.done]);
    const outcomes = [ra.status, rb.status].sort();
    expect(outcomes).toEqual(['fulfilled', 'rejected']);
    const rejected = (ra.status === 'rejected' ? ra : rb) as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: 'MG_ERR_FILE_EXISTS' });
  });

  it('gives a second server-named download of the same name a numbered file', async () => {
    mem.put('/n.bin', pseudoRandom(2 * MiB), { chunkDelayMs: 10 });
    const mg = engine();
    const [a, b] = await Promise.all([
      mg.download('mem://host/n.bin', { dir }).done,
      mg.download('mem://host/n.bin?x=1', { dir }).done,
    ]);
    expect(new Set([a.file, b.file])).toEqual(new Set([join(dir, 'n.bin'), join(dir, 'n.1.bin')]));
  });
});

describe('engine: one writer per file across processes', () => {
  it('refuses a target another live process is downloading, and takes over a stale lock', async () => {
    mem.put('/locked.bin', pseudoRandom(300 * 1024));
    const { hostname } = await import('node:os');
    const lockPath = join(dir, 'locked.bin.mglock');
    // Our parent process stands in for another multiget that is alive.
    await writeFile(lockPath, JSON.stringify({ pid: process.ppid, host: hostname(), detail: 'mem://host/locked.bin' }));
    const refused = engine().download('mem://host/locked.bin', { output: join(dir, 'locked.bin') });
    await expect(refused.done).rejects.toMatchObject({ code: 'MG_ERR_FILE_EXISTS', message: expect.stringMatching(/another process/) });
    // A lock left by a process that was killed is stale.
    await writeFile(lockPath, JSON.stringify({ pid: 2 ** 22 + 4321, host: hostname() }));
    const { result } = await fetchFile('mem://host/locked.bin', { output: join(dir, 'locked.bin') });
    expect(result.size).toBe(300 * 1024);
    expect((await readdir(dir)).sort()).toEqual(['locked.bin']);
  });

  it('gives a server-named download another name when a process downloads a different URL to it', async () => {
    mem.put('/named.bin', pseudoRandom(1000));
    const { hostname } = await import('node:os');
    await writeFile(join(dir, 'named.bin.mglock'), JSON.stringify({ pid: process.ppid, host: hostname(), detail: 'http://elsewhere/named.bin' }));
    const { result } = await fetchFile('mem://host/named.bin');
    expect(result.file).toBe(join(dir, 'named.1.bin'));
  });
});
