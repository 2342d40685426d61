import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { OPTION_LIMITS } from '../src/index.js';

describe("the README's options table", () => {
  it('has one row per row of OPTION_LIMITS, with its unit, range and default', async () => {
    const text = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const rows = new Map<string, string[]>();
    for (const line of text.split('\n')) {
      const m = /^\| `(\w+)` \| (.*) \|$/.exec(line);
      if (m) rows.set(m[1]!, m[2]!.split(' | '));
    }
    for (const [name, l] of Object.entries(OPTION_LIMITS)) {
      const max = l.max === Number.MAX_SAFE_INTEGER ? '2^53-1' : String(l.max);
      expect(rows.get(name)?.slice(0, 4), name).toEqual([l.unit, String(l.min), max, String(l.default ?? 'none')]);
    }
  });
});
