import { describe, expect, it } from 'vitest';
import { InsightStore, formatCpu, resourceText, segmentMapView } from '../src/model/insight';

const resources = { cpuUserMs: 1234, cpuSystemMs: 56, rssBytes: 90 * 1024 * 1024, heapUsedBytes: 30 * 1024 * 1024, heapTotalBytes: 45 * 1024 * 1024, externalBytes: 1024 };

describe('segmentMapView', () => {
  it('merges equal cells into runs and says what it shows', () => {
    const view = segmentMapView('####00..1..#');
    expect(view?.runs).toEqual([
      { kind: 'done', connection: null, cells: 4 },
      { kind: 'flight', connection: 0, cells: 2 },
      { kind: 'left', connection: null, cells: 2 },
      { kind: 'flight', connection: 1, cells: 1 },
      { kind: 'left', connection: null, cells: 2 },
      { kind: 'done', connection: null, cells: 1 },
    ]);
    expect(view?.label).toBe('Segment map: 42% done, 2 connections in flight (25%), 33% left');
    expect(segmentMapView('z')?.runs).toEqual([{ kind: 'flight', connection: 35, cells: 1 }]);
  });

  it('draws nothing for an empty or malformed map', () => {
    for (const cells of [undefined, '', '##<img>', 'AB']) expect(segmentMapView(cells)).toBeUndefined();
  });
});

describe('the footer', () => {
  it('shows the service’s CPU time and memory', () => {
    expect(resourceText(resources)).toBe('Service: CPU 1.3 s (user 1.2 s, system 56 ms) · memory 90.0 MiB · heap 30.0 MiB of 45.0 MiB');
    expect(resourceText(undefined)).toBe('');
    expect([formatCpu(999), formatCpu(61_000), formatCpu(Number.NaN)]).toEqual(['999 ms', '1m 01s', '—']);
  });
});

describe('InsightStore', () => {
  it('gives maps only for downloads transferring now, and keeps figures from progress or status', () => {
    const store = new InsightStore();
    expect(store.view([])).toEqual({ segmentMaps: {}, footer: '' });
    store.progress({ segmentMaps: { a: '#0..', b: '##..' }, resources });
    const view = store.view([
      { id: 'a', state: 'downloading' },
      { id: 'b', state: 'paused' },
    ]);
    expect(Object.keys(view.segmentMaps)).toEqual(['a']);
    expect(view.footer).toContain('Service: CPU');
    // An older service's progress carries neither: what was known stays.
    store.progress({});
    expect(store.view([{ id: 'a', state: 'downloading' }]).segmentMaps['a']).toBeDefined();
    store.status({ segmentMaps: {}, resources: { ...resources, rssBytes: 1024 } });
    expect(store.view([{ id: 'a', state: 'downloading' }])).toEqual({ segmentMaps: {}, footer: expect.stringContaining('memory 1.0 KiB') as unknown as string });
    store.clear();
    expect(store.view([]).footer).toBe('');
  });
});
