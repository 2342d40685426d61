import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Manager,
  Multiget,
  type NumericOptionName,
  OPTION_LIMITS,
  checkOption,
  describeRange,
  normalizeOptions,
  normalizeSettings,
} from '../src/index.js';
import { MemoryPlugin } from './helpers/MemoryPlugin.js';

const NAMES = Object.keys(OPTION_LIMITS) as NumericOptionName[];
/** Options a download takes (AddOptions) and settings a manager takes. */
const DOWNLOAD: NumericOptionName[] = ['connections', 'priority', 'rateLimit', 'retries', 'stallTimeoutMs', 'connectTimeoutMs', 'minSplitSize'];
const SETTINGS: NumericOptionName[] = ['maxConcurrent', 'connections', 'maxConnectionsPerHost', 'maxConnections', 'retries', 'rateLimit'];
/** Engine options (MultigetOptions) that are numbers of the table. */
const ENGINE: NumericOptionName[] = [
  'connections',
  'maxConnectionsPerHost',
  'maxConnections',
  'minSplitSize',
  'retries',
  'connectTimeoutMs',
  'stallTimeoutMs',
  'lowestSpeed',
  'lowestSpeedTimeMs',
  'rateLimit',
  'checkpointIntervalMs',
  'progressIntervalMs',
  'maxRestarts',
];

/** The values just inside and just outside an option's range, and a fraction. */
function edges(name: NumericOptionName): { good: number[]; bad: unknown[] } {
  const { min, max } = OPTION_LIMITS[name];
  const bad: unknown[] = [min - 1, min + 0.5, String(min), null, Number.NaN];
  if (max < Number.MAX_SAFE_INTEGER) bad.push(max + 1);
  else bad.push(Number.MAX_SAFE_INTEGER + 2);
  return { good: [min, max], bad };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

async function rejection(p: Promise<unknown>): Promise<{ code?: string; message?: string } | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err as { code?: string; message?: string };
  }
}

describe('OPTION_LIMITS', () => {
  it('has a unit, an integer range and a default inside it for every option', () => {
    for (const name of NAMES) {
      const l = OPTION_LIMITS[name];
      expect(Number.isSafeInteger(l.min) && Number.isSafeInteger(l.max) && l.min <= l.max, name).toBe(true);
      if (l.default !== undefined) expect(l.default >= l.min && l.default <= l.max, name).toBe(true);
      expect(['count', 'bytes', 'bytes/s', 'ms']).toContain(l.unit);
    }
    expect(describeRange('connections')).toBe('1-256');
    expect(describeRange('rateLimit')).toBe('1 or more');
  });

  it('checkOption accepts each limit at its edges and refuses one step outside, naming the option', () => {
    for (const name of NAMES) {
      const { good, bad } = edges(name);
      for (const v of good) expect(checkOption(name, v)).toBe(v);
      for (const v of bad) {
        expect(() => checkOption(name, v, `--${name}`), `${name} ${String(v)}`).toThrow(new RegExp(`Invalid --${name}:`));
        expect(codeOf(() => checkOption(name, v))).toBe('MG_ERR_INVALID_OPTION');
      }
    }
  });
});

describe('normalizeOptions', () => {
  it('checks every numeric download option at its edges, with the label the caller gives', () => {
    for (const name of DOWNLOAD) {
      const { good, bad } = edges(name);
      for (const v of good) expect((normalizeOptions({ [name]: v }) as Record<string, unknown>)[name]).toBe(v);
      for (const v of bad) {
        expect(() => normalizeOptions({ [name]: v }, (k) => `params.${k}`)).toThrow(new RegExp(`Invalid params\\.${name}:`));
      }
    }
  });

  it('makes paths absolute, lower-cases header names, writes the checksum as ALGO=HEX, and freezes the result', () => {
    const hex = 'AB'.repeat(32);
    const o = normalizeOptions({ output: 'x/f.bin', headers: { 'X-Token': 'a' }, checksum: `SHA-256=${hex}`, noCache: true });
    expect(o.output).toBe(join(process.cwd(), 'x/f.bin'));
    expect(o.headers).toEqual({ 'x-token': 'a' });
    expect(o.checksum).toBe(`sha256=${hex.toLowerCase()}`);
    expect(o.noCache).toBe(true);
    expect(Object.isFrozen(o)).toBe(true);
    // Normalised once: handing the result back returns it as it is.
    expect(normalizeOptions(o)).toBe(o);
  });

  it('refuses unknown options, output with dir, bad headers, a header given twice and bad enums', () => {
    for (const bad of [
      { conections: 4 },
      { output: 'a', dir: 'b' },
      { output: 'dir/' },
      { output: '' },
      { dir: 'a\0b' },
      { headers: { 'bad name': 'x' } },
      { headers: { a: 'x\r\ny: z' } },
      { headers: { 'X-A': '1', 'x-a': '2' } },
      { existing: 'clobber' },
      { noCache: 'yes' },
      { credentials: { username: 'u' } },
    ]) {
      expect(codeOf(() => normalizeOptions(bad)), JSON.stringify(bad)).toBe('MG_ERR_INVALID_OPTION');
    }
    expect(codeOf(() => normalizeOptions({ checksum: 'sha256=xyz' }))).toBe('MG_ERR_INVALID_CHECKSUM');
  });
});

describe('normalizeSettings', () => {
  it('checks every numeric setting at its edges; null rate limit means none', () => {
    for (const name of SETTINGS) {
      const { good, bad } = edges(name);
      for (const v of good) expect((normalizeSettings({ [name]: v }) as Record<string, unknown>)[name]).toBe(v);
      for (const v of bad) {
        if (name === 'rateLimit' && v === null) continue;
        expect(codeOf(() => normalizeSettings({ [name]: v })), `${name} ${String(v)}`).toBe('MG_ERR_INVALID_OPTION');
      }
    }
    expect(normalizeSettings({ rateLimit: null })).toEqual({ rateLimit: undefined });
    expect(codeOf(() => normalizeSettings({ bogus: 1 }))).toBe('MG_ERR_INVALID_OPTION');
  });
});

describe('the engine and the manager go through the same limits', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mg-options-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('Multiget refuses each numeric engine option one step outside its range and takes its edges', () => {
    for (const name of ENGINE) {
      const { good, bad } = edges(name);
      for (const v of good) expect(codeOf(() => new Multiget({ defaultPlugins: false, [name]: v })), `${name} ${v}`).toBeUndefined();
      for (const v of bad) {
        if (v === null) continue;
        expect(codeOf(() => new Multiget({ defaultPlugins: false, [name]: v as number })), `${name} ${String(v)}`).toBe('MG_ERR_INVALID_OPTION');
      }
    }
  });

  it('Manager.add, setSettings, setConnections, setRateLimit and setPriority take the edges and refuse one step out', async () => {
    const m = await Manager.open({ plugins: [new MemoryPlugin()], settings: { dir, maxConcurrent: 1 }, contentDir: false });
    try {
      // Paused at once so that nothing is transferred: these are checks of options only.
      await m.pauseAll();
      for (const name of DOWNLOAD) {
        const { good, bad } = edges(name);
        for (const [i, v] of good.entries()) {
          const e = await m.add(`mem://h/${name}-${i}.bin`, { [name]: v });
          await m.pause(e.id);
        }
        for (const v of bad) {
          const err = await rejection(m.add(`mem://h/${name}-bad.bin`, { [name]: v } as never));
          expect(err?.code, `${name} ${String(v)}`).toBe('MG_ERR_INVALID_OPTION');
          expect(err?.message).toContain(`Invalid ${name}:`);
        }
      }
      for (const name of SETTINGS) {
        const { good, bad } = edges(name);
        for (const v of good) await m.setSettings({ [name]: v });
        for (const v of bad) {
          if (name === 'rateLimit' && v === null) continue;
          expect((await rejection(m.setSettings({ [name]: v } as never)))?.code, `${name} ${String(v)}`).toBe('MG_ERR_INVALID_OPTION');
        }
      }
      const id = m.list()[0]!.id;
      for (const [method, name] of [
        ['setConnections', 'connections'],
        ['setRateLimit', 'rateLimit'],
        ['setPriority', 'priority'],
      ] as const) {
        const { good, bad } = edges(name);
        for (const v of good) await m[method](id, v);
        for (const v of bad) {
          if (v === null) continue;
          expect((await rejection(m[method](id, v as number)))?.code, `${method} ${String(v)}`).toBe('MG_ERR_INVALID_OPTION');
        }
      }
    } finally {
      await m.close();
    }
  });
});
