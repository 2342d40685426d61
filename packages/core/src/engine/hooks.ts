import { AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook, SyncHook, SyncWaterfallHook } from 'tapable';
import type { DownloadError } from '../errors.js';
import type { Job } from './Job.js';
import type { Storage, StorageContext } from '../storage/Storage.js';
import type {
  ByteSource,
  DownloadResult,
  FailureContext,
  Progress,
  RangeRequest,
  RemoteInfo,
  RetryDecision,
  Segment,
  UrlRefreshContext,
} from '../types.js';

/** A protocol's side of a download: how to learn about a remote file and how to read a range of it. */
export interface ProtocolDriver {
  /** Short name for logs (`http`, `ftp`, ...). */
  readonly name: string;
  /** Learns size, range support, validators, name and digests of `job.url`. */
  probe(job: Job): Promise<RemoteInfo>;
  /** Opens a stream of the bytes `req` asks for. Throws a DownloadError on failure. */
  fetchRange(req: RangeRequest, job: Job): Promise<ByteSource>;
}

/**
 * The download lifecycle. Every hook's arguments are typed; taps use the plugin's PLUGIN_NAME.
 * Order of a download: resolve → refreshUrl → probe → openStorage → plan → fetchRange* (rangeFailed on errors) →
 * flush → verify → (the storage commits) → done | failed. `progress` fires throughout.
 */
export interface EngineHooks {
  /** Picks the driver for a URL. The first tap that returns one wins. */
  readonly resolve: AsyncSeriesBailHook<[URL, Job], ProtocolDriver | undefined>;
  /**
   * Re-resolves the download's URL: before a run's first request, and when the server refuses the
   * link mid-download (401/403/410). A tap returns a fresh URL (a re-signed link, a new CDN token)
   * or undefined; the first URL wins. After an expiry the file behind the fresh URL is probed and
   * its size and validators must be those of the bytes already written, else the download fails
   * with MG_ERR_REMOTE_CHANGED. When no tap answers an expiry, it fails with MG_ERR_LINK_EXPIRED
   * and keeps its partial data.
   */
  readonly refreshUrl: AsyncSeriesBailHook<[URL, UrlRefreshContext, Job], URL | undefined>;
  /** Fills in what is known of the remote file. The driver's tap runs first (stage -100). */
  readonly probe: AsyncSeriesWaterfallHook<[RemoteInfo, Job]>;
  /** Cuts a fresh download into its initial segments (not called on resume). */
  readonly plan: SyncWaterfallHook<[Segment[], Job]>;
  /**
   * Gives the download its storage: the target, where the bytes go, the state of earlier runs,
   * checkpoints, the move into place (the built-in `PartialFile`: a temporary file, a state file
   * and a lock beside the target). The first tap that returns one wins.
   */
  readonly openStorage: AsyncSeriesBailHook<[Job, StorageContext], Storage | undefined>;
  /** Opens a stream for a range. The driver's tap answers; earlier taps may serve it from elsewhere. */
  readonly fetchRange: AsyncSeriesBailHook<[RangeRequest, Job], ByteSource | undefined>;
  /** Decides what happens after a failed probe or range: retry after a delay, retire the connection, fail. */
  readonly rangeFailed: AsyncSeriesBailHook<[DownloadError, FailureContext, Job], RetryDecision | undefined>;
  /** All bytes are written and the storage made them durable (final length set); `verify` comes next. */
  readonly flush: AsyncSeriesHook<[Job]>;
  /** Checks the bytes; a tap that returns an error fails the download. */
  readonly verify: AsyncSeriesBailHook<[Job], DownloadError | undefined>;
  /** Observation only. */
  readonly progress: SyncHook<[Job, Progress]>;
  /** Observation only: the file is complete and in place. */
  readonly done: SyncHook<[Job, DownloadResult]>;
  /** Observation only: the download failed (partial data is kept unless it was canceled). */
  readonly failed: SyncHook<[Job, DownloadError]>;
}

/** Creates the frozen hooks object of one engine. */
export function createHooks(): EngineHooks {
  return Object.freeze({
    resolve: new AsyncSeriesBailHook<[URL, Job], ProtocolDriver | undefined>(['url', 'job']),
    refreshUrl: new AsyncSeriesBailHook<[URL, UrlRefreshContext, Job], URL | undefined>(['url', 'context', 'job']),
    probe: new AsyncSeriesWaterfallHook<[RemoteInfo, Job]>(['info', 'job']),
    plan: new SyncWaterfallHook<[Segment[], Job]>(['segments', 'job']),
    openStorage: new AsyncSeriesBailHook<[Job, StorageContext], Storage | undefined>(['job', 'context']),
    fetchRange: new AsyncSeriesBailHook<[RangeRequest, Job], ByteSource | undefined>(['request', 'job']),
    rangeFailed: new AsyncSeriesBailHook<[DownloadError, FailureContext, Job], RetryDecision | undefined>([
      'error',
      'context',
      'job',
    ]),
    flush: new AsyncSeriesHook<[Job]>(['job']),
    verify: new AsyncSeriesBailHook<[Job], DownloadError | undefined>(['job']),
    progress: new SyncHook<[Job, Progress]>(['job', 'progress']),
    done: new SyncHook<[Job, DownloadResult]>(['job', 'result']),
    failed: new SyncHook<[Job, DownloadError]>(['job', 'error']),
  });
}

/** Anything with hooks a plugin can tap. */
export interface HookHost {
  /** The engine's lifecycle hooks, one frozen object. */
  readonly hooks: EngineHooks;
}

/** A plugin: `apply` taps the hooks it cares about, using a module-level PLUGIN_NAME. */
export interface Plugin {
  /** Identifies the plugin; `Multiget.unuse(name)` removes a default plugin by this name. */
  readonly name: string;
  /** Taps the hooks the plugin needs; called once per engine the plugin is given to. */
  apply(engine: HookHost): void;
}
