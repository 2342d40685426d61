import type { DownloadError } from '../errors.js';
import type { DownloadEvents } from '../types.js';
import type { Log } from './Log.js';

/**
 * The connection events a download emits (see the Download's event map), as far as the log reads
 * them. Declared here by shape so that this module needs nothing from the transfer loop.
 */
interface ConnectionEvents {
  rangeStart: [info: { connection: number; start: number; end?: number; attempt: number; host: string }];
  rangeEnd: [info: { connection: number; start: number; bytes: number; outcome: string; error?: DownloadError }];
  split: [info: { connection: number; at: number; end: number }];
  checkpoint: [info: { bytesDone: number }];
  connections: [info: { active: number; target: number; ceiling: number; reason: string }];
}

type ObservedEvents = DownloadEvents & ConnectionEvents;

/** What the bridge needs of a download: its events. */
export interface ObservableDownload {
  on<K extends keyof DownloadEvents & string>(event: K, listener: (...args: DownloadEvents[K]) => void): unknown;
}

/** `start-end` of a range (end exclusive; empty when it runs to the end of the file). */
function rangeText(start: number, end: number | undefined): string {
  return `${start}-${end ?? ''}`;
}

/**
 * Writes a download's story to `log` from its events, so that the engine logs without a single
 * call inside the transfer loop: start and end (info), retries with their reason, restarts and
 * warnings (warn), failure (error), state changes, splits and connection-count decisions (debug),
 * each range request and checkpoint (trace). Every listener checks the level before it builds a
 * field; a download whose log has no logger gets no listener at all.
 */
export function logDownload(download: ObservableDownload, log: Log): void {
  if (!log.attached) return;
  const on = download.on.bind(download) as <K extends keyof ObservedEvents & string>(
    event: K,
    listener: (...args: ObservedEvents[K]) => void,
  ) => unknown;

  on('state', (state) => log.debug('state', () => ({ state })));
  on('start', (info) =>
    log.info('start', () => ({ url: info.url, file: info.file, size: info.size, ranges: info.ranges, resumedBytes: info.resumedBytes })),
  );
  on('retry', ({ error, attempt, delayMs }) =>
    log.warn('retry', () => ({ attempt, delayMs, code: error.code, reason: error.message, ...protocolDetail(error) })),
  );
  on('restart', ({ reason }) => log.warn('restart', () => ({ reason })));
  on('warning', ({ code, message }) => log.warn('warning', () => ({ code, reason: message })));
  on('done', (r) =>
    log.info('done', () => ({
      file: r.file,
      size: r.size,
      durationMs: Math.round(r.durationMs),
      resumed: r.resumed,
      restarts: r.restarts,
      ...(r.digest ? { digest: r.digest.algorithm, verified: r.verified } : {}),
    })),
  );
  on('failed', (error) => log.error('failed', () => ({ code: error.code, reason: error.message, ...protocolDetail(error) })));

  on('rangeStart', (r) =>
    log.trace('range start', () => ({ connection: r.connection, range: rangeText(r.start, r.end), attempt: r.attempt, host: r.host })),
  );
  on('rangeEnd', (r) => {
    const fields = (): Record<string, unknown> => ({
      connection: r.connection,
      start: r.start,
      bytes: r.bytes,
      outcome: r.outcome,
      ...(r.error ? { code: r.error.code, reason: r.error.message } : {}),
    });
    // A failed request is a decision point (the retry policy acts on it); the others are routine.
    if (r.outcome === 'failed') log.debug('range end', fields);
    else log.trace('range end', fields);
  });
  on('split', (s) => log.debug('split', () => ({ connection: s.connection, at: s.at, free: rangeText(s.at, s.end) })));
  on('checkpoint', (c) => log.trace('checkpoint', () => ({ bytesDone: c.bytesDone })));
  on('connections', (c) => log.debug('connections', () => ({ active: c.active, target: c.target, ceiling: c.ceiling, reason: c.reason })));
}

/** The protocol's own detail of an error (status, FTP or SFTP code, errno), when it has some. */
function protocolDetail(error: DownloadError): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['statusCode', 'ftpCode', 'sftpCode', 'errno'] as const) {
    const v = (error as unknown as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}
