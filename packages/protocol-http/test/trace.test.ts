// The trace of a real segmented download over HTTP: splits, a cut body and its retry, checked
// against the trace-event format, with its spans' bytes adding up to the file.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget, TraceRecorder, checkTrace, type TraceEvent, type TraceFile } from '@multiget/core';
import { type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SIGNATURE = 'SigNaTuRe0123456789';
const PASSWORD = 'pa55w0rd-trace';

let server: HttpTestServer;
let dir: string;
let mg: Multiget;

beforeAll(async () => {
  server = await startHttpServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-http-trace-'));
  mg = new Multiget({
    plugins: [new HttpPlugin({ useEnvProxy: false })],
    minSplitSize: 64 * KiB,
    checkpointIntervalMs: 50,
    progressIntervalMs: 20,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
  });
});
afterEach(async () => {
  await mg.close();
  await rm(dir, { recursive: true, force: true });
});

function spans(trace: TraceFile): TraceEvent[] {
  return trace.traceEvents.filter((e) => e.ph === 'X' && e.name === 'range');
}

describe('trace of a download', () => {
  it('validates, names a track per connection, shows splits and a retry, and its spans add up to the file', async () => {
    const content = { size: 3 * MiB, seed: 41 };
    // The second request crawls, so the others finish first and split it; the first body is cut.
    server.addFile('/traced.bin', content, {
      faults: { slowRequest: { nth: 3, bytesPerSec: 512 * KiB }, dropAfterBytes: 100 * KiB, dropTimes: 1 },
    });
    const url = server.url(`/traced.bin?X-Amz-Signature=${SIGNATURE}`).replace('://', `://user:${PASSWORD}@`);
    const recorder = new TraceRecorder();
    const dl = mg.download(url, { dir, connections: 4 });
    recorder.attach(dl);
    const result = await dl.done;
    const file = join(dir, 'trace.json');
    await recorder.write(file);
    const text = await readFile(file, 'utf8');
    const trace = JSON.parse(text) as TraceFile;

    expect(checkTrace(trace)).toEqual([]);
    expect(createHash('sha256').update(await readFile(result.file)).digest('hex')).toBe(sha256(content));
    // No byte is claimed twice: a split during a write leaves the bytes past the cut to the new owner.
    expect(dl.segmentMap().segments.every((s) => s.pos === s.end)).toBe(true);
    const ranges = spans(trace);
    expect(ranges.reduce((sum, e) => sum + (e.args!.bytes as number), 0)).toBe(result.size);
    const failed = ranges.filter((e) => e.args!.outcome === 'failed');
    expect(failed.map((e) => (e.args!.error as { code: string }).code)).toContain('MG_ERR_SHORT_BODY');
    expect(trace.traceEvents.some((e) => e.ph === 'i' && e.name === 'retry')).toBe(true);
    const splits = trace.traceEvents.filter((e) => e.ph === 'i' && e.name === 'split');
    expect(splits.length).toBeGreaterThan(0);
    // One named track per connection that made a request.
    const tids = new Set(ranges.map((e) => e.tid));
    expect(tids.size).toBeGreaterThan(1);
    for (const tid of tids) {
      expect(trace.traceEvents.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.tid === tid)?.args?.name).toBe(
        `connection ${tid - 1}`,
      );
    }
    expect(trace.traceEvents.some((e) => e.ph === 'C' && e.name === 'throughput')).toBe(true);
    // Secrets of the URL never reach the trace.
    expect(text).not.toContain(SIGNATURE);
    expect(text).not.toContain(PASSWORD);
  });

  it('refuses to write the trace through a symbolic link', async () => {
    const target = join(dir, 'victim.txt');
    await writeFile(target, 'keep me');
    await symlink(target, join(dir, 'link.json'));
    await expect(new TraceRecorder().write(join(dir, 'link.json'))).rejects.toMatchObject({ code: 'MG_ERR_UNSAFE_PATH' });
    expect(await readFile(target, 'utf8')).toBe('keep me');
  });
});
