// Secrets go only to the server they were given for. "The same server" was decided with
// URL.origin, which is the opaque "null" for every scheme the URL standard does not know (sftp:,
// a plugin's own): every such URL then matched every other, so credentials went to another host
// (a mirror on another server; a download given a new URL on another server).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Manager, Multiget, type EntrySnapshot, type Job, type RangeRequest } from '../src/index.js';
import { sameOrigin } from '../src/util/sameOrigin.js';
import { MemoryPlugin, pseudoRandom } from './helpers/MemoryPlugin.js';

const MiB = 1024 * 1024;

/** A mem:// plugin that records, per host, whether a request carried credentials. */
class CredentialRecordingPlugin extends MemoryPlugin {
  readonly seen: Array<{ host: string; credentials: boolean }> = [];
  override async probe(job: Job) {
    this.seen.push({ host: job.url.host, credentials: job.options.credentials !== undefined });
    return super.probe(job);
  }
  override async fetchRange(req: RangeRequest, job: Job) {
    this.seen.push({ host: job.url.host, credentials: job.options.credentials !== undefined });
    return super.fetchRange(req, job);
  }
  hosts(credentials: boolean): Set<string> {
    return new Set(this.seen.filter((s) => s.credentials === credentials).map((s) => s.host));
  }
}

let dir: string;
let mem: CredentialRecordingPlugin;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-same-origin-'));
  mem = new CredentialRecordingPlugin();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sameOrigin', () => {
  it('compares scheme, host and port, for schemes the URL standard does not know too', () => {
    expect(sameOrigin(new URL('sftp://a/x'), new URL('sftp://a/y'))).toBe(true);
    expect(sameOrigin(new URL('sftp://a/x'), new URL('sftp://b/x'))).toBe(false);
    expect(sameOrigin(new URL('sftp://a/x'), new URL('sftp://a:2222/x'))).toBe(false);
    expect(sameOrigin(new URL('sftp://a/x'), new URL('mem://a/x'))).toBe(false);
    expect(sameOrigin(new URL('https://a/x'), new URL('https://a:443/y'))).toBe(true);
    expect(sameOrigin(new URL('https://u:p@a/x'), new URL('https://a/x'))).toBe(true);
    expect(sameOrigin(new URL('http://a/x'), new URL('https://a/x'))).toBe(false);
  });
});

describe('secrets stay with their server, whatever the scheme', () => {
  it('a mirror on another host gets no credentials', async () => {
    const mg = new Multiget({ plugins: [mem], minSplitSize: 128 * 1024 });
    try {
      mem.put('/f.bin', pseudoRandom(2 * MiB, 3), { chunkDelayMs: 1 });
      const dl = mg.download('mem://main/f.bin', {
        dir,
        connections: 4,
        credentials: { username: 'u', password: 'p' },
        mirrors: ['mem://elsewhere/f.bin'],
      });
      await dl.done;
      expect(mem.hosts(true)).toEqual(new Set(['main']));
      expect(mem.hosts(false)).toContain('elsewhere');
    } finally {
      await mg.close();
    }
  });

  it('updateUrl to another host drops the credentials held for the old one', async () => {
    const m = await Manager.open({ plugins: [mem], settings: { dir } });
    try {
      mem.put('/f.bin', pseudoRandom(2 * MiB, 4), { chunkDelayMs: 1 });
      const added = await m.add('mem://main/f.bin', { noCache: true, credentials: { username: 'u', password: 'p' } });
      await m.pause(added.id);
      await m.updateUrl(added.id, 'mem://elsewhere/f.bin');
      const done = await new Promise<EntrySnapshot>((resolve) => {
        const check = (e: EntrySnapshot): void => void ((e.id === added.id && (e.state === 'completed' || e.state === 'failed')) && resolve(e));
        m.on('changed', check);
      });
      expect(done.state).toBe('completed');
      expect(mem.hosts(true)).not.toContain('elsewhere');
      expect(mem.hosts(false)).toContain('elsewhere');
    } finally {
      await m.close();
    }
  });
});
