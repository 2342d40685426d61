import type { DownloadInfo, DownloadInfoState } from '@multiget/server/protocol';
import { isActive } from './DownloadStore';
import { describeFailure } from './errorText';
import { formatEta, formatRowBytes, formatSpeed, percentDone } from './format';

/** What a user can do to one download; each is a button in the panel and (most) a command. */
export const DOWNLOAD_ACTIONS = [
  'pause',
  'resume',
  'cancel',
  'retry',
  'remove',
  'open',
  'reveal',
  'copyUrl',
  'deleteFile',
  'redownload',
  'limits',
  'setCredentials',
  'trustHostKey',
  'updateUrl',
  'exportTrace',
] as const;

/** One of {@link DOWNLOAD_ACTIONS}. */
export type DownloadAction = (typeof DOWNLOAD_ACTIONS)[number];

/** Human words for each state, as the panel and the status bar show them. */
export const STATE_LABELS: Readonly<Record<DownloadInfoState, string>> = {
  queued: 'Queued',
  probing: 'Connecting',
  downloading: 'Downloading',
  verifying: 'Verifying',
  paused: 'Paused',
  completed: 'Completed',
  failed: 'Failed',
  canceled: 'Canceled',
};

/** Button captions, short enough for a narrow panel. */
export const ACTION_LABELS: Readonly<Record<DownloadAction, string>> = {
  pause: 'Pause',
  resume: 'Resume',
  cancel: 'Cancel',
  retry: 'Retry',
  remove: 'Remove',
  open: 'Open',
  reveal: 'Reveal',
  copyUrl: 'Copy URL',
  deleteFile: 'Delete File…',
  redownload: 'Download Again…',
  limits: 'Speed & Connections…',
  setCredentials: 'Set Credentials…',
  trustHostKey: 'Trust Host Key…',
  updateUrl: 'Update link…',
  exportTrace: 'Export Trace…',
};

/** What a row shows in place of "Paused" when the service paused it for an expired link. */
export const LINK_EXPIRED_LABEL = 'Link expired';

/** The row's explanation of an expired link: no error codes, the way out instead. */
export const LINK_EXPIRED_TEXT = 'The server stopped accepting this link (it may have expired). Update link… with a new one: the bytes downloaded so far are kept.';

/** True when the service paused `d` because the server stopped accepting its link. */
export function isLinkExpired(d: Pick<DownloadInfo, 'state'> & { reason?: DownloadInfo['reason'] }): boolean {
  return d.state === 'paused' && d.reason === 'linkExpired';
}

/**
 * The actions that make sense for a download, in button order. They follow what the service
 * accepts: pause for queued or running, resume for paused, retry for failed or canceled; open,
 * reveal, delete and download again only once the file is complete; limits while it can still
 * transfer. Copy URL and Remove always; Export Trace… once it has run (the service keeps a trace of
 * every download it ran; a queued one has none). A failure that has its own remedy puts it first: "Set
 * Credentials…" (which retries) for a 401/403 or a refused login, "Trust Host Key…" for an SFTP
 * host key not known yet (its retry follows the trust, and Retry alone would fail the same way).
 * A download paused for an expired link offers "Update link…" instead of Resume.
 */
export function actionsFor(d: Pick<DownloadInfo, 'state' | 'error' | 'url'> & { reason?: DownloadInfo['reason'] }): DownloadAction[] {
  // Resume would only meet the refused link again: a new link is the way on.
  if (isLinkExpired(d)) return ['updateUrl', 'cancel', 'copyUrl', 'remove'];
  switch (d.state) {
    case 'queued':
      return ['pause', 'cancel', 'limits', 'copyUrl', 'remove'];
    case 'probing':
    case 'downloading':
      return ['pause', 'cancel', 'limits', 'copyUrl', 'exportTrace', 'remove'];
    case 'verifying':
      return ['cancel', 'copyUrl', 'exportTrace', 'remove'];
    case 'paused':
      return ['resume', 'cancel', 'limits', 'copyUrl', 'exportTrace', 'remove'];
    case 'completed':
      return ['open', 'reveal', 'redownload', 'copyUrl', 'deleteFile', 'exportTrace', 'remove'];
    case 'failed': {
      const remedies = d.error === null ? ['retry'] : describeFailure(d.error, d.url).remedies;
      if (remedies.includes('setCredentials')) return ['setCredentials', 'retry', 'copyUrl', 'exportTrace', 'remove'];
      if (remedies.includes('trustHostKey')) return ['trustHostKey', 'copyUrl', 'exportTrace', 'remove'];
      return ['retry', 'copyUrl', 'exportTrace', 'remove'];
    }
    case 'canceled':
      return ['retry', 'copyUrl', 'exportTrace', 'remove'];
  }
}

/**
 * States that "Clear completed" takes out of the list: the download is over and nothing is left to
 * resume (a completed file stays on disk; a cancelled download's data is gone). Failed downloads
 * stay, because they keep partial data that Retry continues.
 */
export const CLEARABLE_STATES: ReadonlySet<DownloadInfoState> = new Set<DownloadInfoState>(['completed', 'canceled']);

/** True when "Clear completed" would remove `d`. */
export function isClearable(d: Pick<DownloadInfo, 'state'>): boolean {
  return CLEARABLE_STATES.has(d.state);
}

/** One row of the Downloads panel: display strings only, so the webview only places text. */
export interface DownloadRow {
  id: string;
  /** File name (or the URL's last path segment before the name is known). */
  name: string;
  url: string;
  /** Absolute target path, once known. */
  file: string | null;
  state: DownloadInfoState;
  /** Paused because the server stopped accepting its link: shown as a warning, not an error. */
  linkExpired: boolean;
  stateLabel: string;
  /** 0..100, or `null` when the size is unknown (indeterminate bar). */
  percent: number | null;
  /** `12.0 MiB of 50.0 MiB`. */
  bytesText: string;
  /** `4.0 MiB/s` while active, else empty. */
  speedText: string;
  /** `3m 05s` while active and known, else empty. */
  etaText: string;
  /** `8 connections` while active, else empty. */
  connectionsText: string;
  /** The failure in plain words with its codes (`The file was not found on h (check the URL). (HTTP 404 · MG_ERR_NOT_FOUND)`), else empty. */
  errorText: string;
  actions: DownloadAction[];
  /** `limit 512.0 KiB/s` when the download has its own rate limit, else empty. */
  limitText: string;
  /** ISO 8601 time it was added. */
  addedAt: string;
  /** ISO 8601 time it last completed, failed or was cancelled (from the history), else `null`. */
  finishedAt: string | null;
  /** One sentence for screen readers: name, state, percent. */
  ariaLabel: string;
}

/** The figures of the status bar item and the panel's header. */
export interface Totals {
  /** Downloads probing, downloading or verifying. */
  active: number;
  queued: number;
  paused: number;
  failed: number;
  completed: number;
  /** Sum of the active downloads' speeds in bytes per second. */
  speed: number;
  /** Number of downloads in the list. */
  count: number;
}

/** The name a user recognises: the file's base name, else the URL's last path segment, else the host. */
export function displayName(d: Pick<DownloadInfo, 'file' | 'url'>): string {
  if (d.file !== null && d.file !== '') {
    const base = d.file.split(/[\\/]/).filter((part) => part !== '').pop();
    if (base !== undefined) return base;
  }
  try {
    const url = new URL(d.url);
    const segment = url.pathname.split('/').filter((part) => part !== '').pop();
    if (segment !== undefined) {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    }
    return url.host;
  } catch {
    return d.url;
  }
}

/** The row for one download; `finishedAt` comes from the history (the list does not carry it). */
export function toRow(d: DownloadInfo, finishedAt: string | null = null): DownloadRow {
  const active = isActive(d.state);
  const finished = d.state === 'completed' || d.state === 'failed' || d.state === 'canceled';
  const percent = d.state === 'completed' ? 100 : percentDone(d.bytes, d.total);
  const name = displayName(d);
  const expired = isLinkExpired(d);
  const stateLabel = expired ? LINK_EXPIRED_LABEL : STATE_LABELS[d.state];
  const errorText = expired ? LINK_EXPIRED_TEXT : d.error === null ? '' : describeFailure(d.error, d.url).line;
  const speedText = active && d.state !== 'probing' ? formatSpeed(d.speed) : '';
  const etaText = active && d.eta !== null ? formatEta(d.eta) : '';
  const connectionsText = active ? `${d.connections} ${d.connections === 1 ? 'connection' : 'connections'}` : '';
  const limitText = d.rateLimit !== null && !finished ? `limit ${formatSpeed(d.rateLimit)}` : '';
  const ariaParts = [name, stateLabel];
  if (percent !== null && d.state !== 'completed') ariaParts.push(`${percent} percent`);
  if (errorText !== '') ariaParts.push(errorText);
  return {
    id: d.id,
    name,
    url: d.url,
    file: d.file,
    state: d.state,
    linkExpired: expired,
    stateLabel,
    percent,
    bytesText: formatRowBytes(d.state, d.bytes, d.total),
    speedText,
    etaText,
    connectionsText,
    errorText,
    actions: actionsFor(d),
    limitText,
    addedAt: d.addedAt,
    finishedAt: finished ? finishedAt : null,
    ariaLabel: ariaParts.join(', '),
  };
}

/**
 * Rows for the whole list, newest first (by the time each was added), as browser download lists
 * show them. Equal times keep the reverse of the service's order, so the later addition is on top.
 * `finishedAt` gives a download's last finish time by id (from the history).
 */
export function toRows(downloads: readonly DownloadInfo[], finishedAt: ReadonlyMap<string, string> = new Map()): DownloadRow[] {
  const time = (d: DownloadInfo): number => {
    const t = Date.parse(d.addedAt);
    return Number.isFinite(t) ? t : 0;
  };
  return downloads
    .map((d, index) => ({ d, index, t: time(d) }))
    .sort((a, b) => b.t - a.t || b.index - a.index)
    .map(({ d }) => toRow(d, finishedAt.get(d.id) ?? null));
}

/**
 * True when `row` matches the panel's filter: every word of `query` (case-insensitive) occurs in
 * the name, the URL or the state's label. An empty query matches everything.
 */
export function rowMatches(row: Pick<DownloadRow, 'name' | 'url' | 'stateLabel'>, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return true;
  const haystack = `${row.name}\n${row.url}\n${row.stateLabel}`.toLowerCase();
  return words.every((w) => haystack.includes(w));
}

/** The rows that {@link rowMatches} `query`, in their order. */
export function filterRows<R extends Pick<DownloadRow, 'name' | 'url' | 'stateLabel'>>(rows: readonly R[], query: string): R[] {
  return rows.filter((r) => rowMatches(r, query));
}

/** Counts and total speed over the list. */
export function totals(downloads: readonly DownloadInfo[]): Totals {
  const t: Totals = { active: 0, queued: 0, paused: 0, failed: 0, completed: 0, speed: 0, count: downloads.length };
  for (const d of downloads) {
    if (isActive(d.state)) {
      t.active++;
      t.speed += Number.isFinite(d.speed) && d.speed > 0 ? d.speed : 0;
    } else if (d.state === 'queued') t.queued++;
    else if (d.state === 'paused') t.paused++;
    else if (d.state === 'failed') t.failed++;
    else if (d.state === 'completed') t.completed++;
  }
  return t;
}

/** Text and tooltip of the status bar item (codicons in `$(name)` form). */
export interface StatusBarView {
  text: string;
  tooltip: string;
}

/**
 * The status bar item: a spinning icon with the number of active downloads and their total speed
 * while anything runs, a quiet icon otherwise.
 */
export function statusBarView(t: Totals): StatusBarView {
  const lines: string[] = [];
  if (t.active > 0) lines.push(`${t.active} active at ${formatSpeed(t.speed)}`);
  if (t.queued > 0) lines.push(`${t.queued} queued`);
  if (t.paused > 0) lines.push(`${t.paused} paused`);
  if (t.failed > 0) lines.push(`${t.failed} failed`);
  if (t.completed > 0) lines.push(`${t.completed} completed`);
  const tooltip = `Multiget: ${lines.length > 0 ? lines.join(', ') : 'no downloads'}. Click to show downloads.`;
  if (t.active > 0) return { text: `$(sync~spin) ${t.active} · ${formatSpeed(t.speed)}`, tooltip };
  if (t.queued > 0) return { text: `$(cloud-download) ${t.queued} queued`, tooltip };
  return { text: '$(cloud-download) Multiget', tooltip };
}

/** A one-line summary for the panel's header: `2 active · 3.1 MiB/s · 5 downloads`. */
export function summaryText(t: Totals): string {
  if (t.count === 0) return 'No downloads yet.';
  const parts = [`${t.count} ${t.count === 1 ? 'download' : 'downloads'}`];
  if (t.active > 0) parts.unshift(`${t.active} active · ${formatSpeed(t.speed)}`);
  return parts.join(' · ');
}
