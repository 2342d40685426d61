import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, Multiget, TraceRecorder, checkTrace, resourceUsage, safeText, segmentCells, type TraceFile } from '../src/index.js';
import { MemoryPlugin, pseudoRandom } from './helpers/MemoryPlugin.js';

const MiB = 1024 * 1024;
let dir: string;
let mem: MemoryPlugin;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-trace-'));
  mem = new MemoryPlugin();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('checkTrace', () => {
  const named = { name: 'thread_name', ph: 'M', ts: 0, pid: 1, tid: 1, args: { name: 'connection 0' } };
  const span = { name: 'range', ph: 'X', ts: 5, dur: 3, pid: 1, tid: 1, args: { start: 0, end: 10, bytes: 10, outcome: 'done' } };

  it('accepts a well-formed trace', () => {
    expect(checkTrace({ traceEvents: [named, span], displayTimeUnit: 'ms' })).toEqual([]);
  });

  it.each([
    ['not an object', [], 'a trace must be a JSON object'],
    ['no events', {}, 'traceEvents must be an array'],
    ['an unknown phase', { traceEvents: [named, { ...span, ph: 'Q' }] }, 'unknown phase'],
    ['a span without dur', { traceEvents: [named, { ...span, dur: undefined }] }, 'non-negative dur'],
    ['a negative ts', { traceEvents: [named, { ...span, ts: -1 }] }, 'ts must be'],
    ['a range without bytes', { traceEvents: [named, { ...span, args: { start: 0, end: 1, outcome: 'done' } }] }, 'integer start and bytes'],
    ['an unknown outcome', { traceEvents: [named, { ...span, args: { ...span.args, outcome: 'meh' } }] }, 'unknown outcome'],
    ['a counter with text', { traceEvents: [{ name: 'c', ph: 'C', ts: 0, pid: 1, tid: 0, args: { x: 'a' } }] }, 'not a number'],
    ['an unnamed track', { traceEvents: [span] }, 'no thread_name'],
    ['a bad instant scope', { traceEvents: [named, { name: 'i', ph: 'i', s: 'x', ts: 0, pid: 1, tid: 1 }] }, 'scope'],
  ])('reports %s', (_what, trace, problem) => {
    expect(checkTrace(trace).join('\n')).toContain(problem);
  });
});

describe('TraceRecorder', () => {
  it('records a download with failures and retries into a valid trace whose spans add up to the file', async () => {
    const data = pseudoRandom(3 * MiB, 5);
    mem.put('/t.bin', data, { slowStartOffsets: new Set([0]), failFetches: { count: 2, code: ErrorCodes.CONNECTION_RESET } });
    const mg = new Multiget({ plugins: [mem], minSplitSize: 128 * 1024, progressIntervalMs: 10, checkpointIntervalMs: 10, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    const recorder = new TraceRecorder();
    const dl = mg.download('mem://host/t.bin', { dir, connections: 3 });
    recorder.attach(dl);
    await dl.done;
    const trace = JSON.parse(recorder.toString()) as TraceFile;
    expect(checkTrace(trace)).toEqual([]);
    const spans = trace.traceEvents.filter((e) => e.name === 'range');
    expect(spans.reduce((a, e) => a + (e.args!.bytes as number), 0)).toBe(data.length);
    expect(spans.filter((e) => e.args!.outcome === 'failed')).toHaveLength(2);
    expect(trace.traceEvents.filter((e) => e.name === 'retry')).toHaveLength(2);
    expect(trace.traceEvents.some((e) => e.name === 'split')).toBe(true);
    expect(trace.traceEvents.find((e) => e.name === 'process_name')?.args?.name).toBe('t.bin');
    await mg.close();
  });

  it('stays bounded: drops the oldest events and counts them', async () => {
    mem.put('/b.bin', pseudoRandom(2 * MiB, 6), { chunkDelayMs: 1 });
    const mg = new Multiget({ plugins: [mem], minSplitSize: 64 * 1024, progressIntervalMs: 5 });
    // A bound well below what any such download records whatever its timing: four ranges, four
    // states, start, done and a connections event at least. (With 20, a quick run recorded 20 of
    // its own 21, the progress samples being the only ones that vary, and dropped none.)
    const recorder = new TraceRecorder({ maxEvents: 8 });
    const dl = mg.download('mem://host/b.bin', { dir, connections: 4 });
    recorder.attach(dl);
    await dl.done;
    const trace = recorder.toJSON();
    expect(recorder.eventCount).toBeLessThanOrEqual(8);
    expect(trace.otherData.droppedEvents).toBeGreaterThan(0);
    expect(checkTrace(trace)).toEqual([]);
    await mg.close();
  });

  it('shows a running request as an inFlight span', async () => {
    mem.put('/f.bin', pseudoRandom(4 * MiB, 8), { chunkDelayMs: 5 });
    const mg = new Multiget({ plugins: [mem], progressIntervalMs: 5 });
    const recorder = new TraceRecorder();
    const dl = mg.download('mem://host/f.bin', { dir, connections: 1 });
    recorder.attach(dl);
    await new Promise<void>((resolve) => dl.on('progress', (p) => p.bytesDone > 0 && resolve()));
    const trace = recorder.toJSON();
    expect(checkTrace(trace)).toEqual([]);
    expect(trace.traceEvents.filter((e) => e.name === 'range').map((e) => e.args!.outcome)).toEqual(['inFlight']);
    await dl.cancel();
    expect(recorder.toJSON().traceEvents.filter((e) => e.name === 'range').map((e) => e.args!.outcome)).toEqual(['aborted']);
    await mg.close();
  });

  it('writes a file that parses', async () => {
    const recorder = new TraceRecorder();
    const file = join(dir, 'out.json');
    await recorder.write(file);
    expect(checkTrace(JSON.parse(await readFile(file, 'utf8')))).toEqual([]);
  });
});

describe('safeText', () => {
  it('strips user info and query from every URL in a text', () => {
    expect(safeText('GET https://u:secret@h.example/a?X-Amz-Signature=abc#f failed; see ftp://me:pw@f.example/x')).toBe(
      'GET https://h.example/a?… failed; see ftp://f.example/x',
    );
  });
});

describe('segmentCells', () => {
  it('gives each cell the kind covering most of its bytes', () => {
    const map = {
      size: 100,
      segments: [
        { start: 0, end: 50, pos: 50 },
        { start: 50, end: 80, pos: 60, connection: 1 },
        { start: 80, end: 100, pos: 80, connection: 11 },
      ],
    };
    expect(segmentCells(map, 10)).toBe('#####1....');
    expect(segmentCells(map, 20)).toBe('##########11........');
    map.segments[2]!.pos = 95;
    expect(segmentCells(map, 10)).toBe('#####1..bb');
  });

  it('is bounded by the cell count, whatever the number of segments', () => {
    const segments = Array.from({ length: 10_000 }, (_, i) => ({ start: i * 10, end: i * 10 + 10, pos: i * 10 + (i % 2) * 10 }));
    const cells = segmentCells({ size: 100_000, segments }, 40);
    expect(cells).toHaveLength(40);
    expect(segmentCells({ segments }, 40)).toBe('');
  });
});

describe('resourceUsage', () => {
  it('reports CPU time and memory of this process', () => {
    const u = resourceUsage();
    expect(u.rssBytes).toBeGreaterThan(0);
    expect(u.heapUsedBytes).toBeGreaterThan(0);
    expect(u.heapTotalBytes).toBeGreaterThanOrEqual(u.heapUsedBytes);
    expect(u.cpuUserMs + u.cpuSystemMs).toBeGreaterThan(0);
  });
});
