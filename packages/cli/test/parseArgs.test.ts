import { describe, expect, it } from 'vitest';
import { type CliOptions, FLAGS, parseArgs, parseHeader, parseSeconds, parseSize, usageText } from '../src/index.js';

function run(argv: string[]): CliOptions {
  const command = parseArgs(argv);
  if (command.kind !== 'download') throw new Error(`expected a download command, got ${command.kind}`);
  return command.options;
}

function usageCode(argv: string[]): string | undefined {
  try {
    parseArgs(argv);
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('sizes and rates', () => {
  it('reads plain bytes and binary K, M, G units', () => {
    expect(parseSize('1500', '--x', 'rateLimit')).toBe(1500);
    expect(parseSize('1K', '--x', 'rateLimit')).toBe(1024);
    expect(parseSize('2M', '--x', 'rateLimit')).toBe(2 * 1024 * 1024);
    expect(parseSize('2m', '--x', 'rateLimit')).toBe(2 * 1024 * 1024);
    expect(parseSize('1G', '--x', 'rateLimit')).toBe(1024 ** 3);
    expect(parseSize('1.5K', '--x', 'rateLimit')).toBe(1536);
    expect(parseSize('4MiB', '--x', 'rateLimit')).toBe(4 * 1024 * 1024);
    expect(parseSize('512KB', '--x', 'rateLimit')).toBe(512 * 1024);
  });

  it('rejects garbage, negative and zero sizes, naming the flag', () => {
    for (const bad of ['', 'abc', '-1', '0', '2T', '1.5.5M', 'M']) {
      expect(() => parseSize(bad, '--limit-rate', 'rateLimit')).toThrow(/--limit-rate/);
    }
  });

  it('wires --limit-rate, --min-split-size and --max-overall-download-limit', () => {
    const o = run(['--limit-rate', '2M', '--min-split-size', '512K', '--max-overall-download-limit', '10M', 'http://h/f']);
    expect(o.rateLimit).toBe(2 * 1024 * 1024);
    expect(o.minSplitSize).toBe(512 * 1024);
    expect(o.overallRateLimit).toBe(10 * 1024 * 1024);
  });

  it('reads timeouts in seconds, fractions included', () => {
    expect(parseSeconds('30', '--timeout', 'stallTimeoutMs')).toBe(30_000);
    expect(parseSeconds('2.5', '--timeout', 'stallTimeoutMs')).toBe(2500);
    expect(() => parseSeconds('0', '--timeout', 'stallTimeoutMs')).toThrow();
    expect(() => parseSeconds('-3', '--timeout', 'stallTimeoutMs')).toThrow();
    expect(() => parseSeconds('1m', '--timeout', 'stallTimeoutMs')).toThrow();
    const o = run(['--timeout', '5', '--connect-timeout', '1.5', 'http://h/f']);
    expect(o.stallTimeoutMs).toBe(5000);
    expect(o.connectTimeoutMs).toBe(1500);
  });
});

describe('headers', () => {
  it('splits "Name: value" at the first colon and trims the value', () => {
    expect(parseHeader('X-Token: abc:def ')).toEqual(['X-Token', 'abc:def']);
    expect(parseHeader('Accept:text/plain')).toEqual(['Accept', 'text/plain']);
    expect(parseHeader('X-Empty:')).toEqual(['X-Empty', '']);
  });

  it('rejects a missing colon, a bad name and line breaks', () => {
    expect(() => parseHeader('NoColon')).toThrow(/Name: value/);
    // A header without its colon never shows its value (it may be a token).
    expect(() => parseHeader('Authorization Bearer s3cr3t-t0k3n')).toThrow('Invalid header "Authorization…" in --header: expected "Name: value"');
    expect(() => parseHeader(': value')).toThrow();
    expect(() => parseHeader('Bad Name: v')).toThrow(/header name/);
    expect(() => parseHeader('X: a\r\nInjected: b')).toThrow(/line breaks/);
  });

  it('collects repeated -H and --header in order', () => {
    const o = run(['-H', 'A: 1', '--header', 'B: 2', '-H', 'A: 3', 'http://h/f']);
    expect(o.headers).toEqual([
      ['A', '1'],
      ['B', '2'],
      ['A', '3'],
    ]);
  });
});

describe('flags', () => {
  it('has defaults that leave the engine in charge', () => {
    const o = run(['http://h/f']);
    expect(o).toMatchObject({ urls: ['http://h/f'], overwrite: false, jobs: 5, mode: 'human', color: true, noProxy: false, insecure: false });
    expect(o.connections).toBeUndefined();
    expect(o.retries).toBeUndefined();
  });

  it('reads -c and its aria2 alias -x, and short options with attached values', () => {
    expect(run(['-c', '16', 'http://h/f']).connections).toBe(16);
    expect(run(['-x', '4', 'http://h/f']).connections).toBe(4);
    expect(run(['-c8', 'http://h/f']).connections).toBe(8);
    expect(usageCode(['-c', '0', 'http://h/f'])).toBe('MG_ERR_INVALID_OPTION');
    expect(usageCode(['-c', '257', 'http://h/f'])).toBe('MG_ERR_INVALID_OPTION');
    expect(usageCode(['-c', '2.5', 'http://h/f'])).toBe('MG_ERR_INVALID_OPTION');
  });

  it('maps every output and network flag', () => {
    const o = run([
      '-o', 'out.bin', '-d', 'dir', '--overwrite', '-j', '3', '--retries', '0', '--max-connections-per-host', '4',
      '-u', 'me:pa:ss', '-A', 'agent/1', '--max-redirs', '2', '--proxy', 'http://p:3128', '--cacert', 'ca.pem', '-k',
      '--json', '--no-color', '-i', 'list.txt', 'http://h/f',
    ]);
    expect(o).toMatchObject({
      output: 'out.bin',
      dir: 'dir',
      overwrite: true,
      jobs: 3,
      retries: 0,
      maxConnectionsPerHost: 4,
      credentials: { username: 'me', password: 'pa:ss' },
      userAgent: 'agent/1',
      maxRedirects: 2,
      proxy: 'http://p:3128',
      cacert: 'ca.pem',
      insecure: true,
      mode: 'json',
      color: false,
      inputFile: 'list.txt',
    });
    expect(run(['--bearer', 'tok', 'http://h/f']).credentials).toEqual({ bearer: 'tok' });
    expect(run(['-q', 'http://h/f']).mode).toBe('quiet');
    expect(run(['--max-concurrent', '2', 'http://h/f']).jobs).toBe(2);
    expect(run(['--no-proxy', 'http://h/f']).noProxy).toBe(true);
  });

  it('checks checksum syntax up front', () => {
    const hex = 'a'.repeat(64);
    expect(run(['--checksum', `sha256=${hex}`, 'http://h/f']).checksum).toBe(`sha256=${hex}`);
    expect(usageCode(['--checksum', 'sha256=xyz', 'http://h/f'])).toBe('MG_ERR_INVALID_CHECKSUM');
    expect(usageCode(['--checksum', 'crc32=abcd', 'http://h/f'])).toBe('MG_ERR_INVALID_CHECKSUM');
  });

  it('refuses conflicting flags', () => {
    for (const argv of [
      ['--json', '-q'],
      ['-u', 'a:b', '--bearer', 't'],
      ['--proxy', 'http://p:1', '--no-proxy'],
      ['-c', '2', '-x', '3'],
    ]) {
      expect(usageCode([...argv, 'http://h/f']), argv.join(' ')).toBe('MG_ERR_INVALID_OPTION');
    }
  });

  it('refuses unknown flags, missing values and bad values', () => {
    expect(() => parseArgs(['--frobnicate', 'http://h/f'])).toThrow(/--frobnicate.*--help/);
    expect(usageCode(['-o'])).toBe('MG_ERR_INVALID_OPTION');
    expect(usageCode(['--json=yes', 'http://h/f'])).toBe('MG_ERR_INVALID_OPTION');
    expect(usageCode(['-o', '-', 'http://h/f'])).toBe('MG_ERR_INVALID_OPTION');
    expect(usageCode(['-u', 'nopassword', 'http://h/f'])).toBe('MG_ERR_INVALID_OPTION');
    expect(usageCode(['--proxy', 'not a url', 'http://h/f'])).toBe('MG_ERR_INVALID_OPTION');
    // Refused whatever the URLs are (the HTTP plugin, which also checks it, loads only for http URLs).
    expect(usageCode(['--proxy', 'socks4://u:hunter22@p:1080', 'sftp://h/f'])).toBe('MG_ERR_INVALID_OPTION');
    expect(() => parseArgs(['--proxy', 'socks4://u:hunter22@p:1080', 'sftp://h/f'])).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter22') }),
    );
    expect(parseArgs(['--proxy', 'socks5://p:1080', 'http://h/f']).kind).toBe('download');
    expect(usageCode(['-j', '0', 'http://h/f'])).toBe('MG_ERR_INVALID_OPTION');
  });

  it('names a flag whose value is missing or swallowed by the next option, in one line', () => {
    const message = (argv: string[]): string => {
      try {
        parseArgs(argv);
      } catch (err) {
        expect((err as { code?: string }).code).toBe('MG_ERR_INVALID_OPTION');
        return (err as Error).message;
      }
      throw new Error('no error');
    };
    expect(message(['-c', '-d', 'DIR', 'http://h/f'])).toBe('-c needs a value (N), but "-d" follows it; a value that starts with a dash is written --connections=-d');
    expect(message(['http://h/f', '--connections'])).toBe('--connections needs a value (N)');
    expect(message(['-qo'])).toBe('-o needs a value (FILE)');
    expect(message(['--output', '--json', 'http://h/f'])).toMatch(/^--output needs a value \(FILE\), but "--json" follows it/);
    for (const argv of [['-c', '-d', 'DIR'], ['--timeout']]) expect(message(argv)).not.toMatch(/ambiguous|\n/);
    // Values that are fine: attached, after =, a lone dash, or after --.
    expect(run(['-c8', '--dir=-odd', 'http://h/f'])).toMatchObject({ connections: 8, dir: '-odd' });
    expect(run(['--', '-weird-url'])).toMatchObject({ urls: ['-weird-url'] });
  });

  it('never echoes an invalid proxy URL, which may hold a password', () => {
    expect(() => parseArgs(['--proxy', 'http://u:hunter22@[bad', 'http://h/f'])).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter22') }),
    );
  });

  it('answers --help and --version before validating anything else', () => {
    expect(parseArgs(['--help', '--json', '-q']).kind).toBe('help');
    expect(parseArgs(['-V']).kind).toBe('version');
  });

  it('documents every flag in --help', () => {
    const help = usageText();
    for (const f of FLAGS) {
      expect(help).toContain(`--${f.name}`);
      if (f.short) expect(help).toContain(`-${f.short}, --${f.name}`);
    }
    expect(help).toMatch(/Exit codes:[\s\S]*130/);
    expect(help).toMatch(/Examples:/);
  });
});

describe('logging flags', () => {
  it('logs nothing unless asked; each -v adds a level; --log-level wins; --log alone logs at debug', () => {
    expect(run(['u']).logLevel).toBe('off');
    expect(run(['-v', 'u']).logLevel).toBe('info');
    expect(run(['-vv', 'u']).logLevel).toBe('debug');
    expect(run(['-v', '-v', '-v', 'u']).logLevel).toBe('trace');
    expect(run(['-vvvv', 'u']).logLevel).toBe('trace');
    expect(run(['-vvv', '--log-level', 'warn', 'u']).logLevel).toBe('warn');
    expect(run(['--log', 'x.log', 'u'])).toMatchObject({ logLevel: 'debug', logFile: 'x.log' });
    const toStderr = run(['--log', '-', '-v', 'u']);
    expect(toStderr.logLevel).toBe('info');
    expect(toStderr.logFile).toBeUndefined();
    expect(usageCode(['--log-level', 'loud', 'u'])).toBe('MG_ERR_INVALID_OPTION');
    expect(usageCode(['--log', '', 'u'])).toBe('MG_ERR_INVALID_OPTION');
  });

  it('lists them under Logging in --help', () => {
    expect(usageText()).toMatch(/Logging:\n {2}-v, --verbose/);
    expect(FLAGS.find((f) => f.name === 'log-level')?.choices).toEqual(['error', 'warn', 'info', 'debug', 'trace', 'off']);
  });
});
