import { describe, expect, it } from 'vitest';
import { parseInputFile } from '../src/index.js';

const HEX = 'c'.repeat(64);

describe('parseInputFile', () => {
  it('reads one URL a line, skipping blank lines and comments', () => {
    const entries = parseInputFile('# list\n\nhttp://h/a\n   \n  # indented comment\nhttp://h/b\r\n', 'urls.txt');
    expect(entries.map((e) => [e.url, e.line, e.where])).toEqual([
      ['http://h/a', 3, 'urls.txt:3'],
      ['http://h/b', 6, 'urls.txt:6'],
    ]);
  });

  it('attaches indented aria2-style option lines to the URL above', () => {
    const text = [
      'http://h/a',
      '  out=name.bin',
      '\tdir=sub',
      `  checksum=sha-256=${HEX}`,
      '  header=X-One: 1',
      '  header=X-Two: a=b',
      '  max-connection-per-server=4',
      '  max-download-limit=512K',
      'http://h/b',
      `  checksum=sha256=${HEX}`,
      '  split=2',
    ].join('\n');
    const [a, b] = parseInputFile(text, 'urls.txt');
    expect(a).toMatchObject({
      url: 'http://h/a',
      out: 'name.bin',
      dir: 'sub',
      checksum: `sha-256=${HEX}`,
      headers: [
        ['X-One', '1'],
        ['X-Two', 'a=b'],
      ],
      connections: 4,
      rateLimit: 512 * 1024,
    });
    expect(b).toMatchObject({ url: 'http://h/b', checksum: `sha256=${HEX}`, connections: 2, headers: [] });
  });

  it('names the file and line of every mistake', () => {
    const cases: Array<[string, RegExp]> = [
      ['  out=x\nhttp://h/a', /urls\.txt:1: option line .* before any URL/],
      ['http://h/a\n  bogus=1', /urls\.txt:2: unknown option "bogus"/],
      ['http://h/a\n  out', /urls\.txt:2: expected an option line/],
      ['http://h/a\n  checksum=sha256=nothex', /urls\.txt:2: .*checksum/i],
      ['http://h/a\n  header=NoColon', /urls\.txt:2: .*Name: value/],
      ['http://h/a\n  split=0', /urls\.txt:2: .*split=/],
      ['http://h/a http://mirror/a', /urls\.txt:1: a space inside a URL; separate .* with tabs/],
      ['http://h/a\n  priority=high', /urls\.txt:2: .*priority=.*a whole number/],
      ['http://h/a\n  priority=2000000', /urls\.txt:2: Invalid priority=: 2000000 \(expected an integer from -1000000 to 1000000\)/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseInputFile(text, 'urls.txt'), text).toThrow(message);
    }
  });

  it('reads tab-separated URLs on one line as mirrors of one file (aria2 style)', () => {
    const [e] = parseInputFile('http://h/a\tftp://m/a\t\thttp://n/a  \n  out=a.bin', 'urls.txt');
    expect(e).toMatchObject({ url: 'http://h/a', mirrors: ['ftp://m/a', 'http://n/a'], out: 'a.bin' });
  });

  it('reads priority= as a signed integer', () => {
    const [a, b, c] = parseInputFile('http://h/a\n  priority=5\nhttp://h/b\n  priority=-3\nhttp://h/c', 'x');
    expect([a!.priority, b!.priority, c!.priority]).toEqual([5, -3, undefined]);
  });

  it('accepts an empty list and a byte-order mark', () => {
    expect(parseInputFile('', 'x')).toEqual([]);
    expect(parseInputFile('\uFEFFhttp://h/a', 'x').map((e) => e.url)).toEqual(['http://h/a']);
  });
});
