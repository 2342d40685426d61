// The driver on its own (probe and fetchRange), against the in-process SFTP test server.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { generateContent, startSftpServer, type SftpTestServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SftpPlugin, type SftpPluginOptions } from '../src/index.js';
import { makeJob, probed, rangeOf, readAll, rejection, tempHome, type TempHome } from './helpers.js';

const KiB = 1024;
let server: SftpTestServer;
let home: TempHome;
let plugin: SftpPlugin;
let counter = 0;

beforeAll(async () => {
  server = await startSftpServer({ users: [{ username: 'alice', password: 'pw-alice' }] });
  home = await tempHome();
  await home.knownHosts(server.knownHostsLine());
});
afterAll(async () => {
  await server.close();
  await home.dispose();
});
beforeEach(() => {
  plugin = make();
});
afterEach(async () => {
  await plugin.close();
});

function make(options: SftpPluginOptions = {}): SftpPlugin {
  return new SftpPlugin({ home: home.path, agent: false, ...options });
}

function serve(size: number, options: Parameters<SftpTestServer['addFile']>[2] = {}): { path: string; spec: { size: number; seed: number }; url: string } {
  const path = `/files/f${++counter}.bin`;
  const spec = { size, seed: counter };
  server.addFile(path, spec, options);
  return { path, spec, url: server.url(path, 'alice', 'pw-alice') };
}

describe('probe', () => {
  it('learns size, mtime (ms) and name, with ranges, and keeps no credentials in the URL', async () => {
    const f = serve(100 * KiB, { mtime: 1_650_000_000 });
    const job = await probed(plugin, makeJob(f.url));
    expect(job.remote).toMatchObject({
      size: 100 * KiB,
      ranges: true,
      validators: { size: 100 * KiB, mtime: 1_650_000_000_000 },
      fileName: `f${counter}.bin`,
      digests: [],
    });
    expect(job.remote?.url.href).toBe(server.url(f.path));
  });

  it('maps no such file to MG_ERR_NOT_FOUND with sftpCode 2', async () => {
    const err = await rejection(plugin.probe(makeJob(server.url('/nope.bin', 'alice', 'pw-alice'))));
    expect(err).toMatchObject({ code: 'MG_ERR_NOT_FOUND', sftpCode: 2 });
    expect(err.message).not.toContain('pw-alice');
  });

  it('calls a directory not found', async () => {
    serve(10);
    const err = await rejection(plugin.probe(makeJob(server.url('/files', 'alice', 'pw-alice'))));
    expect(err.code).toBe('MG_ERR_NOT_FOUND');
    expect(err.message).toMatch(/directory/);
  });

  it('maps a refused connection through networkErrorFromSystem', async () => {
    const closed = await startSftpServer();
    const url = closed.url('/x', 'alice', 'pw-alice');
    await closed.close();
    const err = await rejection(plugin.probe(makeJob(url)));
    expect(err).toMatchObject({ code: 'MG_ERR_CONNECT', errno: 'ECONNREFUSED' });
  });
});

describe('fetchRange', () => {
  it('returns exactly the bytes of a range, and of the whole file', async () => {
    const f = serve(700 * KiB + 5);
    const job = await probed(plugin, makeJob(f.url));
    const source = await plugin.fetchRange(rangeOf(job, 123_456, 400_000), job);
    // Several transfers share each slab: the engine gathers a quarter of its usual 1 MiB.
    expect(source.gatherBytes).toBe(256 * KiB);
    const part = await readAll(source);
    expect(part.equals(generateContent(f.spec, 123_456, 400_001))).toBe(true);
    const whole = await readAll(await plugin.fetchRange(rangeOf(job, 0, undefined), job));
    expect(whole.equals(generateContent(f.spec))).toBe(true);
  });

  it('keeps READ requests in flight and within the server limit', async () => {
    const f = serve(2 * 1024 * KiB);
    const job = await probed(plugin, makeJob(f.url));
    server.resetLog();
    await readAll(await plugin.fetchRange(rangeOf(job, 0, 2 * 1024 * KiB - 1), job));
    const reads = server.log('read');
    // ssh2 caps reads to servers other than OpenSSH at 34000 - 2048 bytes.
    expect(Math.max(...reads.map((r) => r.length ?? 0))).toBeLessThanOrEqual(34_000 - 2048);
    expect(reads.reduce((n, r) => n + (r.bytes ?? 0), 0)).toBe(2 * 1024 * KiB);
  });

  it('does not keep the bytes it has yielded (regression: 256 MiB held until the range ended)', async () => {
    // Each wait used to race the answer against one long-lived "stopped" promise; every race left a
    // reaction on it that kept its answer reachable, so a source held its whole range until the end.
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const size = 8 * 1024 * KiB;
    const f = serve(size);
    const job = await probed(plugin, makeJob(f.url));
    const source = await plugin.fetchRange(rangeOf(job, 0, size - 1), job);
    const refs: Array<WeakRef<Uint8Array>> = [];
    let seen = 0;
    for await (const chunk of source.body) {
      refs.push(new WeakRef(chunk));
      seen += chunk.byteLength;
      if (seen >= size - 1024 * KiB) break;
    }
    source.cancel();
    // WeakRefs made in this job stay alive until it ends: collect from a later macrotask.
    await new Promise((resolve) => setTimeout(resolve, 10));
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
    gc();
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    expect(refs.length).toBeGreaterThan(100);
    expect(alive).toBeLessThan(refs.length / 10);
  });

  it('continues after short answers', async () => {
    const f = serve(300 * KiB, { faults: { maxReadReply: 10_000 } });
    const job = await probed(plugin, makeJob(f.url));
    const body = await readAll(await plugin.fetchRange(rangeOf(job, 5, 300 * KiB - 1), job));
    expect(body.equals(generateContent(f.spec, 5))).toBe(true);
  });

  it('calls an early EOF a short body (retryable)', async () => {
    const f = serve(300 * KiB, { faults: { cutAfterBytes: 64 * KiB } });
    const job = await probed(plugin, makeJob(f.url));
    const source = await plugin.fetchRange(rangeOf(job, 0, 300 * KiB - 1), job);
    const err = await rejection(readAll(source));
    expect(err.code).toBe('MG_ERR_SHORT_BODY');
    expect(err.retryable).toBe(true);
  });

  it('detects a replaced file (size or mtime) with MG_ERR_REMOTE_CHANGED', async () => {
    const f = serve(100 * KiB);
    const job = await probed(plugin, makeJob(f.url));
    server.replaceFile(f.path, { size: 100 * KiB, seed: 999 });
    const err = await rejection(plugin.fetchRange(rangeOf(job, 0, 100 * KiB - 1), job).then(readAll));
    expect(err.code).toBe('MG_ERR_REMOTE_CHANGED');
    expect(err.message).toMatch(/modified/);
    server.replaceFile(f.path, { size: 50 * KiB, seed: 999 });
    const smaller = await rejection(plugin.fetchRange(rangeOf(job, 0, 100 * KiB - 1), job).then(readAll));
    expect(smaller.code).toBe('MG_ERR_REMOTE_CHANGED');
    expect(smaller.message).toMatch(/size/);
  });

  it('catches a file rewritten in place during the range before yielding its last bytes', async () => {
    const f = serve(512 * KiB, { faults: { throttleBytesPerSec: 1024 * KiB } });
    const job = await probed(plugin, makeJob(f.url));
    const source = await plugin.fetchRange(rangeOf(job, 0, 512 * KiB - 1), job);
    const iterator = source.body[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    server.replaceFile(f.path, { size: 512 * KiB, seed: 4242 }, { inPlace: true });
    let err: unknown;
    try {
      for (;;) if ((await iterator.next()).done) break;
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'MG_ERR_REMOTE_CHANGED' });
  });

  it('maps permission denied to MG_ERR_FORBIDDEN with sftpCode 3', async () => {
    const f = serve(10 * KiB, { mode: 0o200 });
    const job = await probed(plugin, makeJob(f.url));
    const err = await rejection(plugin.fetchRange(rangeOf(job, 0, 10 * KiB - 1), job));
    expect(err).toMatchObject({ code: 'MG_ERR_FORBIDDEN', sftpCode: 3 });
  });

  it('maps a dropped connection to a retryable reset', async () => {
    const f = serve(1024 * KiB, { faults: { dropAfterBytes: 100 * KiB, dropTimes: 1 } });
    const job = await probed(plugin, makeJob(f.url));
    const err = await rejection(plugin.fetchRange(rangeOf(job, 0, 1024 * KiB - 1), job).then(readAll));
    expect(err.code).toBe('MG_ERR_CONNECTION_RESET');
    expect(err.retryable).toBe(true);
    // The pool forgets the dead connection and the next fetch works.
    const body = await readAll(await plugin.fetchRange(rangeOf(job, 0, 1024 * KiB - 1), job));
    expect(body.equals(generateContent(f.spec))).toBe(true);
  });

  it('stops on cancel() and on its signal, and the channel is reused', async () => {
    const f = serve(4 * 1024 * KiB, { faults: { throttleBytesPerSec: 256 * KiB } });
    const job = await probed(plugin, makeJob(f.url));
    const source = await plugin.fetchRange(rangeOf(job, 0, 4 * 1024 * KiB - 1), job);
    const iterator = source.body[Symbol.asyncIterator]();
    await iterator.next();
    source.cancel();
    await expect(iterator.next()).rejects.toMatchObject({ code: 'MG_ERR_ABORTED' });
    const ctl = new AbortController();
    const second = await plugin.fetchRange(rangeOf(job, 0, 4 * 1024 * KiB - 1, ctl.signal), job);
    const reading = readAll(second);
    ctl.abort();
    expect((await rejection(reading)).code).toBe('MG_ERR_ABORTED');
  });
});

describe('connection pool', () => {
  it('spreads concurrent transfers over connections and channels, and reuses them', async () => {
    const small = make({ connectionsPerHost: 2, channelsPerConnection: 3 });
    try {
      const f = serve(256 * KiB);
      const job = await probed(small, makeJob(f.url));
      const before = server.connectionsOpened();
      server.resetLog();
      const sources = await Promise.all(Array.from({ length: 6 }, () => small.fetchRange(rangeOf(job, 0, 256 * KiB - 1), job)));
      const bodies = await Promise.all(sources.map(readAll));
      for (const body of bodies) expect(body.equals(generateContent(f.spec))).toBe(true);
      expect(server.connectionsOpened() - before).toBe(1);
      expect(server.maxConcurrentConnections()).toBe(2);
      expect(server.maxChannelsPerConnection()).toBe(3);
      // Eight more transfers: no new connection, channels shared.
      const again = await Promise.all(Array.from({ length: 8 }, () => small.fetchRange(rangeOf(job, 0, 1023), job)));
      await Promise.all(again.map(readAll));
      expect(server.connectionsOpened() - before).toBe(1);
    } finally {
      await small.close();
    }
  });

  it('close() ends every connection, and later use fails with MG_ERR_ABORTED', async () => {
    const f = serve(10 * KiB);
    const job = await probed(plugin, makeJob(f.url));
    expect(server.openConnections()).toBeGreaterThan(0);
    await plugin.close();
    await expect.poll(() => server.openConnections()).toBe(0);
    expect((await rejection(plugin.probe(job))).code).toBe('MG_ERR_ABORTED');
  });
});
