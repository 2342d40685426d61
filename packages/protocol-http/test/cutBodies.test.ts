// A server (or a proxy in front of it) that cuts every body after the same number of bytes: after
// two such cuts, the transfer asks for no more than that per request, so each response ends
// cleanly and its connection is reused, instead of a cut, a retry and a new connection each time.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget } from '@multiget/core';
import { generateContent, sha256, startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const CUT = 512 * KiB;
let server: HttpTestServer;
let dir: string;
let mg: Multiget;

beforeEach(async () => {
  server = await startHttpServer();
  dir = await mkdtemp(join(tmpdir(), 'mg-cuts-'));
  mg = new Multiget({ plugins: [new HttpPlugin({ useEnvProxy: false })], minSplitSize: 256 * KiB, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
});
afterEach(async () => {
  await mg.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Bytes each request asked for (Range: bytes=a-b), in the order the server saw them. */
function asked(path: string): number[] {
  return server.requests(path).map((r) => {
    const m = /^bytes=(\d+)-(\d*)$/.exec(r.headers.range ?? '');
    if (!m) return Infinity;
    return m[2] === '' ? Infinity : Number(m[2]) - Number(m[1]) + 1;
  });
}

describe('bodies cut at the same length', () => {
  it('teach the transfer to ask for no more than that: the cuts stop', async () => {
    const content = generateContent({ size: 8 * MiB, seed: 31 });
    server.addFile('/cut.bin', content, { faults: { dropAfterBytes: CUT } });
    const dl = mg.download(server.url('/cut.bin'), { dir, connections: 4, retries: 50 });
    let failed = 0;
    dl.on('rangeEnd', (r) => {
      if (r.outcome === 'failed') failed++;
    });
    const result = await dl.done;
    expect(sha256(await readFile(result.file))).toBe(sha256(content));
    const records = server.requests('/cut.bin');
    const cut = records.filter((r) => r.faults.includes('dropAfterBytes')).length;
    // 8 MiB in 512 KiB answers is at least 16 requests. Only those made before the second cut was
    // seen (at most one per connection, and their retries) were cut.
    expect(records.length).toBeGreaterThanOrEqual(16);
    expect(cut).toBeLessThanOrEqual(8);
    expect(failed).toBe(cut);
    // The last requests asked for at most the cut's length.
    const sizes = asked('/cut.bin');
    expect(sizes.slice(-8).every((n) => n <= CUT)).toBe(true);
  });

  it('a single cut teaches nothing: later requests still ask for whole segments', async () => {
    const content = generateContent({ size: 8 * MiB, seed: 32 });
    server.addFile('/once.bin', content, { faults: { dropAfterBytes: CUT, dropTimes: 1 } });
    const dl = mg.download(server.url('/once.bin'), { dir, connections: 4, retries: 50 });
    const result = await dl.done;
    expect(sha256(await readFile(result.file))).toBe(sha256(content));
    const records = server.requests('/once.bin');
    const cut = records.filter((r) => r.faults.includes('dropAfterBytes'));
    expect(cut).toHaveLength(1);
    // The retry of the cut range, from where the cut left it, asked for the rest of its segment.
    const from = Number(/^bytes=(\d+)-/.exec(cut[0]!.headers.range ?? '')![1]) + CUT;
    const retry = records.findIndex((r) => r.headers.range?.startsWith(`bytes=${from}-`));
    expect(retry).toBeGreaterThan(0);
    expect(asked('/once.bin')[retry]).toBeGreaterThan(CUT);
  });
});
