// Links that expire mid-download (presigned URLs), through the Manager over real sockets: the
// download pauses with reason `linkExpired`, keeping its bytes; updateUrl() resumes them from a new
// link of the same file, or starts over when the new link serves another file.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Manager, TEMP_SUFFIX, redactUrl, type EntrySnapshot } from '@multiget/core';
import { type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;

let server: HttpTestServer;
let dir: string;
const open: Manager[] = [];

beforeEach(async () => {
  server = await startHttpServer();
  dir = await mkdtemp(join(tmpdir(), 'mg-link-expiry-'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function manager(): Promise<Manager> {
  const m = await Manager.open({
    plugins: [new HttpPlugin({ useEnvProxy: false })],
    stateDir: join(dir, 'state'),
    minSplitSize: 128 * KiB,
    checkpointIntervalMs: 50,
    progressIntervalMs: 20,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    settings: { dir: join(dir, 'out'), connections: 4 },
  });
  open.push(m);
  return m;
}

function until(m: Manager, id: string, test: (e: EntrySnapshot) => boolean): Promise<EntrySnapshot> {
  return new Promise((resolve) => {
    const check = (): void => {
      const e = m.get(id);
      if (!test(e)) return;
      m.off('changed', check);
      resolve(e);
    };
    m.on('changed', check);
    check();
  });
}

/** A 4 MiB file whose links carry 1.5 MiB each: a download of it expires mid-way. */
function expiring(path: string, seed: number): { content: { size: number; seed: number }; url: string } {
  const content = { size: 4 * MiB, seed };
  server.addFile(path, content, { faults: { signedLinks: { afterBytes: 1.5 * MiB } } });
  return { content, url: server.signUrl(path) };
}

describe('Manager: a link that expires mid-download', () => {
  it('pauses with reason linkExpired keeping its bytes, stays so across a restart, and updateUrl resumes them from a new link', async () => {
    const { content, url } = expiring('/iso', 1);
    let m = await manager();
    const { id } = await m.add(url);
    const expired = await until(m, id, (e) => e.state !== 'queued' && e.state !== 'probing' && e.state !== 'downloading');
    expect(expired).toMatchObject({ state: 'paused', reason: 'linkExpired' });
    expect(expired.error?.message).toMatch(/40[13]|expired/i);
    expect(m.history()).toEqual([]);
    const file = join(dir, 'out', 'iso');
    expect(existsSync(file + TEMP_SUFFIX)).toBe(true);

    await m.close();
    open.splice(0);
    m = await manager();
    // Front-ends see the URL with its signature masked (the queue file keeps it whole).
    expect(m.get(id)).toMatchObject({ state: 'paused', reason: 'linkExpired', url: redactUrl(url) });
    expect(m.get(id).bytes).toBeGreaterThan(0);
    // Resuming everything leaves it alone: its old link would only fail again.
    await m.resumeAll();
    expect(m.get(id).state).toBe('paused');

    server.setFaults('/iso', { signedLinks: { afterBytes: 64 * MiB } });
    const fresh = server.signUrl('/iso');
    let resumed: boolean | undefined;
    m.on('started', (_entry, download) => void download.done.then((r) => (resumed = r.resumed), () => undefined));
    const queued = await m.updateUrl(id, fresh);
    expect(queued).toMatchObject({ reason: undefined, error: undefined, url: redactUrl(fresh) });
    expect(['queued', 'probing']).toContain(queued.state);
    const done = await until(m, id, (e) => e.state === 'completed' || e.state === 'failed');
    expect(done.state).toBe('completed');
    expect(sha256(await readFile(file))).toBe(sha256(content));
    // The bytes kept were used, not fetched again: the engine resumed under the new link.
    expect(resumed).toBe(true);
  });

  it('updateUrl to a link that serves another file starts over with that file’s bytes, never mixing them', async () => {
    const { url } = expiring('/a', 2);
    const m = await manager();
    const { id } = await m.add(url);
    await until(m, id, (e) => e.reason === 'linkExpired');
    const other = { size: 3 * MiB, seed: 3 };
    server.addFile('/b', other);
    await m.updateUrl(id, server.url('/b'));
    const done = await until(m, id, (e) => e.state === 'completed' || e.state === 'failed');
    expect(done.state).toBe('completed');
    expect(sha256(await readFile(join(dir, 'out', 'a')))).toBe(sha256(other));
  });

  it('updateUrl keeps credentials in the URL in memory only, and refuses bad URLs and finished downloads', async () => {
    const { url } = expiring('/c', 4);
    const m = await manager();
    const { id } = await m.add(url);
    await until(m, id, (e) => e.reason === 'linkExpired');
    await expect(m.updateUrl(id, 'not a url')).rejects.toMatchObject({ code: 'MG_ERR_INVALID_URL' });
    await expect(m.updateUrl(id, 'file:///etc/passwd')).rejects.toMatchObject({ code: 'MG_ERR_UNSUPPORTED_PROTOCOL' });
    await expect(m.updateUrl('nope', url)).rejects.toMatchObject({ code: 'MG_ERR_UNKNOWN_DOWNLOAD' });
    server.setFaults('/c', { signedLinks: { afterBytes: 64 * MiB } });
    const fresh = new URL(server.signUrl('/c'));
    fresh.username = 'ada';
    fresh.password = 'secret-pw';
    const queued = await m.updateUrl(id, fresh.href);
    expect(queued.url).not.toContain('secret-pw');
    const done = await until(m, id, (e) => e.state === 'completed' || e.state === 'failed');
    expect(done.state).toBe('completed');
    expect(await readFile(join(dir, 'state', 'queue.json'), 'utf8')).not.toContain('secret-pw');
    await expect(m.updateUrl(id, fresh.href)).rejects.toMatchObject({ code: 'MG_ERR_INVALID_STATE' });
  });
});
