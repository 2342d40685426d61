import { describe, expect, it } from 'vitest';
import { parseArgs } from '../src/args/parseArgs.js';
import { protocolPlugins } from '../src/main.js';

describe('the CLI protocol plugins', () => {
  it('name the schemes and names of the plugins they load, and build nothing before asked', async () => {
    const command = parseArgs(['--proxy', 'http://proxy.example:3128', 'http://h/f']);
    if (command.kind !== 'download') throw new Error(command.kind);
    const plugins = protocolPlugins(command.options, undefined, undefined);
    expect(plugins.map((p) => p.loaded)).toEqual([undefined, undefined, undefined]);
    for (const lazy of plugins) {
      const real = await lazy.load();
      expect(real.schemes).toEqual(lazy.schemes);
      expect(real.name).toBe(lazy.name);
      await lazy.close();
    }
  });
});
