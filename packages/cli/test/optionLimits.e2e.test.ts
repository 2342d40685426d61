import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OPTION_LIMITS, type NumericOptionName } from '@multiget/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, closedPort } from './helpers.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.dispose());

let dir: string;
/** Nothing listens there: a run that gets past its options fails to connect (exit 3), quickly. */
let url: string;
beforeAll(async () => {
  dir = await cleanup.tempDir();
  url = `http://127.0.0.1:${await closedPort()}/f.bin`;
});

/** How a flag spells values of its option: seconds for milliseconds, plain numbers otherwise. */
function spell(name: NumericOptionName, value: number): string {
  return OPTION_LIMITS[name].unit === 'ms' ? String(value / 1000) : String(value);
}

/** Each flag, the option whose row of OPTION_LIMITS it follows, and values just outside the range. */
const FLAGS: Array<[flag: string, option: NumericOptionName]> = [
  ['--connections', 'connections'],
  ['--max-connection-per-server', 'connections'],
  ['--max-connections-per-host', 'maxConnectionsPerHost'],
  ['--max-concurrent', 'maxConcurrent'],
  ['--min-split-size', 'minSplitSize'],
  ['--limit-rate', 'rateLimit'],
  ['--max-overall-download-limit', 'rateLimit'],
  ['--retries', 'retries'],
  ['--timeout', 'stallTimeoutMs'],
  ['--connect-timeout', 'connectTimeoutMs'],
  ['--lowest-speed-limit', 'lowestSpeed'],
  ['--speed-time', 'lowestSpeedTimeMs'],
];

function outside(name: NumericOptionName): string[] {
  const { min, max, unit } = OPTION_LIMITS[name];
  // One unit (or one millisecond) past each end; below 0 is no number to these flags at all.
  const below = min - 1 >= 0 ? [spell(name, min - 1)] : ['-1'];
  const above = unit === 'ms' ? spell(name, max + 1) : String(BigInt(max) + 1n);
  return [...below, above];
}

async function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const r = await cleanup.run(['--retries', '0', '--connect-timeout', '2', ...args], { cwd: dir });
  return { code: r.code, stderr: r.stderr };
}

describe('every numeric flag follows core\'s OPTION_LIMITS, through the executable', () => {
  it.each(FLAGS)('%s takes its minimum and its maximum and refuses one step outside, naming the flag', async (flag, option) => {
    const { min, max } = OPTION_LIMITS[option];
    for (const value of [min, max]) {
      // Past the option checks: the run tries the network (nothing listens: exit 3), not a usage error.
      const r = await run([`${flag}=${spell(option, value)}`, '-o', 'x.bin', url]);
      expect(r.code, `${flag}=${spell(option, value)}: ${r.stderr}`).toBe(3);
    }
    for (const value of outside(option)) {
      const r = await run([`${flag}=${value}`, '-o', 'x.bin', url]);
      expect(r.code, `${flag}=${value}`).toBe(2);
      expect(r.stderr).toContain(flag);
      expect(r.stderr).toContain('MG_ERR_INVALID_OPTION');
    }
  });

  it('input-file options follow the same limits (split=, max-download-limit=, priority=)', async () => {
    const cases: Array<[key: string, option: NumericOptionName]> = [
      ['split', 'connections'],
      ['max-download-limit', 'rateLimit'],
      ['priority', 'priority'],
    ];
    for (const [key, option] of cases) {
      const { min, max } = OPTION_LIMITS[option];
      for (const value of [min, max]) {
        await writeFile(join(dir, 'urls.txt'), `${url}\n  out=y.bin\n  ${key}=${value}\n`);
        const r = await run(['-i', 'urls.txt']);
        expect(r.code, `${key}=${value}: ${r.stderr}`).toBe(3);
      }
      for (const value of [String(min - 1), String(BigInt(max) + 1n)]) {
        if (key === 'max-download-limit' && value === '0') continue;
        await writeFile(join(dir, 'urls.txt'), `${url}\n  out=y.bin\n  ${key}=${value}\n`);
        const r = await run(['-i', 'urls.txt']);
        expect(r.code, `${key}=${value}`).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`urls\\.txt:3: .*${key}=`));
      }
    }
  });
});
