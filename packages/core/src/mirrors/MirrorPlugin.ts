import { DownloadError, ErrorCodes, isRetryableCode } from '../errors.js';
import type { HookHost, Plugin, ProtocolDriver } from '../engine/hooks.js';
import { Job, type JobOptions } from '../engine/Job.js';
import { redactUrl, withoutUserinfo } from '../log/redact.js';
import type { ByteSource, RangeRequest, RemoteInfo } from '../types.js';
import { alignToPieces, checkPieces, MAX_HELD_PIECE } from './pieces.js';
import { sameOrigin } from '../util/sameOrigin.js';
import { ABANDONED_WINDOW_MS } from '../transfer/outcomes.js';

const PLUGIN_NAME = 'MirrorPlugin';

/** Bytes compared between a mirror and the reference source before the mirror serves a range. */
const SAMPLE_BYTES = 16 * 1024;
/** Failures in a row without a byte after which a source is left out for the rest of the run. */
const MAX_FAILURES = 3;
/** Milliseconds a source that answered "busy" keeps its cap of connections before one more is tried. */
const BUSY_CAP_MS = 5000;
/** Weight of the newest measurement in a source's smoothed speed. */
const SMOOTHING = 0.5;

/** How a source stands in the run. */
type SourceState = 'unverified' | 'ok' | 'dropped';

/** One place the file can be read from. Index 0 is the download's own URL. */
interface Source {
  readonly index: number;
  /** The URL without secrets, for messages. */
  readonly label: string;
  readonly job: Job;
  readonly driver: ProtocolDriver;
  remote: RemoteInfo;
  state: SourceState;
  /** Connections reading from it now. */
  active: number;
  /** Bytes per second of one connection, smoothed; undefined until measured. */
  speed: number | undefined;
  /** Failures in a row without a byte. */
  failures: number;
  /** Not chosen again before this time (performance.now()), after a failure. */
  coolUntil: number;
  /** Bytes it delivered this run. */
  bytes: number;
  /** Why it was dropped. */
  dropReason?: string;
  /** Connections it took before it answered "busy" (429/503), until `capUntil`: no more go there. */
  cap?: number;
  /** When the busy cap is tried again (performance.now()). */
  capUntil: number;
  /** When a response of it was last let go of while still running (performance.now(); -Infinity: never). */
  abandonedAt: number;
}

/** The sources of one download. */
interface SourceSet {
  readonly sources: Source[];
  /** The bytes every source must agree on, once read from a trusted source. */
  sample: Promise<Uint8Array | undefined> | undefined;
}

/** How one source fared, for the caller (see {@link MirrorPlugin.sourcesOf}). */
export interface SourceReport {
  /** The URL without credentials or signatures. */
  url: string;
  /** `ok`: used (or usable); `dropped`: left out, with `reason`; `unverified`: never needed. */
  state: SourceState;
  /** Bytes it delivered. */
  bytes: number;
  /** Why it was dropped. */
  reason?: string;
}

/**
 * Reads one file from several sources at once: the download's URL and its mirrors (the `mirrors`
 * download option, a Metalink's URLs, or RFC 6249 `Link: <…>; rel=duplicate` headers when a digest
 * is known to check the result).
 *
 * - After the probe, every mirror is probed through its own protocol plugin (HTTP, FTP and SFTP mix);
 *   one whose size differs or that cannot serve ranges is dropped.
 * - Before a mirror serves its first range, 16 KiB from the middle of the file are read from it and
 *   from a trusted source and compared (skipped when piece hashes are known: each piece is checked
 *   as it arrives instead, see `checkPieces`).
 * - Each range request goes to the source with the best measured speed per connection, divided by
 *   the connections it already serves; unmeasured sources are tried first. The engine's dynamic
 *   splitting then gives the slow sources' remaining bytes to the fast ones.
 * - A mirror that fails is left out for a while, and for the run after three failures in a row or at
 *   once when it serves other bytes; its failure reaches the engine as MG_ERR_MIRROR_FAILED
 *   (retryable), so the range is retried from another source, never as a change of the remote file.
 * - Credentials and custom headers go only to sources with the download URL's origin; a mirror
 *   elsewhere gets its own userinfo, if its URL has one, and nothing else.
 */
export class MirrorPlugin implements Plugin {
  readonly name = PLUGIN_NAME;
  readonly #sets = new WeakMap<Job, SourceSet>();

  apply(engine: HookHost): void {
    // After every other probe tap: the remote is known, the digests the server announced too.
    engine.hooks.probe.tapPromise({ name: PLUGIN_NAME, stage: 100 }, async (info, job) => {
      this.#sets.delete(job);
      const urls = mirrorUrls(info, job);
      if (urls.length === 0) return info;
      if (info.size === undefined || !info.ranges || job.driver === undefined) {
        job.warn('MG_WARN_MIRRORS_UNUSED', `Mirrors not used: ${redactUrl(job.url)} does not serve byte ranges of a known size`);
        return info;
      }
      if (usablePieces(job) && info.initialSource) {
        // The probe's open stream would bypass the piece checks: every range goes through them.
        info.initialSource.cancel();
        info.initialSource = undefined;
      }
      const primary: Source = newSource(0, job, job.driver, info);
      primary.state = 'ok';
      const set: SourceSet = { sources: [primary], sample: undefined };
      const pieces = usablePieces(job);
      if (!pieces) {
        // Read now, while the download URL answers (later it may not, and a mirror nobody vouched
        // for would be of no use), and while the mirrors are probed: each mirror's own sample
        // follows its probe, so the comparison costs one round trip more than the probe, not two.
        const view = new Job(job.id, job.url, job.options, job.signal, (w) => job.warn(w.code, w.message));
        view.driver = job.driver;
        view.remote = info;
        set.sample = readSample(newSource(0, view, job.driver, info), job.signal).catch(() => undefined);
      }
      const probed = await Promise.all(
        urls.map(async (url, i) => {
          const mirror = await probeMirror(engine, job, url, i + 1, info);
          if (mirror && !pieces) {
            await verifySample(set, mirror, job.signal, job).catch((err: unknown) => {
              if (job.signal.aborted) throw err;
              failed(set, mirror, err, job);
            });
          }
          return mirror;
        }),
      );
      set.sources.push(...probed.filter((s): s is Source => s !== undefined));
      if (set.sources.length === 1) return info;
      this.#sets.set(job, set);
      const initial = info.initialSource;
      if (initial) {
        // The probe's open stream is a connection to the download's URL like any other: counted, so
        // that a busy cap learned from that server leaves room for it (regression: uncounted, the
        // connection that had carried it found its own server "full" and was retired for good).
        primary.active++;
        const written = initial.written ? initial.written.bind(initial) : undefined;
        info.initialSource = wrap(
          set,
          primary,
          { start: initial.start, end: initial.end, body: initial.body, cancel: (r) => initial.cancel(r), ...(written ? { written } : {}) },
          job.signal,
          job,
        );
      }
      return info;
    });

    // Before the protocol plugins' taps: with mirrors, this tap answers every range request.
    engine.hooks.fetchRange.tapPromise({ name: PLUGIN_NAME, stage: -50 }, async (req, job) => {
      const set = this.#sets.get(job);
      if (!set) return undefined;
      if (job.remote) set.sources[0]!.remote = job.remote;
      return this.#fetch(set, req, job);
    });
  }

  /**
   * How each source of a download fared so far (the download's own URL first), or undefined when
   * the download has no mirrors in use.
   */
  sourcesOf(job: Job): SourceReport[] | undefined {
    const set = this.#sets.get(job);
    return set?.sources.map((s) => ({
      url: s.label,
      state: s.state,
      bytes: s.bytes,
      ...(s.dropReason ? { reason: s.dropReason } : {}),
    }));
  }

  async #fetch(set: SourceSet, req: RangeRequest, job: Job): Promise<ByteSource> {
    const tried = new Set<Source>();
    let lastError: unknown;
    for (;;) {
      const source = choose(set, tried);
      if (!source) {
        if (lastError !== undefined) throw lastError;
        // Every live source is at its busy cap: this connection is one too many (the retry policy
        // retires it while others run).
        if (set.sources.some((s) => s.state !== 'dropped' && s.cap !== undefined)) {
          throw new DownloadError(ErrorCodes.SERVER_BUSY, `Every source of ${redactUrl(job.url)} is busy at its connections`);
        }
        throw new DownloadError(ErrorCodes.MIRROR_FAILED, `No source of ${redactUrl(job.url)} is usable`);
      }
      tried.add(source);
      // Counted from the choice on, so that requests opening at the same moment spread out.
      source.active++;
      try {
        if (source.state === 'unverified') await verifySample(set, source, req.signal, job);
        if (source.state !== 'ok') {
          source.active--;
          continue;
        }
        const size = source.remote.size!;
        const last = req.end ?? size - 1;
        // With piece hashes, whole pieces are fetched so that every byte handed on was checked.
        const span = usablePieces(job) ? alignToPieces(req.start, last, size, job.options.pieces!.length) : undefined;
        const opened = await source.driver.fetchRange(
          {
            ...req,
            ...(span ?? {}),
            ...(source.index === 0 ? {} : { validators: source.remote.validators, size: source.remote.size }),
          },
          source.job,
        );
        const body = span
          ? checkPieces(opened.body, opened.start, req.start, last, size, job.options.pieces!, source.label)
          : opened.body;
        // Checked pieces are held and yielded as views of the source's chunks: the source hears of
        // written chunks only when they pass straight through.
        const written = !span && opened.written ? opened.written.bind(opened) : undefined;
        return wrap(set, source, { start: req.start, end: last, body, cancel: (r) => opened.cancel(r), ...(written ? { written } : {}) }, req.signal, job);
      } catch (err) {
        source.active--;
        if (req.signal.aborted) throw err;
        lastError = failed(set, source, err, job);
      }
    }
  }
}

/** The mirror URLs of a download: its `mirrors` option, else the server's duplicates when a digest can check them. */
function mirrorUrls(info: RemoteInfo, job: Job): URL[] {
  const own = job.options.mirrors;
  const candidates =
    own.length > 0
      ? own
      : (info.duplicates ?? []).filter(() => job.options.checksum !== undefined || info.digests.length > 0 || job.options.pieces);
  // Most downloads have none: no URL is parsed for them.
  if (candidates.length === 0) return [];
  // Compared without userinfo only: URLs that differ in a signed query are different sources.
  const key = (u: URL): string => withoutUserinfo(u).href;
  const seen = new Set([key(job.url), key(info.url)]);
  const out: URL[] = [];
  for (const u of candidates) {
    const k = key(u);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(u);
  }
  return out;
}

function newSource(index: number, job: Job, driver: ProtocolDriver, remote: RemoteInfo): Source {
  return {
    index,
    label: redactUrl(job.url),
    job,
    driver,
    remote,
    state: 'unverified',
    active: 0,
    speed: undefined,
    failures: 0,
    coolUntil: 0,
    capUntil: 0,
    abandonedAt: -Infinity,
    bytes: 0,
  };
}

function drop(source: Source, reason: string, job: Job): void {
  if (source.state === 'dropped') return;
  source.state = 'dropped';
  source.dropReason = reason;
  job.warn('MG_WARN_MIRROR_DROPPED', `Source ${source.label} left out: ${reason}`);
}

/** The options a mirror's requests carry: the caller's secrets only for the download URL's origin. */
function optionsFor(url: URL, job: Job): JobOptions {
  if (sameOrigin(url, job.url)) return { ...job.options, mirrors: [] };
  return { ...job.options, credentials: undefined, headers: {}, mirrors: [], checksum: undefined };
}

async function probeMirror(engine: HookHost, job: Job, url: URL, index: number, primary: RemoteInfo): Promise<Source | undefined> {
  const mirrorJob = new Job(job.id, url, optionsFor(url, job), job.signal, (w) => job.warn(w.code, w.message));
  const label = redactUrl(url);
  try {
    const driver = await engine.hooks.resolve.promise(url, mirrorJob);
    if (!driver) {
      job.warn('MG_WARN_MIRROR_DROPPED', `Source ${label} left out: no protocol plugin for ${url.protocol}`);
      return undefined;
    }
    mirrorJob.driver = driver;
    const remote = await driver.probe(mirrorJob);
    remote.initialSource?.cancel();
    remote.initialSource = undefined;
    mirrorJob.remote = remote;
    const source = newSource(index, mirrorJob, driver, remote);
    if (remote.size !== primary.size) {
      drop(source, `its size is ${remote.size ?? 'unknown'}, not ${primary.size}`, job);
    } else if (!remote.ranges) {
      drop(source, 'it does not serve byte ranges', job);
    }
    return source.state === 'dropped' ? undefined : source;
  } catch (err) {
    if (job.signal.aborted) throw err;
    const why = err instanceof Error ? err.message : String(err);
    job.warn('MG_WARN_MIRROR_DROPPED', `Source ${label} left out: ${why}`);
    return undefined;
  }
}

/** The source for the next range: unmeasured ones first, then the best speed per added connection. */
function choose(set: SourceSet, tried: ReadonlySet<Source>): Source | undefined {
  const now = performance.now();
  let best: Source | undefined;
  let bestScore = -1;
  let cooling: Source | undefined;
  for (const s of set.sources) {
    if (s.state === 'dropped' || tried.has(s)) continue;
    // A server that said it is busy at this many connections gets no more until its cap expires.
    if (s.cap !== undefined && s.capUntil > now && s.active >= s.cap) continue;
    if (s.coolUntil > now) {
      if (!cooling || s.coolUntil < cooling.coolUntil) cooling = s;
      continue;
    }
    const score = s.speed === undefined ? (s.active === 0 ? Infinity : 0) : s.speed / (s.active + 1);
    if (score > bestScore) {
      best = s;
      bestScore = score;
    }
  }
  // Every live source is resting after a failure: the one that rests least is still better than none.
  return best ?? cooling;
}

/** Records a failure of a source; returns the error the engine should see if no other source answers. */
function failed(set: SourceSet, source: Source, err: unknown, job: Job): unknown {
  const code = err instanceof DownloadError ? err.code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  if (code === ErrorCodes.SERVER_BUSY) {
    // Busy is not broken: the source keeps the connections it has and gets no more for a while.
    // The error goes to the engine as it is, so that the retry policy retires this connection
    // when no other source takes the range (the servers want fewer connections). Refused just
    // after one of its responses was let go of while still running, the server may still count
    // that one: no cap is learned from it.
    if (performance.now() - source.abandonedAt < ABANDONED_WINDOW_MS) return err;
    source.cap = Math.max(1, source.active);
    source.capUntil = performance.now() + BUSY_CAP_MS;
    return err;
  }
  source.failures++;
  source.coolUntil = performance.now() + Math.min(30_000, 1000 * 2 ** (source.failures - 1));
  const others = set.sources.some((s) => s !== source && s.state !== 'dropped');
  // A piece with the wrong hash: this source serves other bytes, and no retry will change that.
  const otherBytes = code === ErrorCodes.MIRROR_FAILED;
  if (source.index === 0) {
    // The download's own URL: its errors keep their meaning (a changed file restarts the download).
    if (!others || code === ErrorCodes.REMOTE_CHANGED) return err;
    if (otherBytes || !isRetryableCode(code ?? '') || source.failures >= MAX_FAILURES) drop(source, message, job);
    return new DownloadError(ErrorCodes.MIRROR_FAILED, message, { cause: err });
  }
  if (otherBytes || !isRetryableCode(code ?? '') || source.failures >= MAX_FAILURES) drop(source, message, job);
  return new DownloadError(ErrorCodes.MIRROR_FAILED, otherBytes ? message : `${source.label}: ${message}`, { cause: err });
}

async function readAll(source: ByteSource, limit: number): Promise<Uint8Array> {
  const out = new Uint8Array(limit);
  let n = 0;
  try {
    for await (const chunk of source.body) {
      const take = Math.min(chunk.byteLength, limit - n);
      out.set(chunk.subarray(0, take), n);
      n += take;
      if (n >= limit) break;
    }
  } finally {
    source.cancel();
  }
  return out.subarray(0, n);
}

function sampleRange(size: number): { start: number; length: number } {
  const length = Math.min(SAMPLE_BYTES, size);
  return { start: Math.max(0, Math.floor((size - length) / 2)), length };
}

async function readSample(source: Source, signal: AbortSignal): Promise<Uint8Array> {
  const size = source.remote.size ?? 0;
  const { start, length } = sampleRange(size);
  if (length === 0) return new Uint8Array(0);
  const opened = await source.driver.fetchRange(
    { start, end: start + length - 1, validators: source.remote.validators, size: source.remote.size, signal },
    source.job,
  );
  const bytes = await readAll(opened, length);
  if (bytes.byteLength !== length) {
    throw new DownloadError(ErrorCodes.SHORT_BODY, `${source.label} sent ${bytes.byteLength} of ${length} sample bytes`);
  }
  return bytes;
}

/**
 * Compares a mirror's sample with a trusted source's. With piece hashes the pieces themselves are
 * checked as they arrive, so the mirror is trusted at once.
 */
async function verifySample(set: SourceSet, source: Source, signal: AbortSignal, job: Job): Promise<void> {
  if (usablePieces(job)) {
    source.state = 'ok';
    return;
  }
  if (!set.sample) {
    const reference = set.sources.find((s) => s.state === 'ok');
    if (!reference) return;
    set.sample = readSample(reference, signal).catch(() => undefined);
  }
  // Both samples at once: the reference is usually read already, or on its way.
  const [expected, got] = await Promise.all([set.sample, readSample(source, signal)]);
  if (!expected) {
    // The reference could not be read: try again with the next mirror that needs it.
    set.sample = undefined;
    return;
  }
  if (Buffer.compare(got, expected) === 0) source.state = 'ok';
  else drop(source, 'it serves other bytes than the download URL', job);
}

function usablePieces(job: Job): boolean {
  const pieces = job.options.pieces;
  return pieces !== undefined && pieces.length <= MAX_HELD_PIECE;
}

/**
 * Counts a source's bytes and speed, checks pieces, and turns its failures into MIRROR_FAILED. The
 * caller has counted the connection in `source.active`; the wrapper gives it back once, when the
 * body ends or is cancelled.
 */
function wrap(set: SourceSet, source: Source, opened: ByteSource, signal: AbortSignal, job: Job): ByteSource {
  const body = opened.body;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    source.active--;
  };
  let ended = false;
  async function* counted(): AsyncGenerator<Uint8Array> {
    const began = performance.now();
    let n = 0;
    try {
      for await (const chunk of body) {
        n += chunk.byteLength;
        source.bytes += chunk.byteLength;
        if (source.failures > 0) source.failures = 0;
        yield chunk;
      }
      ended = true;
    } catch (err) {
      ended = true;
      if (signal.aborted) throw err;
      throw failed(set, source, err, job);
    } finally {
      // Let go of before its end (the engine's segment ended first, or was split).
      if (!ended) source.abandonedAt = performance.now();
      release();
      const seconds = (performance.now() - began) / 1000;
      // Short reads say more about latency than speed; they still count once something is measured.
      if (n > 0 && seconds > 0 && (n >= 256 * 1024 || source.speed === undefined)) {
        const speed = n / seconds;
        source.speed = source.speed === undefined ? speed : source.speed * (1 - SMOOTHING) + speed * SMOOTHING;
      }
    }
  }
  return {
    start: opened.start,
    end: opened.end,
    body: counted(),
    cancel: (reason) => {
      release();
      opened.cancel(reason);
    },
    // Bound to its source by the caller.
    ...(opened.written ? { written: opened.written } : {}),
  };
}
