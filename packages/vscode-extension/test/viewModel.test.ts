import { describe, expect, it } from 'vitest';
import type { DownloadInfo, DownloadState } from '@multiget/server/protocol';
import { DownloadStore } from '../src/model/DownloadStore';
import { actionsFor, displayName, statusBarView, summaryText, toRow, toRows, totals } from '../src/model/viewModel';

function dl(over: Partial<DownloadInfo> = {}): DownloadInfo {
  return {
    id: 'id-1',
    url: 'https://a.example/files/big.iso',
    file: '/home/u/Downloads/big.iso',
    state: 'downloading',
    priority: 0,
    bytes: 512 * 1024,
    total: 1024 * 1024,
    speed: 256 * 1024,
    eta: 2,
    connections: 8,
    error: null,
    addedAt: '2026-01-01T00:00:00.000Z',
    rateLimit: null,
    awaitingCredentials: false,
    ...over,
  };
}

describe('toRow', () => {
  it('shows name, progress, bytes, speed, ETA and connections of a running download', () => {
    const row = toRow(dl());
    expect(row).toMatchObject({
      id: 'id-1',
      name: 'big.iso',
      stateLabel: 'Downloading',
      percent: 50,
      bytesText: '512.0 KiB of 1.0 MiB',
      speedText: '256.0 KiB/s',
      etaText: '2s',
      connectionsText: '8 connections',
      errorText: '',
      actions: ['pause', 'cancel', 'remove'],
    });
    expect(row.ariaLabel).toBe('big.iso, Downloading, 50 percent');
  });
  it('words the failure of a failed download plainly with its codes, says what was transferred, and offers retry', () => {
    const row = toRow(dl({ state: 'failed', speed: 0, eta: null, connections: 0, error: { code: 'MG_ERR_NOT_FOUND', message: 'HTTP 404 Not Found' } }));
    expect(row.errorText).toMatch(/^The file was not found on .+ \(check the URL\)\. \(HTTP 404 · MG_ERR_NOT_FOUND\)$/);
    expect(row.bytesText).toMatch(/ transferred$|^nothing transferred$/);
    expect(row.speedText).toBe('');
    expect(row.connectionsText).toBe('');
    expect(row.actions).toEqual(['retry', 'remove']);
    expect(row.ariaLabel).toContain('MG_ERR_NOT_FOUND');
  });
  it('keeps hostile file names as plain strings (escaping is the DOM’s job)', () => {
    expect(toRow(dl({ file: '/tmp/<img src=x onerror=alert(1)>.bin' })).name).toBe('<img src=x onerror=alert(1)>.bin');
  });
  it('has an indeterminate bar for an unknown size, a full one when completed', () => {
    expect(toRow(dl({ total: null })).percent).toBeNull();
    expect(toRow(dl({ state: 'completed', total: null, speed: 0 })).percent).toBe(100);
  });
  it('shows no speed while probing and says 1 connection in the singular', () => {
    const row = toRow(dl({ state: 'probing', connections: 1 }));
    expect(row.speedText).toBe('');
    expect(row.connectionsText).toBe('1 connection');
  });
});

describe('actionsFor', () => {
  it('offers what the service accepts in each state', () => {
    const expected: Record<DownloadState, string[]> = {
      queued: ['pause', 'cancel', 'remove'],
      probing: ['pause', 'cancel', 'remove'],
      downloading: ['pause', 'cancel', 'remove'],
      verifying: ['cancel', 'remove'],
      paused: ['resume', 'cancel', 'remove'],
      completed: ['open', 'reveal', 'remove'],
      failed: ['retry', 'remove'],
      canceled: ['retry', 'remove'],
    };
    for (const [state, actions] of Object.entries(expected)) expect(actionsFor(state as DownloadState)).toEqual(actions);
  });
});

describe('displayName', () => {
  it('prefers the file, then the URL’s last segment (decoded), then the host', () => {
    expect(displayName({ file: 'C:\\Users\\u\\a.zip', url: 'https://x/y' })).toBe('a.zip');
    expect(displayName({ file: null, url: 'https://a.example/dir/my%20file.txt?x=1' })).toBe('my file.txt');
    expect(displayName({ file: null, url: 'https://a.example/' })).toBe('a.example');
    expect(displayName({ file: null, url: 'https://a.example/%E0%A4%A' })).toBe('%E0%A4%A');
  });
});

describe('totals and the status bar', () => {
  const list = [
    dl({ id: 'a', state: 'downloading', speed: 1024 * 1024 }),
    dl({ id: 'b', state: 'verifying', speed: 0 }),
    dl({ id: 'c', state: 'probing', speed: Number.NaN }),
    dl({ id: 'd', state: 'queued', speed: 0 }),
    dl({ id: 'e', state: 'paused', speed: 0 }),
    dl({ id: 'f', state: 'failed', speed: 0 }),
    dl({ id: 'g', state: 'completed', speed: 0 }),
  ];
  it('counts active downloads and adds up their speed', () => {
    expect(totals(list)).toEqual({ active: 3, queued: 1, paused: 1, failed: 1, completed: 1, speed: 1024 * 1024, count: 7 });
  });
  it('shows a spinner, the active count and the total speed while anything runs', () => {
    const view = statusBarView(totals(list));
    expect(view.text).toBe('$(sync~spin) 3 · 1.0 MiB/s');
    expect(view.tooltip).toContain('3 active at 1.0 MiB/s');
    expect(view.tooltip).toContain('1 failed');
  });
  it('is quiet when nothing runs', () => {
    expect(statusBarView(totals([])).text).toBe('$(cloud-download) Multiget');
    expect(statusBarView(totals([dl({ state: 'queued' })])).text).toBe('$(cloud-download) 1 queued');
  });
  it('summarises the list for the panel header', () => {
    expect(summaryText(totals([]))).toBe('No downloads yet.');
    expect(summaryText(totals(list))).toBe('3 active · 1.0 MiB/s · 7 downloads');
    expect(summaryText(totals([dl({ state: 'completed' })]))).toBe('1 download');
  });
  it('keeps the service’s order in rows', () => {
    expect(toRows(list).map((r) => r.id)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  });
});

describe('DownloadStore', () => {
  it('applies list, changed, progress and removed in queue order', () => {
    const store = new DownloadStore();
    store.reset([dl({ id: 'a' }), dl({ id: 'b' })]);
    store.changed(dl({ id: 'c', state: 'queued' }));
    store.progress([dl({ id: 'a', bytes: 900 * 1024 }), dl({ id: 'zzz' })]);
    store.removed('b');
    expect(store.all().map((d) => d.id)).toEqual(['a', 'c']);
    expect(store.get('a')?.bytes).toBe(900 * 1024);
    expect(store.get('zzz')).toBeUndefined();
  });
  it('reports state transitions once, and none for a list that merely contains finished downloads', () => {
    const store = new DownloadStore();
    const seen: string[] = [];
    store.onDidChange((c) => seen.push(...c.transitions.map((t) => `${t.download.id}:${t.previous ?? '-'}>${t.download.state}`)));
    store.reset([dl({ id: 'old', state: 'completed' })]);
    store.changed(dl({ id: 'n', state: 'queued' }));
    store.changed(dl({ id: 'n', state: 'queued', priority: 5 }));
    store.progress([dl({ id: 'n', state: 'downloading' })]);
    store.changed(dl({ id: 'n', state: 'completed' }));
    store.reset([dl({ id: 'n', state: 'completed' }), dl({ id: 'x', state: 'failed' })]);
    expect(seen).toEqual(['n:->queued', 'n:queued>downloading', 'n:downloading>completed']);
  });
  it('reports a transition that happened while the service restarted', () => {
    const store = new DownloadStore();
    store.reset([dl({ id: 'a', state: 'downloading' })]);
    const seen: string[] = [];
    store.onDidChange((c) => seen.push(...c.transitions.map((t) => t.download.state)));
    store.reset([dl({ id: 'a', state: 'completed' })]);
    expect(seen).toEqual(['completed']);
  });
  it('ignores removal of an unknown id and stops telling removed listeners', () => {
    const store = new DownloadStore();
    let calls = 0;
    const off = store.onDidChange(() => calls++);
    store.removed('nope');
    expect(calls).toBe(0);
    off();
    store.changed(dl());
    expect(calls).toBe(0);
    expect(store.size).toBe(1);
  });
});
