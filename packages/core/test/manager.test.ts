import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Manager, type EntrySnapshot, type ManagerOptions, type ManagerStore } from '../src/index.js';
import { MemoryPlugin, pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

const KiB = 1024;
const MiB = 1024 * KiB;
let dir: string;
let mem: MemoryPlugin;
const open: Manager[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-manager-'));
  mem = new MemoryPlugin();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
  await rm(dir, { recursive: true, force: true });
});

async function manager(options: ManagerOptions = {}): Promise<Manager> {
  const m = await Manager.open({
    plugins: [mem],
    minSplitSize: 128 * KiB,
    checkpointIntervalMs: 50,
    progressIntervalMs: 20,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    ...options,
    settings: { dir: join(dir, 'out'), ...options.settings },
  });
  open.push(m);
  return m;
}

function until(m: Manager, test: (e: EntrySnapshot) => boolean): Promise<EntrySnapshot> {
  return new Promise((resolve) => {
    const check = (e: EntrySnapshot): void => {
      if (test(e)) {
        m.off('changed', check);
        resolve(e);
      }
    };
    m.on('changed', check);
  });
}

describe('Manager', () => {
  it('runs at most maxConcurrent downloads at once and finishes them all with exact bytes', async () => {
    const files = [1, 2, 3, 4, 5].map((i) => {
      const data = pseudoRandom(512 * KiB, i);
      mem.put(`/f${i}.bin`, data, { chunkDelayMs: 2 });
      return data;
    });
    const m = await manager({ settings: { maxConcurrent: 2 } });
    let peak = 0;
    m.on('changed', () => {
      const active = m.list().filter((e) => ['probing', 'downloading', 'verifying'].includes(e.state)).length;
      peak = Math.max(peak, active);
    });
    for (let i = 1; i <= 5; i++) await m.add(`mem://h/f${i}.bin`);
    await m.idle();
    expect(peak).toBe(2);
    const list = m.list();
    expect(list.map((e) => e.state)).toEqual(Array(5).fill('completed'));
    for (let i = 0; i < 5; i++) {
      expect(sha256(await readFile(list[i]!.file!))).toBe(sha256(files[i]!));
    }
    expect(m.history()).toHaveLength(5);
    expect(m.history()[0]).toMatchObject({ state: 'completed', size: 512 * KiB });
  });

  it('starts queued downloads by priority, then by order of addition', async () => {
    for (const n of ['a', 'b', 'c', 'd']) mem.put(`/${n}`, pseudoRandom(256 * KiB), { chunkDelayMs: 2 });
    const m = await manager({ settings: { maxConcurrent: 1 } });
    const started: string[] = [];
    m.on('changed', (e) => {
      const name = e.url.split('/').pop()!;
      if (e.state === 'probing' && !started.includes(name)) started.push(name);
    });
    await m.add('mem://h/a');
    await m.add('mem://h/b');
    await m.add('mem://h/c', { priority: 5 });
    await m.add('mem://h/d', { priority: 1 });
    await m.idle();
    expect(started).toEqual(['a', 'c', 'd', 'b']);
  });

  it('reorders the queue with move()', async () => {
    for (const n of ['a', 'b', 'c']) mem.put(`/${n}`, pseudoRandom(128 * KiB));
    const m = await manager({ settings: { maxConcurrent: 1 } });
    const a = await m.add('mem://h/a');
    await m.pause(a.id);
    const b = await m.add('mem://h/b');
    await m.pause(b.id);
    const c = await m.add('mem://h/c');
    await m.pause(c.id);
    const order = await m.move(c.id, 0);
    expect(order.map((e) => e.url.split('/').pop())).toEqual(['c', 'a', 'b']);
  });

  it('returns the existing download for the same URL and target instead of a second writer', async () => {
    mem.put('/dup', pseudoRandom(MiB), { chunkDelayMs: 5 });
    const m = await manager();
    const first = await m.add('mem://h/dup');
    const second = await m.add('mem://h/dup');
    expect(second.id).toBe(first.id);
    expect(m.list()).toHaveLength(1);
    await m.idle();
  });

  it('pauses, resumes, and finishes with exact bytes', async () => {
    const data = pseudoRandom(2 * MiB, 3);
    mem.put('/p', data, { chunkDelayMs: 20 });
    const m = await manager();
    const e = await m.add('mem://h/p', { connections: 2 });
    await until(m, (x) => x.state === 'downloading');
    const paused = await m.pause(e.id);
    expect(paused.state).toBe('paused');
    await m.resume(e.id);
    await m.idle();
    const done = m.get(e.id);
    expect(done.state).toBe('completed');
    expect(sha256(await readFile(done.file!))).toBe(sha256(data));
  });

  it('cancels (deleting partial data), retries and removes', async () => {
    mem.put('/x', pseudoRandom(2 * MiB), { chunkDelayMs: 5 });
    const m = await manager();
    const e = await m.add('mem://h/x');
    await until(m, (x) => x.state === 'downloading');
    const c = await m.cancel(e.id);
    expect(c.state).toBe('canceled');
    expect(m.history()[0]).toMatchObject({ state: 'canceled', errorCode: 'MG_ERR_ABORTED' });
    await expect(m.retry(e.id)).resolves.toMatchObject({ state: expect.stringMatching(/queued|probing/) });
    await m.idle();
    expect(m.get(e.id).state).toBe('completed');
    await expect(m.retry(e.id)).rejects.toMatchObject({ code: 'MG_ERR_INVALID_STATE' });
    await m.remove(e.id);
    expect(m.list()).toEqual([]);
    expect(() => m.get(e.id)).toThrow(expect.objectContaining({ code: 'MG_ERR_UNKNOWN_DOWNLOAD' }));
  });

  it('records failures with their error code', async () => {
    const m = await manager();
    const e = await m.add('mem://h/missing');
    await m.idle();
    expect(m.get(e.id)).toMatchObject({ state: 'failed', error: { code: 'MG_ERR_NOT_FOUND' } });
    expect(m.history()[0]).toMatchObject({ state: 'failed', errorCode: 'MG_ERR_NOT_FOUND' });
    await m.clearHistory();
    expect(m.history()).toEqual([]);
  });

  it('adds a list with one write of the queue, in order, answering an unfinished download of the same URL and target once', async () => {
    const files = Array.from({ length: 30 }, (_, i) => {
      const data = pseudoRandom(64 * KiB, 100 + i);
      mem.put(`/many/${i}.bin`, data);
      return data;
    });
    const queueWrites: number[] = [];
    const docs = new Map<string, string>();
    const store: ManagerStore = {
      open: async () => undefined,
      close: async () => undefined,
      read: async (name) => (docs.has(name) ? JSON.parse(docs.get(name)!) : undefined),
      write: async (name, doc) => {
        if (name === 'queue') queueWrites.push((doc as { entries: unknown[] }).entries.length);
        docs.set(name, JSON.stringify(doc));
      },
    };
    const m = await manager({ store, settings: { maxConcurrent: 4 } });
    const announced: string[] = [];
    m.on('changed', (e) => {
      if (e.state === 'queued' && !announced.includes(e.id)) announced.push(e.id);
    });
    const urls = files.map((_, i) => `mem://h/many/${i}.bin`);
    const added = await m.addMany([...urls.map((url) => ({ url })), { url: urls[3]! }]);
    // The first write (before any download ran) holds the whole list.
    expect(queueWrites[0]).toBe(30);
    expect(added.map((e) => e.url)).toEqual([...urls, urls[3]]);
    expect(added[30]!.id).toBe(added[3]!.id);
    expect(new Set(added.map((e) => e.id)).size).toBe(30);
    expect(announced).toEqual(added.slice(0, 30).map((e) => e.id));
    await m.idle();
    for (const [i, data] of files.entries()) expect(sha256(await readFile(join(dir, 'out', `${i}.bin`)))).toBe(sha256(data));

    // One bad item: none is added, nothing written.
    const writes = queueWrites.length;
    await expect(m.addMany([{ url: 'mem://h/x1' }, { url: 'mem://h/x2', options: { connections: 0 } }])).rejects.toMatchObject({ code: 'MG_ERR_INVALID_OPTION' });
    await expect(m.addMany([{ url: 'mem://h/x1' }, { url: 'gopher://h/x2' }])).rejects.toMatchObject({ code: 'MG_ERR_UNSUPPORTED_PROTOCOL' });
    expect(m.list()).toHaveLength(30);
    expect(queueWrites.length).toBe(writes);
  });

  it('refuses URLs that are not downloads and bad options', async () => {
    const m = await manager();
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'data:text/plain,hi']) {
      await expect(m.add(url)).rejects.toMatchObject({ code: 'MG_ERR_UNSUPPORTED_PROTOCOL' });
    }
    await expect(m.add('http://h/a')).rejects.toMatchObject({ code: 'MG_ERR_UNSUPPORTED_PROTOCOL' });
    await expect(m.add('not a url')).rejects.toMatchObject({ code: 'MG_ERR_INVALID_URL' });
    await expect(m.add('mem://h/a', { connections: 0 })).rejects.toMatchObject({ code: 'MG_ERR_INVALID_OPTION' });
    await expect(m.add('mem://h/a', { checksum: 'md5=1' })).rejects.toMatchObject({ code: 'MG_ERR_INVALID_CHECKSUM' });
    await expect(m.add('mem://h/a', { headers: { 'x\r\n': 'v' } })).rejects.toMatchObject({ code: 'MG_ERR_INVALID_OPTION' });
    await expect(m.setSettings({ maxConcurrent: 0 })).rejects.toMatchObject({ code: 'MG_ERR_INVALID_OPTION' });
    expect(m.list()).toEqual([]);
  });

  it('survives a restart: unfinished downloads come back and finish with exact bytes', async () => {
    const data = pseudoRandom(4 * MiB, 8);
    mem.put('/r', data, { chunkDelayMs: 20 });
    const stateDir = join(dir, 'state');
    const m1 = await manager({ stateDir });
    const e = await m1.add('mem://h/r', { connections: 2, headers: { authorization: 'Bearer s3cret', 'x-plain': '1' } });
    await until(m1, (x) => x.state === 'downloading');
    await new Promise((r) => setTimeout(r, 100));
    await m1.close();
    const saved = await readFile(join(stateDir, 'queue.json'), 'utf8');
    expect(saved).not.toContain('s3cret');
    expect(saved).toContain('x-plain');
    const m2 = await manager({ stateDir });
    expect(m2.get(e.id).state).not.toBe('completed');
    // Its secret header stayed in m1's memory: it waits for it before it resumes.
    expect(m2.get(e.id)).toMatchObject({ state: 'paused', awaitingCredentials: true });
    await m2.resume(e.id, { headers: { authorization: 'Bearer s3cret' } });
    await m2.idle();
    const done = m2.get(e.id);
    expect(done.state).toBe('completed');
    expect(sha256(await readFile(done.file!))).toBe(sha256(data));
  });

  it('restores unfinished downloads paused when asked', async () => {
    mem.put('/q', pseudoRandom(MiB), { chunkDelayMs: 5 });
    const stateDir = join(dir, 'state');
    const m1 = await manager({ stateDir, settings: { maxConcurrent: 1 } });
    const e = await m1.add('mem://h/q');
    await m1.close();
    const m2 = await manager({ stateDir, restore: 'paused' });
    expect(m2.get(e.id).state).toBe('paused');
  });

  it('locks its state directory against a second process, and takes over a stale lock', async () => {
    const stateDir = join(dir, 'state');
    const first = await manager({ stateDir });
    await first.close();
    // A lock held by a live process (our parent stands in for another Multiget) is refused.
    await writeFile(join(stateDir, 'manager.lock'), JSON.stringify({ pid: process.ppid, host: (await import('node:os')).hostname() }));
    await expect(Manager.open({ stateDir })).rejects.toMatchObject({ code: 'MG_ERR_STATE_LOCKED' });
    // A lock left by a process that no longer exists is stale.
    await writeFile(join(stateDir, 'manager.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname() }));
    const again = await Manager.open({ stateDir, plugins: [mem] });
    open.push(again);
  });

  it('refuses a second manager of the same process on its state directory until it is closed, and one that failed to open leaves it free', async () => {
    mem.put('/x.bin', pseudoRandom(MiB), { chunkDelayMs: 5 });
    const stateDir = join(dir, 'state');
    const first = await manager({ stateDir });
    const item = await first.add('mem://h/x.bin');
    // Before, the lock file named this very process: the second took it over, and both wrote the queue.
    await expect(Manager.open({ stateDir, plugins: [mem] })).rejects.toMatchObject({ code: 'MG_ERR_STATE_LOCKED', message: expect.stringContaining('this process') });
    await expect(Manager.open({ stateDir: join(stateDir, '..', 'state'), plugins: [mem] })).rejects.toMatchObject({ code: 'MG_ERR_STATE_LOCKED' });
    await first.pause(item.id);
    await first.close();
    const second = await manager({ stateDir });
    expect(second.list().map((e) => [e.id, e.state])).toEqual([[item.id, 'paused']]);
    await second.close();
    // A directory that cannot be made (a file stands there) fails the open and is not kept as held.
    const blocked = join(dir, 'blocked');
    await writeFile(blocked, 'x');
    await expect(Manager.open({ stateDir: blocked, plugins: [mem] })).rejects.toMatchObject({ code: expect.stringMatching(/^MG_ERR_/) });
    await rm(blocked);
    const later = await manager({ stateDir: blocked });
    await later.close();
  });

  it('never lets a download exceed its rate limit', async () => {
    const size = 600 * KiB;
    mem.put('/slow', pseudoRandom(size));
    const m = await manager();
    const rate = 400 * KiB;
    const t0 = performance.now();
    await m.add('mem://h/slow', { rateLimit: rate });
    await m.idle();
    const seconds = (performance.now() - t0) / 1000;
    // The bucket allows a burst of a tenth of a second; everything else must wait its turn.
    expect(seconds).toBeGreaterThanOrEqual(((size - rate / 10) / rate) * 0.95);
  });
});

describe('Manager list housekeeping', () => {
  it('clearCompleted removes completed and cancelled downloads and their history, keeps failed and running ones and every file', async () => {
    mem.put('/done', pseudoRandom(256 * KiB, 1));
    mem.put('/cancel', pseudoRandom(2 * MiB, 2), { chunkDelayMs: 5 });
    mem.put('/paused', pseudoRandom(2 * MiB, 3), { chunkDelayMs: 20 });
    const stateDir = join(dir, 'state');
    const m = await manager({ stateDir });
    const done = await m.add('mem://h/done');
    const failed = await m.add('mem://h/missing');
    await m.idle();
    const canceled = await m.add('mem://h/cancel');
    await until(m, (x) => x.id === canceled.id && x.state === 'downloading');
    await m.cancel(canceled.id);
    const paused = await m.add('mem://h/paused');
    await m.pause(paused.id);
    const doneFile = m.get(done.id).file!;
    const removed: string[] = [];
    m.on('removed', (id) => removed.push(id));

    const ids = await m.clearCompleted();

    expect(new Set(ids)).toEqual(new Set([done.id, canceled.id]));
    expect(new Set(removed)).toEqual(new Set(ids));
    expect(m.list().map((e) => e.id).sort()).toEqual([failed.id, paused.id].sort());
    expect(m.history().map((h) => [h.id, h.state])).toEqual([[failed.id, 'failed']]);
    // The completed file is the user's: it stays on disk.
    expect(sha256(await readFile(doneFile))).toBe(sha256(pseudoRandom(256 * KiB, 1)));
    await m.close();
    const again = await manager({ stateDir, restore: 'paused' });
    expect(again.list().map((e) => e.id).sort()).toEqual([failed.id, paused.id].sort());
    expect(again.history().map((h) => h.id)).toEqual([failed.id]);
    await expect(again.clearCompleted()).resolves.toEqual([]);
  });

  it('setConnections validates, persists, and takes effect when the download next starts', async () => {
    const data = pseudoRandom(4 * MiB, 9);
    mem.put('/c', data, { chunkDelayMs: 20 });
    const stateDir = join(dir, 'state');
    const m = await manager({ stateDir });
    // The connections each run decided (its `connections` events), not a sample of the active
    // ones: a sample taken every few milliseconds can miss a short phase on a loaded machine.
    const targets: number[][] = [];
    m.on('started', (_entry, download) => {
      const run: number[] = [];
      targets.push(run);
      download.on('connections', (c) => run.push(c.target));
    });
    const e = await m.add('mem://h/c', { connections: 1 });
    await new Promise<void>((resolve) => {
      const seen = (entries: EntrySnapshot[]): void => {
        if (entries.some((x) => x.connections > 0)) {
          m.off('progress', seen);
          resolve();
        }
      };
      m.on('progress', seen);
    });
    await expect(m.setConnections(e.id, 0)).rejects.toMatchObject({ code: 'MG_ERR_INVALID_OPTION' });
    await expect(m.setConnections(e.id, 257)).rejects.toMatchObject({ code: 'MG_ERR_INVALID_OPTION' });
    await expect(m.setConnections('nope', 2)).rejects.toMatchObject({ code: 'MG_ERR_UNKNOWN_DOWNLOAD' });
    await m.setConnections(e.id, 4);
    expect(JSON.parse(await readFile(join(stateDir, 'queue.json'), 'utf8')).entries[0].options.connections).toBe(4);
    expect(Math.max(...targets.flat())).toBe(1);
    await m.pause(e.id);
    await m.resume(e.id);
    await m.idle();
    expect(Math.max(...targets.at(-1)!)).toBe(4);
    expect(sha256(await readFile(m.get(e.id).file!))).toBe(sha256(data));
  });
});

describe('Manager secrets', () => {
  it('holds a download restored without its credentials until a front-end gives them, then resumes it without a failure', async () => {
    const data = pseudoRandom(2 * MiB, 5);
    mem.put('/held', data, { chunkDelayMs: 10 });
    const probe = mem.probe.bind(mem);
    mem.probe = async (job) => {
      const c = job.options.credentials;
      if (!c || !('password' in c) || c.password !== 'pw') {
        const { DownloadError } = await import('../src/index.js');
        throw new DownloadError('MG_ERR_AUTH', 'password required');
      }
      return probe(job);
    };
    const stateDir = join(dir, 'state');
    const m1 = await manager({ stateDir });
    const e = await m1.add('mem://h/held', { connections: 2, credentials: { username: 'u', password: 'pw' } });
    const plain = await m1.add('mem://h/plain-never-there');
    for (let i = 0; i < 500 && m1.get(e.id).state !== 'downloading'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(m1.get(e.id).state).toBe('downloading');
    await m1.close();
    const m2 = await manager({ stateDir });
    const states: string[] = [];
    m2.on('changed', (x) => x.id === e.id && states.push(x.state));
    expect(m2.get(e.id)).toMatchObject({ state: 'paused', awaitingCredentials: true });
    // A download that was given no secrets resumes by itself, as before.
    expect(m2.get(plain.id).awaitingCredentials).toBe(false);
    expect(m2.get(plain.id).state).not.toBe('paused');
    await m2.resumeAll();
    expect(m2.get(e.id)).toMatchObject({ state: 'paused', awaitingCredentials: true });
    await m2.resume(e.id, { credentials: { username: 'u', password: 'pw' } });
    expect(m2.get(e.id).awaitingCredentials).toBe(false);
    await m2.idle();
    const done = m2.get(e.id);
    expect(done.state).toBe('completed');
    expect(states).not.toContain('failed');
    expect(sha256(await readFile(done.file!))).toBe(sha256(data));
  });

  it('keeps credentials in memory only, and takes them again on retry after a restart', async () => {
    const data = pseudoRandom(300 * KiB, 4);
    mem.put('/private', data, { chunkDelayMs: 5 });
    // The server wants a password: the memory plugin, told so.
    const probe = mem.probe.bind(mem);
    mem.probe = async (job) => {
      const c = job.options.credentials;
      if (!c || !('password' in c) || c.password !== 'pw') {
        const { DownloadError } = await import('../src/index.js');
        throw new DownloadError('MG_ERR_AUTH', 'password required');
      }
      return probe(job);
    };
    const stateDir = join(dir, 'state');
    const m1 = await manager({ stateDir, settings: { maxConcurrent: 1 } });
    // A queued download (paused so it does not start) with its credentials...
    const e = await m1.add('mem://h/private', { credentials: { username: 'u', password: 'pw' } });
    await m1.pause(e.id);
    await m1.close();
    expect(await readFile(join(stateDir, 'queue.json'), 'utf8')).not.toContain('pw');
    // ...comes back after a restart without them, and fails when resumed.
    const m2 = await manager({ stateDir });
    await m2.resume(e.id);
    await m2.idle();
    expect(m2.get(e.id)).toMatchObject({ state: 'failed', error: { code: 'MG_ERR_AUTH' } });
    await m2.retry(e.id, { credentials: { username: 'u', password: 'pw' } });
    await m2.idle();
    const done = m2.get(e.id);
    expect(done.state).toBe('completed');
    expect(sha256(await readFile(done.file!))).toBe(sha256(data));
  });

  it('expands ~ in stateDir and dir to the home directory, and refuses ~user', async () => {
    const home = join(dir, 'home');
    const savedHome = process.env['HOME'];
    process.env['HOME'] = home;
    try {
      const data = pseudoRandom(256 * KiB, 21);
      mem.put('/home.bin', data);
      const m = await manager({ stateDir: '~/.local/state/multiget' });
      const done = until(m, (e) => e.state === 'completed');
      await m.add('mem://host/home.bin', { dir: '~/downloads' });
      await done;
      expect(sha256(await readFile(join(home, 'downloads', 'home.bin')))).toBe(sha256(data));
      await m.close();
      expect(await readdir(join(home, '.local', 'state', 'multiget'))).not.toEqual([]);
      expect(existsSync(join(process.cwd(), '~'))).toBe(false);
      await expect(Manager.open({ stateDir: '~bob/state' })).rejects.toMatchObject({ code: 'MG_ERR_INVALID_OPTION' });
    } finally {
      if (savedHome === undefined) delete process.env['HOME'];
      else process.env['HOME'] = savedHome;
    }
  });
});
