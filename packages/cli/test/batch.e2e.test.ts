import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateContent, sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, type CliEvent } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

const FILE = { size: 256 * 1024 + 3, seed: 51 };

function events(stdout: string): CliEvent[] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as CliEvent);
}

describe('several downloads', () => {
  it('ends with a summary line: done, failed, in that order of counts', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/a.bin', FILE);
    server.addFile('/b.bin', FILE);
    server.addFile('/c.bin', FILE);
    server.addFile('/gone', FILE, { faults: { status: 404 } });
    const dir = await cleanup.tempDir();
    const urls = ['/a.bin', '/gone', '/b.bin', '/c.bin'].map((p) => server.url(p));
    const r = await cleanup.run(urls, { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe('summary: 3 done, 1 failed');
    // One download: no summary.
    const one = await cleanup.run(['-o', 'one.bin', server.url('/a.bin')], { cwd: dir });
    expect(one.stderr).not.toMatch(/summary:/);
  });

  it('runs -i entries by priority= (higher first), then in input order', async () => {
    const server = cleanup.server(await startHttpServer());
    for (const name of ['low', 'high', 'mid', 'plain']) server.addFile(`/${name}.bin`, FILE);
    const dir = await cleanup.tempDir();
    const list = [
      server.url('/low.bin'),
      '  priority=-1',
      server.url('/high.bin'),
      '  priority=10',
      server.url('/mid.bin'),
      '  priority=5',
      server.url('/plain.bin'),
    ].join('\n');
    const r = await cleanup.run(['--json', '-j', '1', '-i', '-'], { cwd: dir, input: list });
    expect(r.code, r.stderr).toBe(0);
    const started = events(r.stdout)
      .filter((e) => e.type === 'start')
      .map((e) => e.url.replace(/^.*\//, ''));
    expect(started).toEqual(['high.bin', 'mid.bin', 'plain.bin', 'low.bin']);
  });

  it('--print-checksum prints each finished file\'s digest as sha256sum does, in input order; --json as an event', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/a.bin', FILE);
    server.addFile('/b.bin', { size: 1000, seed: 52 });
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(['--print-checksum', 'sha256', '-d', 'out', server.url('/a.bin'), server.url('/b.bin')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${sha256(FILE)}  ${join(dir, 'out', 'a.bin')}\n${sha256({ size: 1000, seed: 52 })}  ${join(dir, 'out', 'b.bin')}\n`);

    const md5 = createHash('md5').update(generateContent(FILE)).digest('hex');
    const json = await cleanup.run(['--json', '--print-checksum', 'MD5', '-o', 'c.bin', server.url('/a.bin')], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    expect(events(json.stdout).at(-1)).toMatchObject({ type: 'checksum', file: join(dir, 'c.bin'), algorithm: 'md5', hex: md5 });
    expect(createHash('md5').update(await readFile(join(dir, 'c.bin'))).digest('hex')).toBe(md5);

    const bad = await cleanup.run(['--print-checksum', 'crc32', server.url('/a.bin')], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--print-checksum.*crc32/);
  });
});
