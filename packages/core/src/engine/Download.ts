import { randomUUID } from 'node:crypto';
import { AbortError, type DownloadError, ErrorCodes, isDownloadError, toDownloadError } from '../errors.js';
import { type SavedState, redactUrl } from '../storage/StateFile.js';
import type { Storage } from '../storage/Storage.js';
import type { HostSlots } from '../transfer/HostSlots.js';
import type { ConnectionPolicyFactory } from '../transfer/policy.js';
import { SpeedMeter } from '../transfer/SpeedMeter.js';
import { TokenBucket } from '../transfer/TokenBucket.js';
import { LinkRefused, RangesUnusable, isLinkRefusal } from '../transfer/outcomes.js';
import { Transfer, type TransferEvents } from '../transfer/Transfer.js';
import type { DownloadEvents, DownloadResult, DownloadState, Progress, RemoteInfo, SegmentMap } from '../types.js';
import { printable } from '../util/printable.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import type { EngineHooks } from './hooks.js';
import { Job, type JobOptions } from './Job.js';
import { asSingleStream, probeWithRetries, resolveDriver } from './probe.js';
import { UrlRefresher, checkSameFile } from './refresh.js';
import { progressOf, resultOf } from './report.js';
import { checkResumedLength, prepareRun, stateOf } from './resume.js';
import { discardPartial, openStorage } from './storageStep.js';

/** What a Download needs from its engine. */
export interface EngineContext {
  readonly hooks: EngineHooks;
  readonly hostSlots: HostSlots;
  /** Claims a target path for one download of this engine; false when another one holds it. */
  claimTarget(path: string, id: string): boolean;
  releaseTarget(path: string, id: string): void;
  readonly globalBucket: TokenBucket;
  readonly checkpointIntervalMs: number;
  readonly progressIntervalMs: number;
  readonly maxRestarts: number;
  /** Makes the connection policy of one transfer. */
  readonly connectionPolicy: ConnectionPolicyFactory;
  /** `host:port` of every server that answered a probe of this engine (for the retry policy). */
  readonly answeredHosts: Set<string>;
}

/** Why a run stopped on purpose. */
type StopReason = 'pause' | 'cancel' | 'signal';

/**
 * One download. Created by {@link Multiget.download}; it starts at once. Listen with `on(...)`,
 * await `done`, and steer it with `pause()`, `resume()` and `cancel()`.
 */
export class Download extends TypedEmitter<DownloadEvents> {
  /** Unique id. */
  readonly id: string;
  /** The URL without credentials. */
  readonly url: string;
  /**
   * Settles when the download ends: resolves with the result when the file is complete and verified,
   * rejects with a DownloadError when it fails or is cancelled. Stays pending while paused.
   */
  readonly done: Promise<DownloadResult>;

  #state: DownloadState = 'pending';
  #job: Job | undefined;
  #controller: AbortController | undefined;
  #stopReason: StopReason | undefined;
  #running: Promise<void> | undefined;
  #resolveDone!: (r: DownloadResult) => void;
  #rejectDone!: (e: DownloadError) => void;
  readonly #bucket: TokenBucket;
  readonly #meter = new SpeedMeter();
  #restarts = 0;
  #startedAt = 0;
  /** True once a run of this download started transferring (a refused link then counts as expired). */
  #transferred = false;
  readonly #refresher: UrlRefresher;
  /** The transfer in progress, if any (for the segment map). */
  #transferRun: Transfer | undefined;
  /** Connections for the next run, when changed since the download was created. */
  #connections: number | undefined;
  #lastProgress: Progress = { bytesDone: 0, total: undefined, speed: 0, eta: undefined, connections: 0 };

  constructor(
    private readonly engine: EngineContext,
    private readonly sourceUrl: URL,
    private readonly options: JobOptions,
    signal?: AbortSignal,
    id?: string,
  ) {
    super();
    this.id = id ?? randomUUID();
    this.url = redactUrl(sourceUrl);
    this.#bucket = new TokenBucket(options.rateLimit, engine.globalBucket);
    this.#refresher = new UrlRefresher(engine.hooks, (info) => this.#warn(info));
    this.done = new Promise<DownloadResult>((res, rej) => {
      this.#resolveDone = res;
      this.#rejectDone = rej;
    });
    // A caller that only listens to events must not crash the process with an unhandled rejection.
    this.done.catch(() => undefined);
    if (signal) {
      if (signal.aborted) queueMicrotask(() => this.#stop('signal'));
      else signal.addEventListener('abort', () => void this.#stop('signal'), { once: true });
    }
    // Unless pause() came first: a download paused before it started waits for resume().
    queueMicrotask(() => {
      if (this.#state === 'pending') this.#start();
    });
  }

  /** Current lifecycle state. */
  get state(): DownloadState {
    return this.#state;
  }

  /** Absolute path of the target file, once chosen. */
  get file(): string | undefined {
    return this.#job?.target;
  }

  /** The latest progress snapshot. */
  get progress(): Progress {
    return this.#lastProgress;
  }

  /**
   * Where the bytes are: every segment with its written prefix and, while a transfer runs, the
   * connection that owns it. Before the segments are known: no segments.
   */
  segmentMap(): SegmentMap {
    if (this.#transferRun) return this.#transferRun.segmentMap();
    const size = this.#job?.remote?.size;
    return {
      ...(size === undefined ? {} : { size }),
      // In file order: the scheduler keeps segments in the order they were cut.
      segments: (this.#job?.segments ?? []).map((s) => ({ start: s.start, end: s.end, pos: s.pos })).sort((a, b) => a.start - b.start),
    };
  }

  /** Changes this download's rate limit (bytes per second; undefined for none) while it runs. */
  setRateLimit(bytesPerSecond: number | undefined): void {
    this.#bucket.setRate(bytesPerSecond);
  }

  /**
   * Changes the connections of this download's next run (after `pause()` and `resume()`). A run
   * fixes its connections when it starts, so the one in progress keeps its own.
   */
  setConnections(connections: number): void {
    this.#connections = connections;
  }

  /**
   * Stops transferring and keeps the partial data; `resume()` continues. Resolves once stopped.
   * Called before the download started (right after {@link Multiget.download}), it does not start
   * until `resume()`.
   */
  async pause(): Promise<void> {
    if (this.#isFinal() || this.#state === 'paused') return;
    if (this.#state === 'pending' && !this.#running) {
      this.#stopReason = 'pause';
      this.#setState('paused');
      return;
    }
    await this.#stop('pause');
  }

  /** Continues a paused download (from its state file, validated against the server again). */
  resume(): void {
    if (this.#state !== 'paused') return;
    this.#start();
  }

  /** Stops the download and deletes its partial data. `done` rejects with MG_ERR_ABORTED. */
  async cancel(): Promise<void> {
    if (this.#isFinal()) return;
    if (this.#state === 'paused' || this.#state === 'pending') {
      this.#stopReason = 'cancel';
      if (this.#running) await this.#running;
      else await this.#finishCancel();
      return;
    }
    await this.#stop('cancel');
  }

  #isFinal(): boolean {
    return this.#state === 'completed' || this.#state === 'failed' || this.#state === 'canceled';
  }

  async #stop(reason: StopReason): Promise<void> {
    if (this.#isFinal()) return;
    this.#stopReason = reason;
    this.#controller?.abort(new AbortError(reason === 'pause' ? 'The download was paused' : 'The download was aborted'));
    if (this.#running) await this.#running;
    else if (reason !== 'pause' && this.#state === 'paused') await this.#finishStopWhilePaused(reason);
  }

  async #finishStopWhilePaused(reason: StopReason): Promise<void> {
    if (reason === 'cancel') await this.#finishCancel();
    else this.#settleFailure(new AbortError(), 'canceled');
  }

  async #finishCancel(): Promise<void> {
    await this.#job?.storage?.remove();
    this.#settleFailure(new AbortError('The download was cancelled and its partial data deleted'), 'canceled');
  }

  #start(): void {
    if (this.#running || this.#isFinal()) return;
    if (this.#stopReason === 'cancel' || this.#stopReason === 'signal') return;
    this.#stopReason = undefined;
    this.#controller = new AbortController();
    this.#running = this.#run(this.#controller.signal).finally(() => {
      this.#running = undefined;
    });
  }

  /** Emits a `warning`; its message made {@link printable} (it may quote a server). */
  #warn(info: DownloadEvents['warning'][0]): void {
    this.emit('warning', { code: info.code, message: printable(info.message) });
  }

  /** Emits a `restart`; its reason made {@link printable} (it may quote a server's validators). */
  #restart(info: DownloadEvents['restart'][0]): void {
    this.emit('restart', { reason: printable(info.reason) });
  }

  #setState(state: DownloadState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
  }

  #settleFailure(error: DownloadError, state: 'failed' | 'canceled'): void {
    this.#setState(state);
    this.emit('failed', error);
    this.#rejectDone(error);
  }

  async #run(signal: AbortSignal): Promise<void> {
    const options = this.#connections === undefined ? this.options : { ...this.options, connections: this.#connections };
    const job = new Job(this.id, this.sourceUrl, options, signal, (info) => this.#warn(info));
    this.#job = job;
    this.#startedAt = performance.now();
    try {
      const result = await this.#attempt(job, signal);
      await this.#releaseTarget(job);
      this.#setState('completed');
      this.emit('done', result);
      this.#resolveDone(result);
    } catch (err) {
      const error = toDownloadError(err);
      await job.sink?.close().catch(() => undefined);
      if (error.code === ErrorCodes.CHECKSUM_MISMATCH && this.#stopReason === undefined) {
        // The bytes are wrong somewhere: resuming them would fail again.
        await job.storage?.remove();
      }
      // Listeners of 'paused', 'failed' and done may start another run on this target at once.
      await this.#releaseTarget(job);
      const reason = this.#stopReason;
      if (reason === 'pause') {
        this.#setState('paused');
        return;
      }
      if (reason === 'cancel') {
        await this.#finishCancel();
        return;
      }
      if (reason === 'signal') {
        this.#settleFailure(new AbortError('The download was aborted; its partial data was kept for resuming'), 'canceled');
        return;
      }
      this.#settleFailure(error, 'failed');
    } finally {
      await job.sink?.close().catch(() => undefined);
      await this.#releaseTarget(job);
    }
  }

  /** Lets other downloads (of this or another process) write this target again. */
  async #releaseTarget(job: Job): Promise<void> {
    await job.storage?.release();
  }

  /** Probe, choose the target, transfer, verify, commit; starts over when the remote changes. */
  async #attempt(job: Job, signal: AbortSignal): Promise<DownloadResult> {
    const hooks = this.engine.hooks;
    const emitRestart = (...args: DownloadEvents['restart']): void => this.#restart(...args);
    job.driver = await resolveDriver(hooks, job, this.url);
    let forceSingle = false;
    let storage: Storage | undefined;
    // The state of an earlier run, until this run drops it (the remote changed, ranges failed).
    let saved: SavedState | undefined;
    // After a refreshed link: the file whose bytes this run continues (in memory, not from a state file).
    let continuing: RemoteInfo | undefined;
    const signed = await hooks.refreshUrl.promise(job.url, { reason: 'start' }, job);
    if (signed) job.url = signed;
    for (;;) {
      this.#setState('probing');
      let remote: RemoteInfo;
      try {
        remote = await probeWithRetries(job, hooks, this.engine.answeredHosts, (info) => this.emit('retry', info));
      } catch (err) {
        // A link that worked before and is refused now expired (a fresh one from a refresh may be refused too).
        if (isDownloadError(err) && isLinkRefusal(err) && (continuing || this.#transferred)) {
          await this.#refresher.refresh(job, err, this.url);
          continue;
        }
        throw err;
      }
      if (forceSingle) asSingleStream(remote);
      job.remote = remote;
      if (continuing) await checkSameFile(continuing, remote, job);
      try {
        if (!storage) {
          storage = await openStorage(this.engine, job, this.id, emitRestart);
          saved = storage.saved;
        }
        if (continuing) {
          // The segments and block digests in memory are this run's own, checked as they arrived.
          job.resumed = true;
          continuing = undefined;
        } else {
          await prepareRun(job, saved, {
            plan: (j) => hooks.plan.call([], j),
            restart: (info) => this.#restart(info),
            warn: (info) => this.#warn(info),
          });
        }
        const size = remote.size;
        job.sink = await storage.open(job.resumed, size, () => (size ?? 0) - job.bytesDone);
        this.emit('start', {
          file: job.target!,
          size: remote.size,
          ranges: remote.ranges,
          resumedBytes: job.resumed ? job.bytesDone : 0,
          url: redactUrl(remote.url),
        });
        this.#setState('downloading');
        await this.#transfer(job, signal, storage);
      } catch (err) {
        remote.initialSource?.cancel();
        if (err instanceof LinkRefused) {
          await this.#refresher.refresh(job, err.error, this.url);
          continuing = remote;
          continue;
        }
        if (err instanceof RangesUnusable) {
          if (forceSingle) throw err.error;
          forceSingle = true;
          await discardPartial(job, `the server stopped honouring byte ranges (${err.error.message}); downloading in one stream`, emitRestart);
          saved = undefined;
          continue;
        }
        if (isDownloadError(err) && err.code === ErrorCodes.REMOTE_CHANGED && !signal.aborted) {
          if (this.#restarts >= this.engine.maxRestarts) throw err;
          this.#restarts++;
          await discardPartial(job, err.message, emitRestart);
          saved = undefined;
          continue;
        }
        throw err;
      }
      this.#setState('verifying');
      const size = job.remote?.size ?? job.bytesDone;
      await storage!.flush(size);
      await hooks.flush.promise(job);
      const problem = await hooks.verify.promise(job);
      if (problem) throw problem;
      await storage!.commit();
      this.#emitProgress(job, true);
      return resultOf(job, size, this.#restarts, this.#startedAt);
    }
  }

  /** Runs the transfer module until every segment is written, with the state file as its checkpoint. */
  async #transfer(job: Job, outer: AbortSignal, storage: Storage): Promise<void> {
    await checkResumedLength(job, storage);
    // Snapshot first, sync second (in the storage): the state only ever claims bytes already durable.
    const checkpoint = (): Promise<void> => storage.checkpoint(stateOf(job));
    const transfer = new Transfer({
      job,
      hooks: this.engine.hooks,
      hostSlots: this.engine.hostSlots,
      bucket: this.#bucket,
      meter: this.#meter,
      policy: this.engine.connectionPolicy({ host: (job.remote?.url ?? job.url).host }),
      checkpointIntervalMs: this.engine.checkpointIntervalMs,
      progressIntervalMs: this.engine.progressIntervalMs,
      checkpoint,
      emit: <K extends keyof TransferEvents>(event: K, ...args: TransferEvents[K]) =>
        this.emit(event, ...(args as unknown as DownloadEvents[K])),
      tick: () => this.#emitProgress(job, false),
    });
    this.#transferRun = transfer;
    this.#transferred = true;
    try {
      await transfer.run(outer);
    } finally {
      this.#transferRun = undefined;
    }
  }

  #emitProgress(job: Job, final: boolean): void {
    this.#lastProgress = progressOf(job, this.#meter.bytesPerSecond, final ? 0 : (this.#transferRun?.active ?? 0));
    this.emit('progress', this.#lastProgress);
  }
}

export { formatBytes } from '../storage/space.js';
