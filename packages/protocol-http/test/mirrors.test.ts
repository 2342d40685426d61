// One file from several HTTP servers at once (MirrorPlugin), over real sockets: both used, one
// killed mid-download, one serving other bytes under the same name, one of another size, RFC 6249
// duplicates, Metalink piece hashes. Every file is compared with the source by sha256.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MirrorPlugin, Multiget, type DownloadOptions } from '@multiget/core';
import { generateContent, sha256, startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;

let servers: HttpTestServer[];
let dir: string;
let mg: Multiget;
let mirrors: MirrorPlugin;
let n = 0;

beforeEach(async () => {
  servers = await Promise.all([startHttpServer(), startHttpServer(), startHttpServer()]);
  dir = await mkdtemp(join(tmpdir(), 'mg-mirrors-'));
  mirrors = new MirrorPlugin();
  mg = new Multiget({
    plugins: [new HttpPlugin({ useEnvProxy: false })],
    // The default MirrorPlugin is replaced by one the test can ask about its sources.
    defaultPlugins: (d) => [...d.filter((p) => p.name !== 'MirrorPlugin'), mirrors],
    minSplitSize: 128 * KiB,
    checkpointIntervalMs: 100,
    progressIntervalMs: 50,
    retry: { baseDelayMs: 10, maxDelayMs: 100 },
  });
});
afterEach(async () => {
  await mg.close();
  await Promise.all(servers.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

function bodyBytes(server: HttpTestServer, path: string): number {
  return server.requests(path).reduce((a, r) => a + r.bytesSent, 0);
}

async function fetchWithMirrors(path: string, mirrorUrls: string[], options: DownloadOptions = {}) {
  const warnings: string[] = [];
  const dl = mg.download(servers[0]!.url(path), { dir, connections: 6, mirrors: mirrorUrls, ...options });
  dl.on('warning', (w) => warnings.push(`${w.code} ${w.message}`));
  const result = await dl.done;
  return { result, warnings, data: await readFile(result.file) };
}

function pieceHashes(data: Buffer, length: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < data.length; i += length) {
    out.push(createHash('sha256').update(data.subarray(i, i + length)).digest('hex'));
  }
  return out;
}

describe('mirrors over HTTP', () => {
  it('reads one file from two servers at once and writes the exact bytes', async () => {
    const path = `/both-${++n}.bin`;
    const content = generateContent({ size: 8 * MiB, seed: 11 });
    // Each connection is capped, so one server alone would need more time than the two together.
    for (const s of servers.slice(0, 2)) s.addFile(path, content, { faults: { throttleBytesPerSec: 4 * MiB } });
    const { data, warnings } = await fetchWithMirrors(path, [servers[1]!.url(path)]);
    expect(sha256(data)).toBe(sha256(content));
    expect(bodyBytes(servers[0]!, path)).toBeGreaterThan(MiB);
    expect(bodyBytes(servers[1]!, path)).toBeGreaterThan(MiB);
    expect(warnings).toEqual([]);
  });

  it('finishes from the other server when one is killed mid-download', async () => {
    const path = `/killed-${++n}.bin`;
    const content = generateContent({ size: 8 * MiB, seed: 12 });
    for (const s of servers.slice(0, 2)) s.addFile(path, content, { faults: { throttleBytesPerSec: 2 * MiB } });
    const dl = mg.download(servers[0]!.url(path), { dir, connections: 6, mirrors: [servers[1]!.url(path)] });
    let killed = false;
    dl.on('progress', (p) => {
      if (!killed && p.bytesDone > 2 * MiB) {
        killed = true;
        void servers[1]!.close();
      }
    });
    const result = await dl.done;
    expect(killed).toBe(true);
    expect(sha256(await readFile(result.file))).toBe(sha256(content));
    expect(await readdir(dir)).toEqual([result.file.split('/').pop()]);
  });

  it('finishes from the mirror when the download URL\'s server is killed mid-download', async () => {
    const path = `/primary-killed-${++n}.bin`;
    const content = generateContent({ size: 8 * MiB, seed: 13 });
    for (const s of servers.slice(0, 2)) s.addFile(path, content, { faults: { throttleBytesPerSec: 2 * MiB } });
    const dl = mg.download(servers[0]!.url(path), { dir, connections: 6, mirrors: [servers[1]!.url(path)] });
    let killed = false;
    dl.on('progress', (p) => {
      if (!killed && p.bytesDone > 2 * MiB) {
        killed = true;
        void servers[0]!.close();
      }
    });
    const result = await dl.done;
    expect(killed).toBe(true);
    expect(sha256(await readFile(result.file))).toBe(sha256(content));
  });

  it('leaves out a mirror that serves other bytes under the same name and size', async () => {
    const path = `/other-bytes-${++n}.bin`;
    const content = generateContent({ size: 4 * MiB, seed: 14 });
    servers[0]!.addFile(path, content);
    servers[1]!.addFile(path, generateContent({ size: 4 * MiB, seed: 99 }));
    const { data, warnings } = await fetchWithMirrors(path, [servers[1]!.url(path)]);
    expect(sha256(data)).toBe(sha256(content));
    expect(warnings.join('\n')).toMatch(/MG_WARN_MIRROR_DROPPED .*other bytes/);
    // The impostor was probed and sampled, and asked for nothing of the file.
    expect(servers[1]!.requests(path).map((r) => r.headers.range)).toEqual(['bytes=0-', 'bytes=2088960-2105343']);
  });

  it('leaves out a mirror of another size at the probe', async () => {
    const path = `/other-size-${++n}.bin`;
    const content = generateContent({ size: 2 * MiB, seed: 15 });
    servers[0]!.addFile(path, content);
    servers[1]!.addFile(path, generateContent({ size: 2 * MiB + 1, seed: 15 }));
    const { data, warnings } = await fetchWithMirrors(path, [servers[1]!.url(path)]);
    expect(sha256(data)).toBe(sha256(content));
    expect(warnings.join('\n')).toMatch(/its size is 2097153, not 2097152/);
  });

  it('checks Metalink piece hashes as bytes arrive and drops the source whose pieces differ', async () => {
    const path = `/pieces-${++n}.bin`;
    const good = Buffer.from(new Uint8Array(4 * MiB).map((_, i) => (i * 7919) & 0xff));
    // Same size, other bytes: with piece hashes no sample is compared, so only the pieces can tell.
    const bad = Buffer.from(good.map((b) => b ^ 0x5a));
    servers[0]!.addFile(path, good, { faults: { throttleBytesPerSec: 2 * MiB } });
    servers[1]!.addFile(path, bad, { faults: { throttleBytesPerSec: 2 * MiB } });
    const pieces = { algorithm: 'sha256' as const, length: 256 * KiB, hashes: pieceHashes(good, 256 * KiB) };
    const { data, warnings } = await fetchWithMirrors(path, [servers[1]!.url(path)], { pieces });
    expect(sha256(data)).toBe(sha256(good));
    expect(warnings.join('\n')).toMatch(/MG_WARN_MIRROR_DROPPED .* served piece \d+ .* with another sha256/);
    expect(mirrors).toBeDefined();
  });

  it('never sends the download\'s credentials or headers to a mirror of another origin', async () => {
    const path = `/secret-${++n}.bin`;
    const content = generateContent({ size: 2 * MiB, seed: 16 });
    servers[0]!.addFile(path, content, { auth: { username: 'u', password: 'p' } });
    servers[1]!.addFile(path, content);
    const { data } = await fetchWithMirrors(path, [servers[1]!.url(path)], {
      credentials: { username: 'u', password: 'p' },
      headers: { 'x-api-key': 'k-123' },
    });
    expect(sha256(data)).toBe(sha256(content));
    const seen = servers[1]!.requests(path);
    expect(seen.length).toBeGreaterThan(0);
    for (const r of seen) {
      expect(r.headers.authorization).toBeUndefined();
      expect(r.headers['x-api-key']).toBeUndefined();
    }
  });

  it('uses RFC 6249 duplicates when a digest can check the file, and ignores them when none can', async () => {
    const path = `/dup-${++n}.bin`;
    const content = generateContent({ size: 4 * MiB, seed: 17 });
    servers[1]!.addFile(path, content);
    servers[0]!.addFile(path, content, { links: [`<${servers[1]!.url(path)}>; rel=duplicate; pri=1`] });
    const unchecked = mg.download(servers[0]!.url(path), { dir, connections: 4 });
    await unchecked.done;
    expect(servers[1]!.requests(path)).toEqual([]);
    await rm(join(dir, path.slice(1)));
    const checked = mg.download(servers[0]!.url(path), { dir, connections: 4, checksum: `sha256=${sha256(content)}` });
    const result = await checked.done;
    expect(result.verified).toBe(true);
    expect(servers[1]!.requests(path).length).toBeGreaterThan(0);
  });

  it('keeps both sources when each caps its connections with 503: busy is not broken', async () => {
    const path = `/capped-${++n}.bin`;
    const content = generateContent({ size: 8 * MiB, seed: 19 });
    for (const s of servers.slice(0, 2)) s.addFile(path, content, { faults: { throttleBytesPerSec: 2 * MiB, maxConnections: 2 } });
    const { data, warnings } = await fetchWithMirrors(path, [servers[1]!.url(path)], { connections: 8, retries: 20 });
    expect(sha256(data)).toBe(sha256(content));
    // Neither source was left out for answering 503, and both served ranges of the file.
    expect(warnings.filter((w) => w.startsWith('MG_WARN_MIRROR_DROPPED'))).toEqual([]);
    expect(bodyBytes(servers[0]!, path)).toBeGreaterThan(MiB);
    expect(bodyBytes(servers[1]!, path)).toBeGreaterThan(MiB);
  });

  it('counts the probe\'s stream among the download URL\'s connections: a connection that finished a range always has room for its next (regression: it was retired as "busy")', async () => {
    const path = `/probe-counted-${++n}.bin`;
    const content = generateContent({ size: 8 * MiB, seed: 20 });
    for (const s of servers.slice(0, 2)) s.addFile(path, content, { faults: { throttleBytesPerSec: 2 * MiB, maxConnections: 2 } });
    const dl = mg.download(servers[0]!.url(path), { dir, connections: 8, retries: 20, mirrors: [servers[1]!.url(path)] });
    const finished = new Set<number>();
    const refusedAfterWork: string[] = [];
    let probeConnection: number | undefined;
    dl.on('rangeStart', (r) => {
      if (r.start === 0 && probeConnection === undefined) probeConnection = r.connection;
    });
    dl.on('rangeEnd', (r) => {
      if (r.outcome === 'done' || r.outcome === 'split') finished.add(r.connection);
      else if (r.error?.code === 'MG_ERR_SERVER_BUSY' && /busy at its connections/.test(r.error.message) && finished.has(r.connection)) {
        refusedAfterWork.push(`connection ${r.connection}: ${r.error.message}`);
      }
    });
    const result = await dl.done;
    expect(sha256(await readFile(result.file))).toBe(sha256(content));
    // The connection that carried the probe's stream went on to other ranges.
    expect(probeConnection).toBeDefined();
    expect(finished.has(probeConnection!)).toBe(true);
    // A connection gives its slot back before it asks for the next range: the plugin's own count
    // never tells it that every server is full. (A server's own 503 can still come while its cap
    // is unknown: that is how the cap is learned.)
    expect(refusedAfterWork).toEqual([]);
  });

  it('falls back to the download URL alone when every mirror is unreachable', async () => {
    const path = `/lonely-${++n}.bin`;
    const content = generateContent({ size: 2 * MiB, seed: 18 });
    servers[0]!.addFile(path, content);
    const { data, warnings } = await fetchWithMirrors(path, ['http://127.0.0.1:1/none.bin']);
    expect(sha256(data)).toBe(sha256(content));
    expect(warnings.join('\n')).toMatch(/MG_WARN_MIRROR_DROPPED .*127\.0\.0\.1:1/);
  });
});
