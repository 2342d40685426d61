import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SavedState, StateFile, redactUrl } from '../src/storage/StateFile.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const state: SavedState = {
  format: 'multiget-state',
  version: 2,
  target: 'a.bin',
  url: 'http://example.test/a.bin',
  finalUrl: 'http://example.test/a.bin',
  size: 100,
  ranges: true,
  validators: { etag: '"v1"', size: 100 },
  segments: [
    [0, 50, 20],
    [50, 100, 100],
  ],
  updatedAt: new Date(0).toISOString(),
};

describe('StateFile', () => {
  it('round-trips a state', async () => {
    const f = new StateFile(join(dir, 'a.bin.mgstate'));
    await f.write(state);
    expect(await f.read()).toEqual(state);
  });

  it('reports no state when the file is missing', async () => {
    expect(await new StateFile(join(dir, 'none')).read()).toBeUndefined();
  });

  it('reports garbage and impossible segments as corrupt', async () => {
    const path = join(dir, 'bad.mgstate');
    await writeFile(path, '{"format":"multiget-state"');
    expect(await new StateFile(path).read()).toBe('corrupt');
    await writeFile(path, JSON.stringify({ ...state, segments: [[0, 50, 60]] }));
    expect(await new StateFile(path).read()).toBe('corrupt');
    await writeFile(path, JSON.stringify({ ...state, segments: [[0, 150, 10]] }));
    expect(await new StateFile(path).read()).toBe('corrupt');
  });

  it('replaces a symlink planted at the state path instead of writing through it', async () => {
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'precious');
    const path = join(dir, 'a.mgstate');
    await symlink(victim, path);
    await new StateFile(path).write(state);
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(state);
  });

  it('refuses to read through a symlink', async () => {
    const real = join(dir, 'real.mgstate');
    await writeFile(real, JSON.stringify(state));
    const link = join(dir, 'link.mgstate');
    await symlink(real, link);
    await expect(new StateFile(link).read()).rejects.toMatchObject({ code: 'ELOOP' });
  });

  it('encodes an unknown end as null', () => {
    expect(StateFile.encodeSegments([{ start: 0, end: Infinity, pos: 5 }])).toEqual([[0, null, 5]]);
  });
});

describe('redactUrl', () => {
  it('removes user name and password', () => {
    expect(redactUrl('http://user:secret@host/path?q=1')).toBe('http://host/path?q=1');
  });
});
