import { setTimeout as sleep } from 'node:timers/promises';
import { DownloadError, ErrorCodes, NetworkError, isDownloadError, toDownloadError } from '../errors.js';
import type { EngineHooks } from '../engine/hooks.js';
import type { Job } from '../engine/Job.js';
import { redactUrl } from '../storage/StateFile.js';
import type { ByteSource, DownloadEvents, FailureContext, RemoteInfo, Segment, SegmentMap } from '../types.js';
import type { HostSlots } from './HostSlots.js';
import { LowestSpeedRule, slowError } from './LowestSpeedRule.js';
import { ABANDONED_WINDOW_MS, LinkRefused, RangesUnusable, isLinkRefusal } from './outcomes.js';
import { type ConnectionPolicy, startPolicySamples } from './policy.js';
import { type Pace, Scheduler } from './Scheduler.js';
import { SegmentWriter } from './SegmentWriter.js';
import type { SpeedMeter } from './SpeedMeter.js';
import type { TokenBucket } from './TokenBucket.js';

/** Downloads with more than this left write their state file before the first byte. */
const EARLY_STATE_BYTES = 8 * 1024 * 1024;
/** A connection's speed counts for end-game splits once its range has run this long (ms). */
const PACE_AFTER_MS = 50;
/** Bodies cut at the same length this many times teach the transfer to ask for no more than that. */
const CUTS_TO_LEARN = 2;
/** Bodies cut shorter than this teach nothing: a flaky link, not a server's rule. */
const MIN_LEARNED_CUT = 64 * 1024;

/** What `connectionPace` reads of a connection. */
export interface PaceSample {
  /** When its current range's first byte arrived (undefined before it). */
  rangeAt: number | undefined;
  /** Bytes its current range received. */
  rangeBytes: number;
  /** Bytes per second of its last range that ran at least `PACE_AFTER_MS`, if any. */
  rate: number | undefined;
}

/**
 * A connection's pace at `now` (ms) for the scheduler's end game: its current range's speed once
 * that has run `PACE_AFTER_MS` (50 ms), else its last range's, else unknown; with the transfer's
 * wait for a first byte (unknown before the first answer).
 */
export function connectionPace(conn: PaceSample, now: number, firstByteMs: number | undefined): Pace | undefined {
  if (firstByteMs === undefined) return undefined;
  const ms = conn.rangeAt === undefined ? 0 : now - conn.rangeAt;
  const bytesPerSecond = ms >= PACE_AFTER_MS ? (conn.rangeBytes * 1000) / ms : conn.rate;
  return bytesPerSecond === undefined ? undefined : { bytesPerSecond, firstByteMs };
}

/** The events a transfer reports through its download. */
export type TransferEvents = Pick<DownloadEvents, 'rangeStart' | 'rangeEnd' | 'split' | 'checkpoint' | 'connections' | 'retry'>;

/** Why a connection was closed on purpose by the loop: never a failure of the download. */
class Retired extends Error {}

/** What a transfer needs: the job (remote, segments, sink), the engine's shared parts, and callbacks. */
export interface TransferOptions {
  readonly job: Job;
  readonly hooks: Pick<EngineHooks, 'fetchRange' | 'failure'>;
  readonly hostSlots: HostSlots;
  readonly bucket: TokenBucket;
  readonly meter: SpeedMeter;
  readonly policy: ConnectionPolicy;
  readonly checkpointIntervalMs: number;
  readonly progressIntervalMs: number;
  /**
   * The storage's checkpoint: records what is on disk now. It must take its snapshot of the
   * segments synchronously (before its first await), then make the bytes durable, then record them.
   */
  readonly checkpoint: () => Promise<void>;
  /** Reports an event of the transfer (the download re-emits it). */
  readonly emit: <K extends keyof TransferEvents>(event: K, ...args: TransferEvents[K]) => void;
  /** Called on every sample tick with the connections transferring right now. */
  readonly tick: (transferring: number) => void;
}

/** One open connection of the loop. */
interface Connection {
  readonly id: number;
  /** When it last stopped reading a response that was still running (-Infinity: never). */
  abandonedAt: number;
  /** The current request's controller. */
  ctl: AbortController | undefined;
  /** When the connection last received a byte (stall timer). */
  last: number;
  /** Closed by the loop (the policy wants fewer): it ends without failing the download. */
  retiring: boolean;
  /** Bytes it received, all requests together; the marks below are readings of it. */
  received: number;
  /** `received` at the previous sample tick. */
  tickFrom: number;
  /** `received` when its current request was made. */
  rangeFrom: number;
  /** When the current request's first byte arrived (undefined before it). */
  rangeAt: number | undefined;
  /** Bytes per second of its last range that ran at least `PACE_AFTER_MS`, if any. */
  rate: number | undefined;
  seg: Segment | undefined;
}

/**
 * The transfer loop of one run: connections claim segments from a {@link Scheduler}, read their
 * sources and write through a {@link SegmentWriter} each; the loop watches for stalls and slow
 * connections, checkpoints through the storage's callback, samples the speed, and follows a
 * {@link ConnectionPolicy} for the number of connections. Resolves when every segment is written.
 */
export class Transfer {
  /** Transfers of this process in `run` now, of any engine (see `ConnectionStart`). */
  static #running = 0;

  readonly #o: TransferOptions;
  readonly #job: Job;
  readonly #remote: RemoteInfo;
  readonly #scheduler: Scheduler;
  readonly #controller = new AbortController();
  readonly #conns = new Map<number, Connection>();
  readonly #live = new Set<Promise<void>>();
  readonly #host: string;
  readonly #single: boolean;
  readonly #ceiling: number;
  readonly #slowRule: LowestSpeedRule;
  // Failures of the download rule: bytes trickled in, yet they are no progress worth a fresh start.
  readonly #belowLowest = new WeakSet<object>();
  // Restarts of one slow connection while its siblings run: the download progresses, so they never
  // count towards its retries (at most one per connection and window).
  readonly #belowSiblings = new WeakSet<object>();
  #fatal: unknown;
  #initial: ByteSource | undefined;
  #nextId = 0;
  #target = 1;
  #active = 0;
  #checkpointing: Promise<void> | undefined;
  #lastSaved = -1;
  /** Milliseconds from a request to its first byte, smoothed over this transfer's requests. */
  #firstByteMs: number | undefined;
  /** How often a body was cut after exactly this many bytes (see `#noteCut`). */
  readonly #cuts = new Map<number, number>();
  /** The most bytes one request asks for, once the server proved that it cuts longer bodies. */
  #requestCap: number | undefined;

  constructor(options: TransferOptions) {
    this.#o = options;
    const job = options.job;
    this.#job = job;
    this.#remote = job.remote!;
    this.#host = this.#remote.url.host;
    this.#scheduler = new Scheduler(job.segments, job.options.minSplitSize);
    this.#scheduler.onSplit = (connection, at, end) => options.emit('split', { connection, at, end });
    this.#scheduler.pace = (id) => this.#pace(id);
    this.#single = !this.#remote.ranges || this.#remote.size === undefined;
    // The plan step decided the connections with the segments; one stream is one connection.
    this.#ceiling = this.#single ? 1 : Math.max(1, job.connections ?? 1);
    this.#slowRule = new LowestSpeedRule(job.options.lowestSpeed, job.options.lowestSpeedTimeMs);
    this.#initial = this.#remote.initialSource;
    this.#remote.initialSource = undefined;
    if (this.#initial && !job.segments.some((s) => s.pos === this.#initial!.start && s.pos < s.end)) {
      // Resumed past the probe's bytes: its stream would only fetch what is already on disk.
      this.#initial.cancel();
      this.#initial = undefined;
    }
  }

  /** Connections transferring right now. */
  get active(): number {
    return this.#active;
  }

  /** The segments and the connection that owns each, now. */
  segmentMap(): SegmentMap {
    const size = this.#remote.size;
    return {
      ...(size === undefined ? {} : { size }),
      segments: this.#scheduler.segments.map((s) => {
        const connection = this.#scheduler.ownerOf(s);
        return { start: s.start, end: s.end, pos: s.pos, ...(connection === undefined ? {} : { connection }) };
      }).sort((a, b) => a.start - b.start),
    };
  }

  /** Runs the connections until every segment is written; checkpoints and samples meanwhile. */
  async run(outer: AbortSignal): Promise<void> {
    Transfer.#running++;
    try {
      await this.#run(outer);
    } finally {
      Transfer.#running--;
    }
  }

  async #run(outer: AbortSignal): Promise<void> {
    const job = this.#job;
    const transfer = this.#controller;
    const onOuterAbort = (): void => transfer.abort(outer.reason);
    outer.addEventListener('abort', onOuterAbort, { once: true });
    const meter = this.#o.meter;
    meter.reset();
    meter.sample(job.bytesDone);
    const ticker = setInterval(() => {
      meter.sample(job.bytesDone);
      this.#o.tick(this.#active);
    }, this.#o.progressIntervalMs);
    const stopSamples = this.#single ? undefined : startPolicySamples((elapsedMs, sinceMs, cpu) => this.#follow(elapsedMs, sinceMs, cpu));
    const saver = setInterval(() => {
      this.#checkpoint().catch((err: unknown) => this.#fail(err));
    }, this.#o.checkpointIntervalMs);
    const stallMs = job.options.stallTimeoutMs;
    const stallTimer = setInterval(() => this.#watch(stallMs), Math.max(50, Math.min(1000, stallMs / 4, job.options.lowestSpeedTimeMs / 4)));
    const scheduler = this.#scheduler;
    try {
      // Short downloads never write a state file: a crash leaves a .mgpart without one, which the
      // next run recognises as its own and starts over. Longer ones (and streams of unknown length,
      // for which no space was reserved) write one at once, so that a disk that fills up before the
      // first checkpoint still finds a state file to update in place (see StateFile.write).
      if (scheduler.remaining > EARLY_STATE_BYTES) await this.#checkpoint();
      this.#target = this.#clamp(this.#o.policy.initial(this.#ceiling, { otherTransfers: Transfer.#running - 1 }));
      for (let i = 0; i < this.#target; i++) this.#open();
      this.#connectionsEvent('initial');
      await this.#drain();
      if (this.#fatal === undefined && !transfer.signal.aborted && !scheduler.complete) {
        // Every connection retired or ran out of work with bytes left: retire cannot strand a segment.
        this.#open();
        await this.#drain();
      }
    } finally {
      clearInterval(ticker);
      stopSamples?.();
      clearInterval(saver);
      clearInterval(stallTimer);
      outer.removeEventListener('abort', onOuterAbort);
      this.#initial?.cancel();
      if (this.#checkpointing) await this.#checkpointing.catch(() => undefined);
      if (this.#fatal !== undefined || outer.aborted || !scheduler.complete) {
        // Stopped early: the state file now reflects every byte on disk, for the next run. (On
        // success it would be deleted at commit a moment later, so it is not written.)
        this.#lastSaved = -1;
        await job.blocks?.settle();
        await this.#checkpoint().catch(() => undefined);
      }
    }
    if (this.#fatal !== undefined) throw this.#fatal;
    if (outer.aborted) throw toDownloadError(outer.reason);
    if (!scheduler.complete) throw new DownloadError(ErrorCodes.INTERNAL, 'The transfer ended with bytes missing');
  }

  #clamp(n: number): number {
    return Math.max(1, Math.min(this.#ceiling, Math.floor(Number.isFinite(n) ? n : this.#ceiling)));
  }

  /** Connections open and not being retired. */
  #openCount(): number {
    let n = 0;
    for (const c of this.#conns.values()) if (!c.retiring) n++;
    return n;
  }

  #connectionsEvent(reason: string): void {
    this.#o.emit('connections', { active: this.#openCount(), target: this.#target, ceiling: this.#ceiling, reason });
  }

  #fail(err: unknown): void {
    if (this.#fatal === undefined) this.#fatal = err;
    this.#controller.abort(err);
  }

  /** Waits until no connection is open (connections opened meanwhile included). */
  async #drain(): Promise<void> {
    while (this.#live.size > 0) await Promise.all([...this.#live]);
  }

  #open(): void {
    const conn: Connection = {
      id: this.#nextId++,
      ctl: undefined,
      last: performance.now(),
      retiring: false,
      received: 0,
      tickFrom: 0,
      rangeFrom: 0,
      rangeAt: undefined,
      rate: undefined,
      abandonedAt: -Infinity,
      seg: undefined,
    };
    this.#conns.set(conn.id, conn);
    const p = this.#runConnection(conn)
      .catch((err: unknown) => this.#fail(err))
      .finally(() => {
        this.#conns.delete(conn.id);
        this.#live.delete(p);
      });
    this.#live.add(p);
  }

  /**
   * The pace of a connection for the scheduler's end-game splits: its current range's speed once
   * that has run a while, else its last range's (a range split off at the end is young when the
   * other connections run out of work, and they do not wait).
   */
  #pace(id: number): Pace | undefined {
    const conn = this.#conns.get(id);
    if (!conn || conn.retiring) return undefined;
    return connectionPace({ rangeAt: conn.rangeAt, rangeBytes: conn.received - conn.rangeFrom, rate: conn.rate }, performance.now(), this.#firstByteMs);
  }

  /** One sample tick: asks the policy for its target and opens or retires connections to match. */
  #follow(elapsedMs: number, sinceTickMs: number, cpu: number | undefined): void {
    if (this.#controller.signal.aborted) return;
    const connections = [...this.#conns.values()]
      .filter((c) => !c.retiring)
      .map((c) => {
        const bytesPerSecond = sinceTickMs > 0 ? ((c.received - c.tickFrom) * 1000) / sinceTickMs : 0;
        c.tickFrom = c.received;
        return { id: c.id, bytesPerSecond, remaining: c.seg ? c.seg.end - c.seg.pos : 0 };
      });
    const decision = this.#o.policy.next({
      elapsedMs,
      bytesPerSecond: this.#o.meter.bytesPerSecond,
      connections,
      ...(cpu === undefined ? {} : { cpu }),
    });
    const target = this.#clamp(decision.target);
    const raised = target > this.#target;
    if (target !== this.#target) {
      this.#target = target;
      this.#connectionsEvent(this.#o.policy.reason ?? 'policy');
    }
    let excess = connections.length - target;
    // A connection the policy names goes even at the target (a straggler): its range returns to
    // the pool and a fresh connection, opened below, takes it.
    let replaced = 0;
    for (const id of decision.retire ?? []) {
      if (!this.#retire(id)) continue;
      if (excess > 0) excess--;
      else replaced++;
    }
    for (let i = connections.length - 1; i >= 0 && excess > 0; i--) {
      if (this.#retire(connections[i]!.id)) excess--;
    }
    if (replaced > 0) this.#connectionsEvent(this.#o.policy.reason ?? 'retired');
    // Only a raised target (or a straggler's replacement) opens connections: one that ran out of
    // work, or that the retry policy retired, is not replaced behind the policy's back.
    if (raised || replaced > 0) {
      for (let n = this.#openCount(); n < target && this.#scheduler.claimable; n++) this.#open();
    }
  }

  #retire(id: number): boolean {
    const conn = this.#conns.get(id);
    if (!conn || conn.retiring) return false;
    conn.retiring = true;
    conn.ctl?.abort(new Retired());
    return true;
  }

  /** The stall timer and the lowest-speed rule. */
  #watch(stallMs: number): void {
    const now = performance.now();
    const url = redactUrl(this.#remote.url);
    for (const c of this.#conns.values()) {
      if (c.ctl && now - c.last > stallMs && !c.ctl.signal.aborted) {
        c.ctl.abort(new NetworkError(ErrorCodes.STALLED, `No data for ${Math.round(stallMs / 1000)} s from ${url}`));
      }
    }
    const { lowestSpeed, lowestSpeedTimeMs } = this.#job.options;
    for (const verdict of this.#slowRule.check(now)) {
      const c = this.#conns.get(verdict.worker);
      if (!c?.ctl || c.ctl.signal.aborted) continue;
      const error = slowError(verdict, lowestSpeed, lowestSpeedTimeMs, url);
      (verdict.kind === 'download' ? this.#belowLowest : this.#belowSiblings).add(error);
      c.ctl.abort(error);
    }
  }

  /** Checkpoints at most once at a time, and only when bytes were written since the last one. */
  #checkpoint(): Promise<void> {
    if (this.#checkpointing) return this.#checkpointing;
    const done = this.#job.bytesDone;
    if (done === this.#lastSaved) return Promise.resolve();
    this.#checkpointing = this.#o
      .checkpoint()
      .then(() => {
        this.#lastSaved = done;
        this.#o.emit('checkpoint', { bytesDone: done });
      })
      .finally(() => (this.#checkpointing = undefined));
    return this.#checkpointing;
  }

  async #runConnection(conn: Connection): Promise<void> {
    const signal = this.#controller.signal;
    const scheduler = this.#scheduler;
    const job = this.#job;
    await this.#o.hostSlots.acquire(this.#host, signal);
    try {
      let attempt = 0;
      while (!signal.aborted && !conn.retiring) {
        const seg = scheduler.claim(conn.id);
        if (!seg) return;
        conn.seg = seg;
        const before = seg.pos;
        try {
          await this.#fetchSegment(conn, seg, attempt);
          attempt = 0;
        } catch (err) {
          if (conn.retiring) {
            scheduler.release(seg);
            return;
          }
          const error = toDownloadError(err, signal);
          if (signal.aborted) return;
          if (isLinkRefusal(error)) throw new LinkRefused(error);
          if (error.code === ErrorCodes.RANGE_IGNORED || error.code === ErrorCodes.BAD_CONTENT_RANGE) {
            throw new RangesUnusable(error);
          }
          if (!error.retryable) throw error;
          if (this.#single && !this.#remote.ranges && seg.pos > 0) {
            // Without ranges the only way on is from the start.
            seg.pos = seg.start;
            job.blocks?.reset();
          }
          const progressed = (seg.pos > before || this.#belowSiblings.has(error)) && !this.#belowLowest.has(error);
          attempt = progressed ? 1 : attempt + 1;
          const context: FailureContext = {
            phase: 'range',
            segment: seg,
            attempt,
            activeConnections: this.#active,
            progressed,
            afterAbandoned: performance.now() - conn.abandonedAt < ABANDONED_WINDOW_MS,
          };
          scheduler.release(seg);
          conn.seg = undefined;
          const decision = await this.#o.hooks.failure.promise(error, context, job);
          if (!decision || decision.action === 'fail') throw error;
          if (decision.action === 'retire') {
            // The server wants fewer connections: this one closes, and the policy hears of it.
            conn.retiring = true;
            this.#o.policy.refused(this.#openCount());
            // The loop's own view until the next tick asks the policy: no more than are open.
            this.#target = this.#clamp(Math.min(this.#target, this.#openCount()));
            this.#connectionsEvent('refused');
            return;
          }
          this.#o.emit('retry', { error, attempt, delayMs: decision.delayMs });
          await sleep(decision.delayMs, undefined, { signal }).catch(() => undefined);
          continue;
        }
        scheduler.release(seg);
        conn.seg = undefined;
      }
    } finally {
      this.#o.hostSlots.release(this.#host);
    }
  }

  /** One request: fetches [seg.pos, seg.end) (or adopts the probe's stream) and writes it. */
  async #fetchSegment(conn: Connection, seg: Segment, attempt: number): Promise<void> {
    const transfer = this.#controller;
    const job = this.#job;
    const remote = this.#remote;
    const ctl = new AbortController();
    const onAbort = (): void => ctl.abort(transfer.signal.reason);
    transfer.signal.addEventListener('abort', onAbort, { once: true });
    conn.ctl = ctl;
    conn.last = performance.now();
    const slowRule = this.#slowRule;
    slowRule.start(conn.id, conn.last, () => seg.end - seg.pos);
    const start = seg.pos;
    // A server that cuts every body after the same number of bytes gets requests of that size:
    // each one ends cleanly and its connection is reused, instead of a cut, a retry and a reconnect.
    const cap = this.#requestCap;
    const askedEnd = cap !== undefined && Number.isFinite(seg.end) ? Math.min(seg.end, start + cap) : seg.end;
    conn.rangeFrom = conn.received;
    this.#o.emit('rangeStart', {
      connection: conn.id,
      start,
      ...(Number.isFinite(askedEnd) ? { end: askedEnd } : {}),
      attempt,
      host: this.#host,
    });
    let source: ByteSource | undefined;
    let failure: unknown;
    try {
      const initial = this.#initial;
      let asked: number | undefined;
      if (initial && seg.pos === 0 && initial.start === 0) {
        source = initial;
        this.#initial = undefined;
      } else {
        asked = performance.now();
        source = await this.#o.hooks.fetchRange.promise(
          {
            start: seg.pos,
            end: Number.isFinite(askedEnd) ? askedEnd - 1 : undefined,
            validators: remote.validators,
            size: remote.size,
            signal: ctl.signal,
          },
          job,
        );
        if (!source) throw new DownloadError(ErrorCodes.INTERNAL, 'No plugin answered fetchRange');
      }
      // An adopted source is not tied to this connection's signal: cancel it on abort (stall, pause).
      const adopted = source;
      ctl.signal.addEventListener('abort', () => adopted.cancel(ctl.signal.reason), { once: true });
      if (source.start !== seg.pos) {
        throw new DownloadError(ErrorCodes.PROTOCOL, `The driver returned bytes from ${source.start}, not ${seg.pos}`);
      }
      await this.#pump(conn, seg, source, ctl.signal, asked);
      // Done when the bytes asked for are written (the segment may go on: the next request asks for it).
      const until = Math.min(askedEnd, seg.end);
      if (seg.pos < until) {
        if (!Number.isFinite(seg.end) && !ctl.signal.aborted) {
          // Unknown length: the stream ended cleanly (the driver checks framing), so this is the size.
          seg.end = seg.pos;
          remote.size = seg.pos;
        } else if (ctl.signal.aborted) {
          throw ctl.signal.reason;
        } else {
          throw new DownloadError(
            ErrorCodes.SHORT_BODY,
            `The connection ended at byte ${seg.pos}, before byte ${until} of ${redactUrl(remote.url)}`,
          );
        }
      }
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      // A response that ended with bytes still to send (the probe's open stream at its segment's
      // end, a split) is closed now; the server may count it for a moment longer.
      if (failure === undefined && source?.end !== undefined && seg.pos <= source.end) conn.abandonedAt = performance.now();
      source?.cancel();
      conn.ctl = undefined;
      if (conn.rangeAt !== undefined) {
        const ms = performance.now() - conn.rangeAt;
        if (ms >= PACE_AFTER_MS) conn.rate = ((conn.received - conn.rangeFrom) * 1000) / ms;
        conn.rangeAt = undefined;
      }
      slowRule.stop(conn.id);
      transfer.signal.removeEventListener('abort', onAbort);
      const bytes = seg.pos - start;
      if (failure === undefined) {
        this.#o.emit('rangeEnd', { connection: conn.id, start, bytes, outcome: seg.end < askedEnd ? 'split' : 'done' });
      } else if (conn.retiring || transfer.signal.aborted) {
        this.#o.emit('rangeEnd', { connection: conn.id, start, bytes, outcome: 'aborted' });
      } else {
        const error = toDownloadError(failure, ctl.signal);
        if (error.code === ErrorCodes.SHORT_BODY) this.#noteCut(conn.received - conn.rangeFrom, askedEnd - start);
        this.#o.emit('rangeEnd', { connection: conn.id, start, bytes, outcome: 'failed', error });
      }
    }
  }

  /**
   * A body ended early after `bytes` of the `asked`. Servers (and proxies) that limit a response's
   * length cut every body at the same byte: once `CUTS_TO_LEARN` bodies were cut after the
   * same number of bytes, later requests ask for at most that many. Cuts at varying lengths (a
   * flaky link) teach nothing.
   */
  #noteCut(bytes: number, asked: number): void {
    if (bytes < MIN_LEARNED_CUT || !(bytes < asked)) return;
    const times = (this.#cuts.get(bytes) ?? 0) + 1;
    this.#cuts.set(bytes, times);
    if (times >= CUTS_TO_LEARN && (this.#requestCap === undefined || bytes < this.#requestCap)) this.#requestCap = bytes;
  }

  /** A range's first byte arrived: its connection's pace starts, and the request's wait is noted. */
  #firstByte(conn: Connection, arrived: number, asked: number | undefined): void {
    conn.rangeAt = arrived;
    if (asked === undefined) return;
    const ms = arrived - asked;
    this.#firstByteMs = this.#firstByteMs === undefined ? ms : 0.7 * this.#firstByteMs + 0.3 * ms;
  }

  /**
   * Reads a source into the segment through a writer, under the rate limit. `asked`: when the
   * request was made (undefined for the probe's adopted stream), to time its first byte.
   */
  async #pump(conn: Connection, seg: Segment, source: ByteSource, signal: AbortSignal, asked: number | undefined): Promise<void> {
    const sink = this.#job.sink!;
    const written = sink.copiesChunks === true && source.written ? source.written.bind(source) : undefined;
    const writer = new SegmentWriter(sink, this.#job.blocks, seg, this.#scheduler, written, source.gatherBytes);
    const slowRule = this.#slowRule;
    const bucket = this.#o.bucket;
    this.#active++;
    try {
      for await (const chunk of source.body) {
        const room = writer.room;
        if (room <= 0) break;
        const piece = chunk.byteLength > room ? chunk.subarray(0, room) : chunk;
        // The rest is not this segment's (it was split): dropped.
        if (piece !== chunk) written?.([chunk.subarray(room)]);
        const arrived = performance.now();
        writer.push(piece, arrived);
        if (conn.rangeAt === undefined) this.#firstByte(conn, arrived, asked);
        conn.received += piece.byteLength;
        slowRule.received(conn.id, piece.byteLength);
        // Time held by the rate limiter or the disk is ours, not the server's: the speed rule leaves it out.
        slowRule.hold(conn.id, arrived);
        let now = arrived;
        if (!bucket.unlimited) {
          await bucket.consume(piece.byteLength, signal);
          now = performance.now();
        }
        conn.last = now;
        if (writer.due(now)) await writer.flush();
        slowRule.release(conn.id, performance.now());
        if (piece.byteLength < chunk.byteLength || writer.room <= 0) break;
      }
      await writer.flush();
    } catch (err) {
      // Bytes that arrived before the failure are good: keep them.
      await writer.flush().catch(() => undefined);
      throw signal.aborted && (isDownloadError(signal.reason) || signal.reason instanceof Retired) ? signal.reason : err;
    } finally {
      writer.close();
      this.#active--;
    }
  }
}
