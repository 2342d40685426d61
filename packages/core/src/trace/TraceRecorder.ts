import type { Download } from '../engine/Download.js';
import type { DownloadError } from '../errors.js';
import { ErrorCodes } from '../errors.js';
import { redactUrl } from '../storage/StateFile.js';
import { createFresh } from '../storage/safeCreate.js';
import { fileSystemError } from '../errors.js';
import type { TraceEvent, TraceFile } from './traceFormat.js';

/** Options of a {@link TraceRecorder}. */
export interface TraceRecorderOptions {
  /**
   * The most events kept (metadata aside). Beyond it the oldest events are dropped (and counted in
   * `otherData.droppedEvents`): the end of a download, where a failure shows, matters most.
   * Default 200 000 (a trace file of about 30 MB).
   */
  maxEvents?: number;
  /** The clock, in milliseconds (default `performance.now`). */
  now?: () => number;
}

/** A range request seen starting and not yet ended. */
interface OpenRange {
  ts: number;
  start: number;
  end: number | undefined;
  attempt: number;
  host: string;
}

/** Per attached download. */
interface Track {
  pid: number;
  open: Map<number, OpenRange>;
  /** Connections (tids) already named. */
  named: Set<number>;
  detach: () => void;
}

const DEFAULT_MAX_EVENTS = 200_000;

/**
 * Records what downloads do as a Chrome trace-event file (load it in ui.perfetto.dev or
 * chrome://tracing). Each attached download is a process; its track 0 (`download`) holds the
 * lifecycle (states, retries, checkpoints, restarts, warnings) and track `c + 1` (`connection c`)
 * one complete span per range request (`range`, args `start`, `end` (exclusive, null when to the
 * end), `bytes`, `outcome`, `attempt`, `host`, `error`), with instants for splits and stalls.
 * Counters: `throughput` (bytes per second), `bytes` (bytes done) and `connections`.
 *
 * No secret goes into a trace: URLs are stripped of user info and query, hosts carry no
 * credentials, and error messages pass through the same URL redaction.
 *
 * @example
 * ```ts
 * const recorder = new TraceRecorder();
 * const download = mg.download(url);
 * recorder.attach(download);
 * await download.done.finally(() => recorder.write('trace.json'));
 * ```
 */
export class TraceRecorder {
  readonly #events: TraceEvent[] = [];
  readonly #metadata: TraceEvent[] = [];
  readonly #tracks = new Map<Download, Track>();
  readonly #max: number;
  readonly #now: () => number;
  readonly #t0: number;
  readonly #startedAt = new Date().toISOString();
  #dropped = 0;
  #nextPid = 1;

  constructor(options: TraceRecorderOptions = {}) {
    this.#max = Math.max(1, options.maxEvents ?? DEFAULT_MAX_EVENTS);
    this.#now = options.now ?? (() => performance.now());
    this.#t0 = this.#now();
  }

  /** Events recorded so far (metadata excluded), oldest first. */
  get eventCount(): number {
    return this.#events.length;
  }

  /**
   * Starts recording `download`'s events (from now on; attach right after `mg.download()` to see
   * everything). Returns a function that stops recording it. Attaching twice is a no-op.
   */
  attach(download: Download): () => void {
    const existing = this.#tracks.get(download);
    if (existing) return existing.detach;
    const pid = this.#nextPid++;
    const track: Track = { pid, open: new Map(), named: new Set(), detach: () => undefined };
    this.#meta(pid, 0, 'process_name', { name: `download ${download.id.slice(0, 8)}` });
    this.#meta(pid, 0, 'process_labels', { labels: safeText(download.url) });
    this.#meta(pid, 0, 'thread_name', { name: 'download' });
    this.#meta(pid, 0, 'thread_sort_index', { sort_index: 0 });
    track.named.add(0);

    const on = {
      state: (state: string): void => this.#instant(pid, 0, `state: ${state}`, 'state', {}),
      start: (info: { file: string; size: number | undefined; ranges: boolean; resumedBytes: number; url: string }): void => {
        this.#metadata.find((m) => m.pid === pid && m.name === 'process_name')!.args = { name: baseName(info.file) };
        this.#instant(pid, 0, 'start', 'state', {
          size: info.size ?? null,
          ranges: info.ranges,
          resumedBytes: info.resumedBytes,
          url: safeText(info.url),
        });
      },
      progress: (p: { bytesDone: number; speed: number; connections: number }): void => {
        const ts = this.#ts();
        this.#push({ name: 'throughput', ph: 'C', ts, pid, tid: 0, args: { bytesPerSecond: Math.round(p.speed) } });
        this.#push({ name: 'bytes', ph: 'C', ts, pid, tid: 0, args: { done: p.bytesDone } });
        this.#push({ name: 'connections', ph: 'C', ts, pid, tid: 0, args: { transferring: p.connections } });
      },
      rangeStart: (r: { connection: number; start: number; end?: number; attempt: number; host: string }): void => {
        this.#nameConnection(track, r.connection);
        track.open.set(r.connection, { ts: this.#ts(), start: r.start, end: r.end, attempt: r.attempt, host: safeText(r.host) });
      },
      rangeEnd: (r: { connection: number; start: number; bytes: number; outcome: string; error?: DownloadError }): void => {
        const open = track.open.get(r.connection);
        track.open.delete(r.connection);
        const ts = this.#ts();
        const begin = open?.ts ?? ts;
        this.#nameConnection(track, r.connection);
        this.#push({
          name: 'range',
          cat: 'range',
          ph: 'X',
          ts: begin,
          dur: Math.max(0, ts - begin),
          pid,
          tid: r.connection + 1,
          args: {
            start: r.start,
            end: open?.end ?? null,
            bytes: r.bytes,
            outcome: r.outcome,
            ...(open ? { attempt: open.attempt, host: open.host } : {}),
            ...(r.error ? { error: errorArgs(r.error) } : {}),
          },
        });
        if (r.error?.code === ErrorCodes.STALLED) {
          this.#instant(pid, r.connection + 1, 'stall', 'fault', { error: errorArgs(r.error) });
        }
      },
      split: (s: { connection: number; at: number; end: number }): void => {
        this.#nameConnection(track, s.connection);
        this.#instant(pid, s.connection + 1, 'split', 'range', { at: s.at, end: s.end });
      },
      retry: (r: { error: DownloadError; attempt: number; delayMs: number }): void =>
        this.#instant(pid, 0, 'retry', 'fault', { attempt: r.attempt, delayMs: r.delayMs, error: errorArgs(r.error) }),
      checkpoint: (c: { bytesDone: number }): void => this.#instant(pid, 0, 'checkpoint', 'state', { bytesDone: c.bytesDone }),
      connections: (c: { active: number; target: number; ceiling: number; reason: string }): void => {
        this.#push({ name: 'connection target', ph: 'C', ts: this.#ts(), pid, tid: 0, args: { active: c.active, target: c.target, ceiling: c.ceiling } });
        this.#instant(pid, 0, 'connections', 'connections', { ...c, reason: safeText(c.reason) });
      },
      restart: (r: { reason: string }): void => this.#instant(pid, 0, 'restart', 'fault', { reason: safeText(r.reason) }),
      warning: (w: { code: string; message: string }): void =>
        this.#instant(pid, 0, 'warning', 'fault', { code: w.code, message: safeText(w.message) }),
      done: (r: { size: number; durationMs: number; verified: boolean }): void =>
        this.#instant(pid, 0, 'done', 'state', { size: r.size, durationMs: r.durationMs, verified: r.verified }),
      failed: (e: DownloadError): void => this.#instant(pid, 0, 'failed', 'fault', { error: errorArgs(e) }),
    };
    download.on('state', on.state);
    download.on('start', on.start);
    download.on('progress', on.progress);
    download.on('rangeStart', on.rangeStart);
    download.on('rangeEnd', on.rangeEnd);
    download.on('split', on.split);
    download.on('retry', on.retry);
    download.on('checkpoint', on.checkpoint);
    download.on('connections', on.connections);
    download.on('restart', on.restart);
    download.on('warning', on.warning);
    download.on('done', on.done);
    download.on('failed', on.failed);
    track.detach = (): void => {
      download.off('state', on.state);
      download.off('start', on.start);
      download.off('progress', on.progress);
      download.off('rangeStart', on.rangeStart);
      download.off('rangeEnd', on.rangeEnd);
      download.off('split', on.split);
      download.off('retry', on.retry);
      download.off('checkpoint', on.checkpoint);
      download.off('connections', on.connections);
      download.off('restart', on.restart);
      download.off('warning', on.warning);
      download.off('done', on.done);
      download.off('failed', on.failed);
    };
    this.#tracks.set(download, track);
    return track.detach;
  }

  /**
   * The trace now, as the object written to a file. Range requests still running appear as spans
   * up to now with outcome `inFlight`.
   */
  toJSON(): TraceFile {
    const now = this.#ts();
    const inFlight: TraceEvent[] = [];
    for (const track of this.#tracks.values()) {
      for (const [connection, open] of track.open) {
        inFlight.push({
          name: 'range',
          cat: 'range',
          ph: 'X',
          ts: open.ts,
          dur: Math.max(0, now - open.ts),
          pid: track.pid,
          tid: connection + 1,
          args: { start: open.start, end: open.end ?? null, bytes: 0, outcome: 'inFlight', attempt: open.attempt, host: open.host },
        });
      }
    }
    return {
      traceEvents: [...this.#metadata, ...this.#events, ...inFlight],
      displayTimeUnit: 'ms',
      otherData: { producer: 'multiget', startedAt: this.#startedAt, droppedEvents: this.#dropped },
    };
  }

  /** The trace as JSON text. */
  toString(): string {
    return JSON.stringify(this.toJSON());
  }

  /**
   * Writes the trace to `path`. A regular file there is replaced (the caller named it); a symbolic
   * link or anything but a regular file is refused with MG_ERR_UNSAFE_PATH, never followed.
   */
  async write(path: string): Promise<void> {
    const handle = await createFresh(path, 'the trace file');
    try {
      await handle.writeFile(this.toString());
    } catch (err) {
      throw fileSystemError(err, `write ${path} (the trace file)`);
    } finally {
      await handle.close();
    }
  }

  #ts(): number {
    return Math.max(0, Math.round((this.#now() - this.#t0) * 1000));
  }

  #meta(pid: number, tid: number, name: string, args: Record<string, unknown>): void {
    this.#metadata.push({ name, ph: 'M', ts: 0, pid, tid, args });
  }

  #nameConnection(track: Track, connection: number): void {
    const tid = connection + 1;
    if (track.named.has(tid)) return;
    track.named.add(tid);
    this.#meta(track.pid, tid, 'thread_name', { name: `connection ${connection}` });
    this.#meta(track.pid, tid, 'thread_sort_index', { sort_index: tid });
  }

  #instant(pid: number, tid: number, name: string, cat: string, args: Record<string, unknown>): void {
    this.#push({ name, cat, ph: 'i', s: 't', ts: this.#ts(), pid, tid, args });
  }

  #push(event: TraceEvent): void {
    this.#events.push(event);
    if (this.#events.length > this.#max) {
      // Dropped in batches, so that a long download does not shift the array on every event.
      const cut = Math.max(1, Math.floor(this.#max / 4));
      const drop = Math.min(cut, this.#events.length - 1);
      this.#events.splice(0, drop);
      this.#dropped += drop;
    }
  }
}

/** What a trace says about an error: its code, its message without secrets, its protocol details. */
function errorArgs(error: DownloadError): Record<string, unknown> {
  return {
    code: error.code,
    message: safeText(error.message),
    ...(error.statusCode !== undefined ? { statusCode: error.statusCode } : {}),
    ...(error.errno !== undefined ? { errno: error.errno } : {}),
  };
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

/**
 * Text with every URL in it stripped of user info and query (which may carry a signature or a
 * token). Uses core's `redactUrl` for the user info; logging's `redactUrl` (core/src/log/redact.ts)
 * replaces it when both branches are merged.
 */
export function safeText(text: string): string {
  return text.replace(URL_IN_TEXT, (raw) => {
    try {
      const u = new URL(redactUrl(raw));
      const query = u.search !== '';
      u.search = '';
      u.hash = '';
      return query ? `${u.toString()}?…` : u.toString();
    } catch {
      return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1').replace(/\?.*$/, '?…');
    }
  });
}

function baseName(file: string): string {
  const i = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return i < 0 ? file : file.slice(i + 1);
}
