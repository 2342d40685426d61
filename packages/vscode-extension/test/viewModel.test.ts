import { describe, expect, it } from 'vitest';
import type { DownloadInfo, DownloadInfoState } from '@multiget/server/protocol';
import { DownloadStore } from '../src/model/DownloadStore';
import { copyableUrl } from '../src/model/copyableUrl';
import { actionsFor, displayName, filterRows, isClearable, rowMatches, statusBarView, summaryText, toRow, toRows, totals } from '../src/model/viewModel';

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
    reason: null,
    error: null,
    addedAt: '2026-01-01T00:00:00.000Z',
    rateLimit: null,
    awaitingCredentials: false,
    ...over,
  };
}

describe('a download paused for an expired link', () => {
  it('shows "Link expired", says its bytes are kept, and offers Update link… instead of Resume', () => {
    const row = toRow(dl({ state: 'paused', reason: 'linkExpired', error: { code: 'MG_ERR_FORBIDDEN', message: 'HTTP 403 Forbidden for https://a.example/files/big.iso' } }));
    expect(row.stateLabel).toBe('Link expired');
    expect(row.linkExpired).toBe(true);
    expect(row.errorText).toMatch(/bytes downloaded so far are kept/);
    expect(row.errorText).not.toMatch(/MG_ERR/);
    expect(row.actions[0]).toBe('updateUrl');
    expect(row.actions).not.toContain('resume');
    // Paused by the user: as before.
    expect(toRow(dl({ state: 'paused' }))).toMatchObject({ stateLabel: 'Paused', actions: expect.arrayContaining(['resume']) });
  });
});

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
      actions: ['pause', 'cancel', 'limits', 'copyUrl', 'exportTrace', 'remove'],
    });
    expect(row.ariaLabel).toBe('big.iso, Downloading, 50 percent');
  });
  it('words the failure of a failed download plainly with its codes, says what was transferred, and offers retry', () => {
    const row = toRow(dl({ state: 'failed', speed: 0, eta: null, connections: 0, error: { code: 'MG_ERR_NOT_FOUND', message: 'HTTP 404 Not Found' } }));
    expect(row.errorText).toMatch(/^The file was not found on .+ \(check the URL\)\. \(HTTP 404 · MG_ERR_NOT_FOUND\)$/);
    expect(row.bytesText).toMatch(/ transferred$|^nothing transferred$/);
    expect(row.speedText).toBe('');
    expect(row.connectionsText).toBe('');
    expect(row.actions).toEqual(['retry', 'copyUrl', 'exportTrace', 'remove']);
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
    const expected: Record<DownloadInfoState, string[]> = {
      queued: ['pause', 'cancel', 'limits', 'copyUrl', 'remove'],
      probing: ['pause', 'cancel', 'limits', 'copyUrl', 'exportTrace', 'remove'],
      downloading: ['pause', 'cancel', 'limits', 'copyUrl', 'exportTrace', 'remove'],
      verifying: ['cancel', 'copyUrl', 'exportTrace', 'remove'],
      paused: ['resume', 'cancel', 'limits', 'copyUrl', 'exportTrace', 'remove'],
      completed: ['open', 'reveal', 'redownload', 'copyUrl', 'deleteFile', 'exportTrace', 'remove'],
      failed: ['retry', 'copyUrl', 'exportTrace', 'remove'],
      canceled: ['retry', 'copyUrl', 'exportTrace', 'remove'],
    };
    for (const [state, actions] of Object.entries(expected)) {
      expect(actionsFor({ state: state as DownloadInfoState, error: null, url: 'https://example.com/f.iso' })).toEqual(actions);
    }
  });

  it('puts the remedy of a failure first: credentials for 401/403 and refused logins, trust for an unknown host key', () => {
    const failed = (code: string, message: string, url = 'https://example.com/f.iso') => actionsFor({ state: 'failed', error: { code, message }, url });
    expect(failed('MG_ERR_AUTH', 'HTTP 401 Unauthorized')).toEqual(['setCredentials', 'retry', 'copyUrl', 'exportTrace', 'remove']);
    expect(failed('MG_ERR_FORBIDDEN', 'HTTP 403 Forbidden')).toEqual(['setCredentials', 'retry', 'copyUrl', 'exportTrace', 'remove']);
    expect(failed('MG_ERR_HOST_KEY_UNKNOWN', 'unknown host key SHA256:abc', 'sftp://h/f')).toEqual(['trustHostKey', 'copyUrl', 'exportTrace', 'remove']);
    // A changed host key can be an attack: nothing to trust, and no remedy button.
    expect(failed('MG_ERR_HOST_KEY_CHANGED', 'host key changed', 'sftp://h/f')).not.toContain('trustHostKey');
    expect(failed('MG_ERR_NOT_FOUND', 'HTTP 404 Not Found')).toEqual(['retry', 'copyUrl', 'exportTrace', 'remove']);
    // The same download cancelled is retried, whatever error it had.
    expect(actionsFor({ state: 'canceled', error: { code: 'MG_ERR_AUTH', message: 'HTTP 401' }, url: 'https://example.com/f.iso' })).toEqual(['retry', 'copyUrl', 'exportTrace', 'remove']);
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
  it('keeps the reverse of the service’s order for downloads added at the same time (the later on top)', () => {
    expect(toRows(list).map((r) => r.id)).toEqual(['g', 'f', 'e', 'd', 'c', 'b', 'a']);
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

describe('newest first, with added and finished times', () => {
  const list = [
    dl({ id: 'old', addedAt: '2026-01-01T08:00:00.000Z', state: 'completed' }),
    dl({ id: 'new', addedAt: '2026-03-01T08:00:00.000Z' }),
    dl({ id: 'mid', addedAt: '2026-02-01T08:00:00.000Z', state: 'failed' }),
    dl({ id: 'bad-time', addedAt: 'not a time', state: 'paused' }),
  ];
  it('orders rows by the time they were added, newest first, whatever the service’s queue order', () => {
    expect(toRows(list).map((r) => r.id)).toEqual(['new', 'mid', 'old', 'bad-time']);
  });
  it('gives finished rows their finish time from the history, and running ones none', () => {
    const finished = new Map([
      ['old', '2026-01-01T08:05:00.000Z'],
      ['mid', '2026-02-01T08:01:00.000Z'],
      ['new', '2025-12-31T00:00:00.000Z'],
    ]);
    const rows = new Map(toRows(list, finished).map((r) => [r.id, r]));
    expect(rows.get('old')).toMatchObject({ addedAt: '2026-01-01T08:00:00.000Z', finishedAt: '2026-01-01T08:05:00.000Z' });
    expect(rows.get('mid')?.finishedAt).toBe('2026-02-01T08:01:00.000Z');
    // A running download's history entry is from an earlier attempt: not its finish.
    expect(rows.get('new')?.finishedAt).toBeNull();
    expect(rows.get('bad-time')?.finishedAt).toBeNull();
  });
  it('shows a download’s own speed limit while it can still transfer', () => {
    expect(toRow(dl({ rateLimit: 512 * 1024 })).limitText).toBe('limit 512.0 KiB/s');
    expect(toRow(dl({ state: 'paused', rateLimit: 2 * 1024 * 1024 })).limitText).toBe('limit 2.0 MiB/s');
    expect(toRow(dl({ state: 'completed', rateLimit: 1024 })).limitText).toBe('');
    expect(toRow(dl({ rateLimit: null })).limitText).toBe('');
  });
});

describe('the filter', () => {
  const rows = toRows([
    dl({ id: 'iso', file: '/d/ubuntu-24.04.iso', url: 'https://releases.example/ubuntu-24.04.iso', state: 'completed', addedAt: '2026-01-01T00:00:00Z' }),
    dl({ id: 'zip', file: '/d/Sources.ZIP', url: 'ftp://mirror.example/pub/sources.zip', state: 'downloading', addedAt: '2026-01-02T00:00:00Z' }),
    dl({ id: 'err', file: null, url: 'https://cdn.example/missing.tar.gz', state: 'failed', addedAt: '2026-01-03T00:00:00Z' }),
  ]);
  const ids = (query: string): string[] => filterRows(rows, query).map((r) => r.id);
  it('matches everything when empty or blank', () => {
    expect(ids('')).toEqual(['err', 'zip', 'iso']);
    expect(ids('   ')).toEqual(['err', 'zip', 'iso']);
  });
  it('matches the name, the URL or the state, case-insensitively', () => {
    expect(ids('UBUNTU')).toEqual(['iso']);
    expect(ids('mirror.example')).toEqual(['zip']);
    expect(ids('ftp://')).toEqual(['zip']);
    expect(ids('failed')).toEqual(['err']);
    expect(ids('completed')).toEqual(['iso']);
    expect(ids('.example')).toEqual(['err', 'zip', 'iso']);
  });
  it('needs every word to match somewhere', () => {
    expect(ids('https downloading')).toEqual([]);
    expect(ids('ftp downloading')).toEqual(['zip']);
    expect(ids('nothing-like-this')).toEqual([]);
  });
  it('treats the query as text, not as a pattern', () => {
    expect(rowMatches({ name: 'a.b', url: 'https://x/a.b', stateLabel: 'Queued' }, 'a*b')).toBe(false);
    expect(rowMatches({ name: 'a(1).b', url: 'https://x/', stateLabel: 'Queued' }, 'a(1)')).toBe(true);
  });
});

describe('Clear completed', () => {
  it('takes completed and cancelled downloads, never running, paused, queued or failed ones', () => {
    const clearable = (['queued', 'probing', 'downloading', 'verifying', 'paused', 'completed', 'failed', 'canceled'] as const).filter((state) =>
      isClearable({ state }),
    );
    expect(clearable).toEqual(['completed', 'canceled']);
  });
  it('leaves the rest of the list, with finish times, once the service removed the cleared ones', () => {
    const store = new DownloadStore();
    store.reset([dl({ id: 'a', state: 'completed' }), dl({ id: 'b', state: 'failed' }), dl({ id: 'c', state: 'canceled' }), dl({ id: 'd' })]);
    store.history([
      { id: 'c', finishedAt: '2026-01-01T00:03:00.000Z' },
      { id: 'b', finishedAt: '2026-01-01T00:02:00.000Z' },
      { id: 'a', finishedAt: '2026-01-01T00:01:00.000Z' },
    ]);
    for (const d of store.all().filter(isClearable)) store.removed(d.id);
    expect(store.all().map((d) => d.id)).toEqual(['b', 'd']);
    expect([...store.finishedAt().keys()]).toEqual(['b']);
  });
});

describe('DownloadStore finish times', () => {
  it('keeps the newest history entry per download, updates on historyAdded and tells listeners', () => {
    const store = new DownloadStore();
    store.reset([dl({ id: 'a', state: 'completed' })]);
    let calls = 0;
    store.onDidChange(() => calls++);
    store.history([
      { id: 'a', finishedAt: '2026-01-02T00:00:00.000Z' },
      { id: 'a', finishedAt: '2026-01-01T00:00:00.000Z' },
    ]);
    expect(store.finishedAt().get('a')).toBe('2026-01-02T00:00:00.000Z');
    store.historyAdded({ id: 'a', finishedAt: '2026-01-03T00:00:00.000Z' });
    expect(store.finishedAt().get('a')).toBe('2026-01-03T00:00:00.000Z');
    expect(calls).toBe(2);
    store.clear();
    expect(store.finishedAt().size).toBe(0);
  });
});

describe('copyableUrl', () => {
  it('never carries a user name, password or signature to the clipboard, and keeps the rest', () => {
    expect(copyableUrl('https://user:s3cret@a.example:8443/f.iso?v=2&sig=1#x')).toBe('https://a.example:8443/f.iso?v=2&sig=***');
    expect(copyableUrl('https://b.example/f?X-Amz-Credential=AKIA&X-Amz-Signature=abc')).toBe('https://b.example/f?X-Amz-Credential=***&X-Amz-Signature=***');
    expect(copyableUrl('ftp://anonymous@mirror.example/pub/a.txt')).toBe('ftp://mirror.example/pub/a.txt');
    expect(copyableUrl('https://a.example/f.iso')).toBe('https://a.example/f.iso');
    expect(copyableUrl('not a url?token=t')).toBe('not a url?token=***');
  });
});
