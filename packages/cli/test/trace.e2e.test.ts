import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TraceFile, checkTrace } from '@multiget/core';
import { sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, fileSha256 } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

const MiB = 1024 * 1024;
const PASSWORD = 'trace-pass-4242';
const TOKEN = 'tok-trace-9876';

describe('--trace FILE', () => {
  it('writes a valid trace of a segmented download with splits and a retry, spans adding up to the file, no secrets', async () => {
    const server = cleanup.server(await startHttpServer());
    const file = { size: 3 * MiB + 17, seed: 61 };
    // The third request crawls (the others split it); the first body is cut (a retry).
    server.addFile('/t.bin', file, {
      auth: { username: 'me', password: PASSWORD },
      faults: { slowRequest: { nth: 3, bytesPerSec: 512 * 1024 }, dropAfterBytes: 100 * 1024, dropTimes: 1 },
    });
    const dir = await cleanup.tempDir();
    const url = server.url(`/t.bin?sig=${TOKEN}`);
    const r = await cleanup.run(['-c', '4', '--min-split-size', '64K', '-u', `me:${PASSWORD}`, '--json', '--trace', 'run.trace.json', url], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await fileSha256(join(dir, 't.bin'))).toBe(sha256(file));
    const text = await readFile(join(dir, 'run.trace.json'), 'utf8');
    const trace = JSON.parse(text) as TraceFile;
    expect(checkTrace(trace)).toEqual([]);
    const spans = trace.traceEvents.filter((e) => e.ph === 'X' && e.name === 'range');
    expect(spans.reduce((a, e) => a + (e.args!.bytes as number), 0)).toBe(file.size);
    expect(spans.some((e) => e.args!.outcome === 'failed')).toBe(true);
    expect(trace.traceEvents.some((e) => e.name === 'retry')).toBe(true);
    expect(trace.traceEvents.some((e) => e.name === 'split')).toBe(true);
    expect(trace.traceEvents.find((e) => e.name === 'process_name')?.args?.name).toBe('t.bin');
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(TOKEN);
    // --json output stays JSON events only: no segment map, no trace on stdout.
    expect(r.stdout).not.toMatch(/[█▓░]/);
    for (const line of r.stdout.split('\n').filter((l) => l !== '')) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('writes the trace of a failed download too, and exits with the download\'s code', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/gone.bin', { size: 1000 }, { faults: { status: 404 } });
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(['--trace', 't.json', server.url('/gone.bin')], { cwd: dir });
    expect(r.code).not.toBe(0);
    const trace = JSON.parse(await readFile(join(dir, 't.json'), 'utf8')) as TraceFile;
    expect(checkTrace(trace)).toEqual([]);
    expect(trace.traceEvents.find((e) => e.name === 'failed')?.args?.error).toMatchObject({ code: 'MG_ERR_NOT_FOUND' });
  });

  it('refuses to write through a symbolic link, and an empty name', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/a.bin', { size: 1000 });
    const dir = await cleanup.tempDir();
    await writeFile(join(dir, 'victim'), 'keep');
    await symlink(join(dir, 'victim'), join(dir, 'link.json'));
    const r = await cleanup.run(['--trace', 'link.json', server.url('/a.bin')], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Cannot write the trace: .*\[MG_ERR_UNSAFE_PATH\]/);
    expect(await readFile(join(dir, 'victim'), 'utf8')).toBe('keep');
    expect(await fileSha256(join(dir, 'a.bin'))).toBe(sha256({ size: 1000 }));
    const empty = await cleanup.run(['--trace', '', server.url('/a.bin')], { cwd: dir });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/--trace: empty/);
  });
});
