import { createHash } from 'node:crypto';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { recordsOfLog } from '../src/manager/content/contentLog.js';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { DownloadResult } from '../src/index.js';
import { contentFixture } from './helpers/contentManager.js';
import { pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const t = contentFixture();

/** The `crc32-blocks` hex of `data` in blocks of `blockSize`, computed here from the format's definition. */
function blocksHex(data: Buffer, blockSize: number): string {
  const crcs: string[] = [];
  for (let at = 0; at < data.length; at += blockSize) crcs.push(crc32(data.subarray(at, at + blockSize)).toString(16).padStart(8, '0'));
  return createHash('sha256').update(crcs.join('')).digest('hex');
}

function flip(data: Buffer, at: number): Buffer {
  const out = Buffer.from(data);
  out[at] = out[at]! ^ 0x01;
  return out;
}

describe('content store: a record digest built from the block CRCs of the download', () => {
  it('records an unverified download by its block CRCs (no SHA-256 of the file), proves a copy by them, and finds a tampered file stale', async () => {
    const data = pseudoRandom(3 * MiB + 12345, 21);
    t.mem.put('/f.bin', data);
    const m = await t.manager();
    expect((await t.fetch(m, 'mem://h/f.bin', 'a.bin')).state).toBe('completed');
    const records = await t.records(m);
    expect(records).toHaveLength(1);
    expect(records[0]!.digest).toEqual({ algorithm: 'crc32-blocks', hex: blocksHex(data, MiB), blockSize: MiB });

    const fetches = t.mem.fetches.length;
    const m2 = await t.manager();
    const copy = await t.fetch(m2, 'mem://h/f.bin', 'b.bin');
    expect(copy.result?.fromCache).toEqual({ path: join(t.dir, 'a.bin') });
    expect(copy.result?.verified).toBe(false);
    expect(t.mem.fetches.length).toBe(fetches);
    expect(sha256(await readFile(join(t.dir, 'b.bin')))).toBe(sha256(data));
    await m2.close();

    // One bit of one block, in each stored file (the copy is recorded too): same size, other bytes.
    await writeFile(join(t.dir, 'a.bin'), flip(data, 2 * MiB + 5));
    await writeFile(join(t.dir, 'b.bin'), flip(data, data.length - 1));
    const m3 = await t.manager();
    const again = await t.fetch(m3, 'mem://h/f.bin', 'c.bin');
    expect(again.state).toBe('completed');
    expect(again.result).toBeUndefined();
    expect(t.mem.fetches.length).toBeGreaterThan(fetches);
    expect(sha256(await readFile(join(t.dir, 'c.bin')))).toBe(sha256(data));
    expect((await t.records(m3)).map((r) => r.file)).toEqual([join(t.dir, 'c.bin')]);
  });

  it('serves a later download of the same URL with the right checksum from the store, never one with a wrong checksum', async () => {
    const data = pseudoRandom(700 * KiB, 22);
    t.mem.put('/f.bin', data);
    const m = await t.manager();
    await t.fetch(m, 'mem://h/f.bin', 'a.bin');
    expect((await t.records(m))[0]!.digest.algorithm).toBe('crc32-blocks');

    const fetches = t.mem.fetches.length;
    const m2 = await t.manager();
    const right = await t.fetch(m2, 'mem://h/f.bin', 'right.bin', { checksum: `sha256=${sha256(data)}` });
    expect(right.state).toBe('completed');
    expect(right.result).toMatchObject({ fromCache: { path: join(t.dir, 'a.bin') }, verified: true, digest: { algorithm: 'sha256', hex: sha256(data) } });
    expect(t.mem.fetches.length).toBe(fetches);
    // That copy was proven against the checksum and is recorded with it: found from any URL now.
    const mirror = await t.fetch(m2, 'mem://mirror/f.bin', 'mirror.bin', { checksum: `sha256=${sha256(data)}` });
    expect(mirror.result?.fromCache).toEqual({ path: join(t.dir, 'right.bin') });
    expect(t.mem.fetches.length).toBe(fetches);

    const wrong = await t.fetch(m2, 'mem://h/f.bin', 'wrong.bin', { checksum: `sha256=${sha256(flip(data, 0))}` });
    expect(wrong.result).toBeUndefined();
    expect(wrong.state).toBe('failed');
    expect(wrong.error).toBe('MG_ERR_CHECKSUM_MISMATCH');
    expect(t.mem.fetches.length).toBeGreaterThan(fetches);

    // The stored files were not at fault: their records stay.
    expect((await t.records(m2)).map((r) => r.file).sort()).toEqual(['a.bin', 'mirror.bin', 'right.bin'].map((n) => join(t.dir, n)));
  });

  it('records a digest that proves the copy after a download over several connections, split inside blocks, paused and resumed', async () => {
    // 5 MiB + 777 over 4 connections: segment boundaries fall inside 1 MiB blocks, so some blocks
    // are written by two connections (and read back); the pause leaves half-done blocks to resume.
    const data = pseudoRandom(5 * MiB + 777, 23);
    t.mem.put('/f.bin', data, { chunkDelayMs: 10 });
    const m = await t.manager();
    const runs: Array<Promise<DownloadResult>> = [];
    m.engine.hooks.download.tap('Runs', (dl) => void runs.push(dl.done));
    const e = await m.add('mem://h/f.bin', { output: join(t.dir, 'a.bin'), connections: 4 });
    // Bounded: the file takes about 200 ms to serve (64 KiB chunks, 10 ms apart, 4 connections).
    for (let i = 0; i < 1000 && t.mem.bytesServed < 1.5 * MiB; i++) await sleep(2);
    expect(new Set(t.mem.fetches.map((f) => f.start)).size).toBeGreaterThan(1);
    await m.pause(e.id);
    await m.resume(e.id);
    await m.idle();
    expect(m.get(e.id).state).toBe('completed');
    const result = await runs.at(-1)!;
    expect(result.resumed).toBe(true);
    expect(sha256(await readFile(join(t.dir, 'a.bin')))).toBe(sha256(data));
    const records = await t.records(m);
    expect(records[0]!.digest).toEqual({ algorithm: 'crc32-blocks', hex: blocksHex(data, MiB), blockSize: MiB });

    const fetches = t.mem.fetches.length;
    const m2 = await t.manager();
    const copy = await t.fetch(m2, 'mem://h/f.bin', 'b.bin');
    expect(copy.result?.fromCache).toEqual({ path: join(t.dir, 'a.bin') });
    expect(t.mem.fetches.length).toBe(fetches);
  });

  it('falls back to a sha256 of the file for a stream of unknown length (its blocks do not cover it); that record serves too', async () => {
    const data = pseudoRandom(1 * MiB + 99, 24);
    t.mem.put('/s.bin', data, { unknownSize: true, noRanges: true });
    const m = await t.manager();
    await t.fetch(m, 'mem://h/s.bin', 'a.bin');
    expect((await t.records(m))[0]!.digest).toEqual({ algorithm: 'sha256', hex: sha256(data) });
    const fetches = t.mem.fetches.length;
    const m2 = await t.manager();
    const copy = await t.fetch(m2, 'mem://h/s.bin', 'b.bin');
    expect(copy.result?.fromCache).toEqual({ path: join(t.dir, 'a.bin') });
    expect(t.mem.fetches.length).toBe(fetches);
  });

  it('keeps serving from the records of earlier versions (a sha256 of an unverified file), by URL and by checksum', async () => {
    const data = pseudoRandom(600 * KiB, 25);
    t.mem.put('/f.bin', data);
    const m = await t.manager();
    await t.fetch(m, 'mem://h/f.bin', 'a.bin');
    await m.close();
    // What a store written before block digests holds (content.json, the document of that version,
    // which the next manager takes over as its log).
    const log = join(t.dir, 'state', 'content.jsonl');
    const entries = recordsOfLog(await readFile(log, 'utf8'));
    entries[0]!.digest = { algorithm: 'sha256', hex: sha256(data) };
    await writeFile(join(t.dir, 'state', 'content.json'), JSON.stringify({ version: 1, entries }));
    await unlink(log);

    const fetches = t.mem.fetches.length;
    const m2 = await t.manager();
    const byUrl = await t.fetch(m2, 'mem://h/f.bin', 'b.bin');
    expect(byUrl.result?.fromCache).toEqual({ path: join(t.dir, 'a.bin') });
    // Another URL, which the plugin does not even have: found by its digest, no request.
    const byDigest = await t.fetch(m2, 'mem://mirror/f.bin', 'c.bin', { checksum: `sha256=${sha256(data)}` });
    expect(byDigest.result?.fromCache?.path).toMatch(/[/\\][ab]\.bin$/);
    expect(t.mem.fetches.length).toBe(fetches);
    expect(sha256(await readFile(join(t.dir, 'c.bin')))).toBe(sha256(data));
  });

  it('does not probe a URL whose stored files are all gone: forgets them and downloads with its one probe', async () => {
    const data = pseudoRandom(400 * KiB, 26);
    t.mem.put('/f.bin', data);
    const m = await t.manager();
    await t.fetch(m, 'mem://h/f.bin', 'a.bin');
    await t.fetch(m, 'mem://h/f.bin', 'b.bin', { noCache: true });
    await m.close();
    await unlink(join(t.dir, 'a.bin'));
    // b.bin was not recorded (noCache); a file of another size where a.bin was counts as gone too.
    await writeFile(join(t.dir, 'a.bin'), 'not it');

    const m2 = await t.manager();
    let probes = 0;
    m2.engine.hooks.probe.tapPromise({ name: 'CountProbes', stage: 2000 }, async (info) => {
      probes++;
      return info;
    });
    const again = await t.fetch(m2, 'mem://h/f.bin', 'c.bin');
    expect(again.state).toBe('completed');
    expect(again.result).toBeUndefined();
    expect(probes).toBe(1);
    expect((await t.records(m2)).map((r) => r.file)).toEqual([join(t.dir, 'c.bin')]);
  });

  it('leaves checksum auto (a checksum file beside the URL) to the download: no lookup, no warning', async () => {
    const data = pseudoRandom(300 * KiB, 27);
    t.mem.put('/f.bin', data);
    t.mem.put('/f.bin.sha256', Buffer.from(`${sha256(data)}  f.bin\n`));
    const m = await t.manager();
    await t.fetch(m, 'mem://h/f.bin', 'a.bin');
    await m.close();
    const m2 = await t.manager();
    const warnings: string[] = [];
    m2.on('warning', (w) => warnings.push(w.code));
    const auto = await t.fetch(m2, 'mem://h/f.bin', 'b.bin', { checksum: 'auto' });
    expect(auto).toMatchObject({ state: 'completed' });
    expect(auto.result).toBeUndefined();
    expect(warnings).toEqual([]);
  });
});
