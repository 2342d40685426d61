import type { Download } from '../engine/Download.js';
import { DownloadError, ErrorCodes, isDownloadError } from '../errors.js';
import type { Multiget } from '../engine/Multiget.js';
import type { DownloadResult } from '../types.js';
import type { ContentShortcut } from './content/ContentShortcut.js';
import { isLinkExpiry } from './linkExpiry.js';
import type { Entry } from './Queue.js';
import type { EntryState, ManagerSettings } from './types.js';

/** What the manager does when an entry it started moves on: each call is a step of its state machine. */
export interface EntryRunEvents {
  /** The download's state changed (probing, downloading, verifying). */
  set(state: EntryState): void;
  /** The engine's Download exists. */
  started(download: Download): void;
  /** The target file and size are known. */
  targetKnown(): void;
  /** A copy from the content store is in place (`e` holds its file and size): it is complete. */
  cached(result: DownloadResult): void;
  /** The file is complete and in place (and recorded in the content store). */
  completed(result: DownloadResult): void;
  /** It could not start, or failed (`e.error` says why). */
  failed(error: DownloadError): void;
  /**
   * Its link expired mid-download (see isLinkExpiry): not a failure, its bytes are kept; `e` is
   * marked (error, pause reason `linkExpired`, no Download) for a pause until a new link comes.
   */
  linkExpired(error: DownloadError): void;
  /** It was aborted (pause, cancel, close); `canceled` when by a cancel. */
  aborted(canceled: boolean, error: DownloadError): void;
}

/** What starting an entry needs of its manager. */
export interface StartContext {
  /** The engine new downloads run on. */
  readonly engine: Multiget;
  /** The manager's side of the content store; undefined without one. */
  readonly content: ContentShortcut | undefined;
  /** The manager's settings as they are now (a lookup in the content store takes a while). */
  settings(): ManagerSettings;
  /** Whether `e` is still in the manager's list (not removed meanwhile). */
  listed(e: Entry): boolean;
  /** Whether the manager is closing. */
  closed(): boolean;
}

/**
 * Starts `e`, a queued entry given a slot of the queue; it shows `probing` from now on, the
 * content-store lookup included. Its paused Download (a resume of this process) continues; else,
 * unless `noCache`, the content store may serve a copy (see `ContentShortcut.start`); else a new
 * Download runs on the engine.
 */
export function startEntry(e: Entry, context: StartContext, on: EntryRunEvents): void {
  e.startedAt = performance.now();
  e.error = undefined;
  e.fromCache = undefined;
  on.set('probing');
  if (e.download && e.download.state === 'paused') return e.download.resume();
  const run = ++e.run;
  if (e.options.noCache || !context.content) return startDownload(e, context, on);
  const now = { listed: () => context.listed(e), closed: () => context.closed() };
  void context.content.start(e, run, context.settings().dir, now).then((next) => {
    if (next === 'download') startDownload(e, context, on);
    // A copy was made (`fromCache`), or an earlier start's file proved complete where it is.
    else if (next?.fromCache) on.cached(next);
    else if (next) on.completed(next);
  });
}

/**
 * Starts `e` on the engine with its options (one shape: the entry's `AddOptions`, with the
 * manager's settings where the entry leaves a value open) and follows the Download into `e` (and
 * into the content store: a finished file is recorded, a failed download forgotten).
 */
function startDownload(e: Entry, context: StartContext, on: EntryRunEvents): void {
  const { engine, content } = context;
  const settings = context.settings();
  const fail = (error: DownloadError): void => {
    e.error = { code: error.code, message: error.message };
    content?.forget(e.id);
    on.failed(error);
  };
  const o = e.options;
  let dl: Download;
  try {
    const { priority: _p, noCache: _n, existing, ...rest } = o;
    dl = engine.download(e.url, {
      ...rest,
      ...(e.file !== undefined ? { output: e.file } : { dir: o.dir ?? settings.dir }),
      connections: o.connections ?? settings.connections,
      headers: { ...o.headers, ...e.secrets.headers },
      ...(e.secrets.credentials ? { credentials: e.secrets.credentials } : {}),
      // A file this manager chose on an earlier run is its own: resume it, never rename again.
      existing: existing ?? (o.output !== undefined ? 'fail' : 'rename'),
      retries: o.retries ?? settings.retries,
      id: e.id,
      // Mirrors with userinfo: the full URLs are held in memory, the saved ones have none.
      ...(e.secrets.mirrors ? { mirrors: e.secrets.mirrors } : {}),
      previousUrls: e.previousUrls,
    });
  } catch (err) {
    return fail(isDownloadError(err) ? err : new DownloadError(ErrorCodes.INTERNAL, String(err)));
  }
  e.download = dl;
  on.started(dl);
  dl.on('state', (s) => {
    if (e.download !== dl) return;
    if (s === 'probing' || s === 'downloading' || s === 'verifying') on.set(s);
  });
  dl.on('start', (info) => {
    if (e.download !== dl) return;
    e.file = info.file;
    e.targetChosen = true;
    e.total = info.size;
    on.targetKnown();
  });
  dl.on('progress', (p) => {
    e.bytes = p.bytesDone;
    e.total = p.total;
    e.speed = p.speed;
    e.eta = p.eta;
    e.connections = p.connections;
  });
  dl.done.then(
    (result) => {
      if (e.download !== dl) return;
      e.bytes = result.size;
      e.total = result.size;
      e.file = result.file;
      if (e.options.noCache) content?.forget(e.id);
      else content?.record(e.id, e.url, result);
      on.completed(result);
    },
    (err: unknown) => {
      if (e.download !== dl) return;
      const error = isDownloadError(err) ? err : new DownloadError(ErrorCodes.INTERNAL, String(err));
      if (error.code === ErrorCodes.ABORTED) return on.aborted(dl.state === 'canceled', error);
      if (!isLinkExpiry(error, dl)) return fail(error);
      e.error = { code: error.code, message: error.message };
      e.download = undefined;
      e.reason = 'linkExpired';
      on.linkExpired(error);
    },
  );
}
