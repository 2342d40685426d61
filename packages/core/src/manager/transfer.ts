import type { Download } from '../engine/Download.js';
import { DownloadError, ErrorCodes, isDownloadError } from '../errors.js';
import type { Multiget } from '../engine/Multiget.js';
import type { DownloadResult } from '../types.js';
import { isLinkExpiry } from './linkExpiry.js';
import type { Entry } from './Queue.js';
import type { EntryState, ManagerSettings } from './types.js';

/** What the manager does when a download it started moves on. */
export interface TransferEvents {
  /** The download's state changed (probing, downloading, verifying). */
  set(state: EntryState): void;
  /** The engine's Download exists. */
  started(download: Download): void;
  /** The target file and size are known. */
  targetKnown(): void;
  /** The file is complete and in place. */
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

/**
 * Starts `e` on the engine with its options (one shape: the entry's `AddOptions`, with the
 * manager's settings where the entry leaves a value open) and follows the Download into `e`.
 */
export function startTransfer(engine: Multiget, e: Entry, settings: ManagerSettings, on: TransferEvents): void {
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
    const error = isDownloadError(err) ? err : new DownloadError(ErrorCodes.INTERNAL, String(err));
    e.error = { code: error.code, message: error.message };
    on.failed(error);
    return;
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
      on.completed(result);
    },
    (err: unknown) => {
      if (e.download !== dl) return;
      const error = isDownloadError(err) ? err : new DownloadError(ErrorCodes.INTERNAL, String(err));
      if (error.code === ErrorCodes.ABORTED) return on.aborted(dl.state === 'canceled', error);
      e.error = { code: error.code, message: error.message };
      if (!isLinkExpiry(error, dl)) return on.failed(error);
      e.download = undefined;
      e.reason = 'linkExpired';
      on.linkExpired(error);
    },
  );
}
