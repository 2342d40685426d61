import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, type CliEvent, fileSha256, hasAnsi } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

const FILE = { size: 3 * 1024 * 1024 + 17, seed: 11 };

describe('a download', () => {
  it('writes the file with the exact bytes and prints start and done lines', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/data.bin', FILE);
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(['-c', '4', server.url('/data.bin')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await fileSha256(join(dir, 'data.bin'))).toBe(sha256(FILE));
    expect(existsSync(join(dir, 'data.bin.mgpart'))).toBe(false);
    expect(existsSync(join(dir, 'data.bin.mgstate'))).toBe(false);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^start: .*data\.bin/m);
    expect(r.stderr).toMatch(/^done: .*data\.bin/m);
  });

  it('without a terminal prints plain lines: no escape sequences, even with colour allowed', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/data.bin', FILE, { faults: { throttleBytesPerSec: 2 * 1024 * 1024 } });
    server.addFile('/gone', FILE, { faults: { status: 404 } });
    const dir = await cleanup.tempDir();
    const ok = await cleanup.run([server.url('/data.bin')], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    const failed = await cleanup.run([server.url('/gone')], { cwd: dir });
    expect(failed.code).toBe(4);
    for (const text of [ok.stdout, ok.stderr, failed.stdout, failed.stderr]) expect(hasAnsi(text)).toBe(false);
    expect(failed.stderr).toMatch(/^multiget: .* \[MG_ERR_NOT_FOUND\]$/m);
  });

  it('--json prints only valid NDJSON events, ending in done', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/data.bin', FILE, { faults: { throttleBytesPerSec: 4 * 1024 * 1024 } });
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(['--json', '-o', 'out.bin', server.url('/data.bin')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.endsWith('\n')).toBe(true);
    const lines = r.stdout.trimEnd().split('\n');
    const events = lines.map((l) => JSON.parse(l) as CliEvent);
    const types = new Set(['start', 'progress', 'retry', 'restart', 'warning', 'done', 'failed']);
    for (const e of events) {
      expect(types.has(e.type), e.type).toBe(true);
      expect(e.url).toBe(server.url('/data.bin'));
      expect(e.id).toBe(events[0]!.id);
    }
    expect(events[0]!.type).toBe('start');
    const done = events.at(-1)!;
    expect(done).toMatchObject({ type: 'done', file: join(dir, 'out.bin'), size: FILE.size, verified: false });
    expect(r.stderr).toBe('');
    expect(await fileSha256(join(dir, 'out.bin'))).toBe(sha256(FILE));
  });

  it('--json reports a failure as a failed event carrying the error', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/gone', FILE, { faults: { status: 404 } });
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(['--json', server.url('/gone')], { cwd: dir });
    expect(r.code).toBe(4);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as CliEvent);
    expect(events.at(-1)).toMatchObject({ type: 'failed', error: { code: 'MG_ERR_NOT_FOUND', name: expect.any(String) } });
  });

  it('-q prints nothing on success and a single error line on failure', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/data.bin', FILE);
    server.addFile('/gone', FILE, { faults: { status: 404 } });
    const dir = await cleanup.tempDir();
    const ok = await cleanup.run(['-q', server.url('/data.bin')], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('');
    expect(ok.stderr).toBe('');
    expect(await fileSha256(join(dir, 'data.bin'))).toBe(sha256(FILE));
    const failed = await cleanup.run(['-q', server.url('/gone')], { cwd: dir });
    expect(failed.code).toBe(4);
    expect(failed.stdout).toBe('');
    expect(failed.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(failed.stderr).toMatch(/^multiget: .*\[MG_ERR_NOT_FOUND\]\n$/);
  });

  it('-i with -j 3 downloads every file of the list, with its option lines', async () => {
    const server = cleanup.server(await startHttpServer());
    const specs = [1, 2, 3, 4, 5].map((i) => ({ size: 1024 * 1024 + i * 1000, seed: 100 + i }));
    specs.forEach((spec, i) => server.addFile(`/f${i}.bin`, spec, { faults: { throttleBytesPerSec: 4 * 1024 * 1024 } }));
    const dir = await cleanup.tempDir();
    const list = [
      '# five files, three at a time',
      server.url('/f0.bin'),
      '  out=first.bin',
      '  header=X-Entry: zero',
      server.url('/f1.bin'),
      '  dir=sub',
      '',
      server.url('/f2.bin'),
      `  checksum=sha-256=${sha256(specs[2]!)}`,
      server.url('/f3.bin'),
      '  max-connection-per-server=2',
      server.url('/f4.bin'),
    ].join('\n');
    const r = await cleanup.run(['--json', '-j', '3', '-d', 'out', '-i', '-'], { cwd: dir, input: list });
    expect(r.code, r.stderr).toBe(0);
    const paths = ['out/first.bin', 'out/sub/f1.bin', 'out/f2.bin', 'out/f3.bin', 'out/f4.bin'];
    for (const [i, p] of paths.entries()) expect(await fileSha256(join(dir, p)), p).toBe(sha256(specs[i]!));
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as CliEvent);
    const done = events.filter((e) => e.type === 'done');
    expect(done).toHaveLength(5);
    expect(done.find((e) => e.url.endsWith('/f2.bin'))).toMatchObject({ verified: true });
    expect(server.requests('/f0.bin').every((req) => req.headers['x-entry'] === 'zero')).toBe(true);
    expect(server.requests('/f1.bin').some((req) => 'x-entry' in req.headers)).toBe(false);
  });
});

describe('credentials', () => {
  const PASSWORD = 'pa55-W0rd-secret';
  const TOKEN = 'tok-3f9a1c77e0';

  it('never appear in any output, from the URL or from --user, on success or failure', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/private.bin', FILE, { auth: { username: 'alice', password: PASSWORD } });
    server.addFile('/gone', FILE, { faults: { status: 404 } });
    const dir = await cleanup.tempDir();
    const inUrl = server.url('/private.bin').replace('://', `://alice:${PASSWORD}@`);
    const runs = [
      await cleanup.run(['-o', 'a.bin', inUrl], { cwd: dir }),
      await cleanup.run(['--json', '-o', 'b.bin', inUrl], { cwd: dir }),
      await cleanup.run(['-u', `alice:${PASSWORD}`, '-o', 'c.bin', server.url('/private.bin')], { cwd: dir }),
      await cleanup.run(['--json', '-u', `alice:${PASSWORD}`, '-o', 'd.bin', server.url('/private.bin')], { cwd: dir }),
    ];
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const failures = [
      await cleanup.run(['-o', 'e.bin', inUrl.replace('private.bin', 'gone')], { cwd: dir }),
      await cleanup.run(['--json', inUrl.replace('private.bin', 'gone')], { cwd: dir }),
      await cleanup.run(['-u', `alice:${PASSWORD}x`, '-o', 'f.bin', server.url('/private.bin')], { cwd: dir }),
      await cleanup.run([`http://alice:${PASSWORD}@[::1`], { cwd: dir }),
      await cleanup.run(['--retries', '0', `gopher://alice:${PASSWORD}@127.0.0.1/x`], { cwd: dir }),
      await cleanup.run(['--bearer', TOKEN, '--json', server.url('/gone')], { cwd: dir }),
    ];
    expect(failures.map((r) => r.code)).toEqual([4, 4, 4, 2, 2, 4]);
    for (const r of [...runs, ...failures]) {
      const all = r.stdout + r.stderr;
      expect(all).not.toContain(PASSWORD);
      expect(all).not.toContain(encodeURIComponent(PASSWORD));
      expect(all).not.toContain(TOKEN);
    }
    for (const name of ['a.bin', 'b.bin', 'c.bin', 'd.bin']) expect(await fileSha256(join(dir, name))).toBe(sha256(FILE));
  });
});
