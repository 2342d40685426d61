// The manager's side of mirrors: the option is checked, passed to the engine, and saved without
// the userinfo of a mirror URL (which stays in memory, like credentials).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Manager, type EntrySnapshot, type Job, type RangeRequest } from '../src/index.js';
import { MemoryPlugin, pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A mem:// plugin that records which host each range request went to. */
class HostRecordingPlugin extends MemoryPlugin {
  readonly hosts: string[] = [];
  /** The user name of each range request to the host `mirror`. */
  readonly mirrorUsers: string[] = [];
  override async fetchRange(req: RangeRequest, job: Job) {
    this.hosts.push(job.url.host);
    if (job.url.host === 'mirror') this.mirrorUsers.push(job.url.username);
    return super.fetchRange(req, job);
  }
}

let dir: string;
let mem: HostRecordingPlugin;
let m: Manager | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-manager-mirrors-'));
  mem = new HostRecordingPlugin();
});
afterEach(async () => {
  await m?.close();
  m = undefined;
  await rm(dir, { recursive: true, force: true });
});

function finished(manager: Manager, id: string): Promise<EntrySnapshot> {
  return new Promise((resolve) => {
    const check = (e: EntrySnapshot): void => {
      if (e.id === id && (e.state === 'completed' || e.state === 'failed')) resolve(e);
    };
    manager.on('changed', check);
  });
}

describe('manager: mirrors', () => {
  it('reads from the mirrors and saves them without their userinfo', async () => {
    const stateDir = join(dir, 'state');
    m = await Manager.open({
      stateDir,
      plugins: [mem],
      minSplitSize: 128 * KiB,
      checkpointIntervalMs: 50,
      settings: { dir: join(dir, 'out') },
    });
    const data = pseudoRandom(4 * MiB, 5);
    mem.put('/file.bin', data, { chunkDelayMs: 1 });
    const added = await m.add('mem://main/file.bin', { connections: 4, mirrors: ['mem://user:s3cret@mirror/file.bin'] });
    const saved = await readFile(join(stateDir, 'queue.json'), 'utf8');
    expect(saved).toContain('mem://mirror/file.bin');
    expect(saved).not.toContain('s3cret');
    const done = await finished(m, added.id);
    expect(done.state).toBe('completed');
    expect(sha256(await readFile(done.file!))).toBe(sha256(data));
    expect(mem.hosts).toContain('mirror');
    expect(mem.hosts).toContain('main');
  });

  it('still holds a mirror userinfo back after updateUrl: a restart waits for it rather than running without it', async () => {
    // updateUrl worked out "has secrets" from the URL, credentials and headers only, so a download
    // given a new link of the same origin lost the flag its mirror userinfo had set: after a
    // restart it ran against the mirror without the userinfo instead of waiting for it.
    const stateDir = join(dir, 'state');
    const open = (): Promise<Manager> => Manager.open({ stateDir, plugins: [mem], settings: { dir: join(dir, 'out') } });
    m = await open();
    mem.put('/file.bin', pseudoRandom(4 * MiB, 6), { chunkDelayMs: 5 });
    mem.put('/file2.bin', pseudoRandom(4 * MiB, 6), { chunkDelayMs: 5 });
    const added = await m.add('mem://main/file.bin', { noCache: true, mirrors: ['mem://user:s3cret@mirror/file.bin'] });
    await m.pause(added.id);
    await m.updateUrl(added.id, 'mem://main/file2.bin');
    expect(await readFile(join(stateDir, 'queue.json'), 'utf8')).toContain('"secret":true');
    await m.close();
    m = await open();
    expect(m.get(added.id)).toMatchObject({ state: 'paused', awaitingCredentials: true });
  });

  it("keeps a mirror's userinfo when updateUrl moves the download to another origin: it only ever goes to that mirror", async () => {
    // updateUrl dropped every secret on a change of origin, mirror userinfo included, so the
    // mirror (whose URL did not change) was then asked without it.
    m = await Manager.open({ plugins: [mem], minSplitSize: 128 * KiB, settings: { dir: join(dir, 'out') } });
    const data = pseudoRandom(4 * MiB, 7);
    mem.put('/file.bin', data, { chunkDelayMs: 1 });
    const added = await m.add('mem://main/file.bin', { noCache: true, connections: 4, mirrors: ['mem://user:s3cret@mirror/file.bin'] });
    await m.pause(added.id);
    mem.mirrorUsers.length = 0;
    await m.updateUrl(added.id, 'mem://moved/file.bin');
    const done = await finished(m, added.id);
    expect(done.state).toBe('completed');
    expect(sha256(await readFile(done.file!))).toBe(sha256(data));
    expect(mem.mirrorUsers.length).toBeGreaterThan(0);
    expect(new Set(mem.mirrorUsers)).toEqual(new Set(['user']));
  });

  it('refuses a malformed mirror list', async () => {
    m = await Manager.open({ plugins: [mem], settings: { dir } });
    await expect(m.add('mem://main/f', { mirrors: ['not a url'] })).rejects.toMatchObject({ code: 'MG_ERR_INVALID_URL' });
    await expect(m.add('mem://main/f', { mirrors: Array.from({ length: 65 }, (_, i) => `mem://m${i}/f`) })).rejects.toMatchObject({
      code: 'MG_ERR_INVALID_OPTION',
    });
  });
});
