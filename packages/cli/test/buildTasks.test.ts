import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliOptions, type TaskSource, buildTasks, parseArgs } from '../src/index.js';

function options(argv: string[]): CliOptions {
  const command = parseArgs([...argv]);
  if (command.kind !== 'download') throw new Error('expected a download command');
  return command.options;
}

function sources(...urls: string[]): TaskSource[] {
  return urls.map((url) => ({ url, headers: [] }));
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('buildTasks', () => {
  it('refuses -o and --checksum with several URLs', () => {
    expect(code(() => buildTasks(options(['-o', 'x']), sources('http://h/a', 'http://h/b')))).toBe('MG_ERR_INVALID_OPTION');
    const hex = 'b'.repeat(64);
    expect(code(() => buildTasks(options(['--checksum', `sha256=${hex}`]), sources('http://h/a', 'http://h/b')))).toBe(
      'MG_ERR_INVALID_OPTION',
    );
  });

  it('refuses no URL at all', () => {
    expect(code(() => buildTasks(options([]), []))).toBe('MG_ERR_INVALID_OPTION');
  });

  it('reports a malformed URL as MG_ERR_INVALID_URL without its credentials', () => {
    expect(() => buildTasks(options([]), sources('http://user:topsecret@[::1'))).toThrow(
      expect.objectContaining({ code: 'MG_ERR_INVALID_URL', message: expect.not.stringContaining('topsecret') }),
    );
    expect(() => buildTasks(options([]), sources('example.com/file.iso'))).toThrow(/did you mean https:\/\/example\.com/);
  });

  it('puts -o under -d, and out= under dir= under -d', () => {
    const [one] = buildTasks(options(['-o', 'f.bin', '-d', 'base']), sources('http://h/a'));
    expect(one!.options.output).toBe(resolve('base', 'f.bin'));
    const [two, three] = buildTasks(options(['-d', 'base']), [
      { url: 'http://h/a', headers: [], dir: 'sub', out: 'x.bin' },
      { url: 'http://h/b', headers: [], dir: 'sub' },
    ]);
    expect(two!.options.output).toBe(resolve('base', 'sub', 'x.bin'));
    expect(three!.options.dir).toBe(resolve('base', 'sub'));
    expect(three!.options.output).toBeUndefined();
  });

  it('refuses two entries that write the same file', () => {
    expect(
      code(() =>
        buildTasks(options([]), [
          { url: 'http://h/a', headers: [], out: 'same.bin' },
          { url: 'http://h/b', headers: [], out: './same.bin' },
        ]),
      ),
    ).toBe('MG_ERR_INVALID_OPTION');
  });

  it('merges command-line headers with per-entry headers (one of an entry replaces one of the same name) and keeps input order', () => {
    const tasks = buildTasks(options(['-H', 'A: 1', '-H', 'C: 3', '-c', '3', '--limit-rate', '1M']), [
      { url: 'http://h/a', headers: [['B', '2'], ['c', '4']], connections: 7 },
      { url: 'http://h/b', headers: [], rateLimit: 2048 },
    ]);
    expect(tasks.map((t) => t.index)).toEqual([0, 1]);
    // Names in lower case: the one shape options keep from here to the engine.
    expect(tasks[0]!.options.headers).toEqual({ a: '1', b: '2', c: '4' });
    expect(tasks[0]!.options.connections).toBe(7);
    expect(tasks[1]!.options.connections).toBe(3);
    expect(tasks[1]!.options.rateLimit).toBe(2048);
    expect(tasks[0]!.options.rateLimit).toBe(1024 * 1024);
    expect(new Set(tasks.map((t) => t.id)).size).toBe(2);
  });

  it('labels tasks without credentials', () => {
    const [t] = buildTasks(options([]), sources('http://me:pw12345@h/a'));
    expect(t!.label).toBe('http://h/a');
    expect(t!.url).toBe('http://me:pw12345@h/a');
  });
});
