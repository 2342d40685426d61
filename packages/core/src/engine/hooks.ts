import { AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook, SyncHook, SyncWaterfallHook } from 'tapable';
import type { DownloadError } from '../errors.js';
import type { Download } from './Download.js';
import type { Job } from './Job.js';
import type { RemoteEntry } from '../listing/types.js';
import type { Storage, StorageContext } from '../storage/Storage.js';
import type {
  ByteSource,
  FailureContext,
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
  /**
   * Optional: lists the folder `job.url` names (its path ends with `/`), with the job's
   * credentials, trust and timeouts, for whole-folder downloads. Entries are reported as the
   * server gives them; the caller checks names and skips links and special files. A listing that
   * grows past `MAX_TREE_ENTRIES` entries (a server whose listing never ends) should stop with
   * MG_ERR_PROTOCOL rather than fill the memory: the caller sees it only once it is returned.
   */
  list?(job: Job): Promise<RemoteEntry[]>;
}

/**
 * The download lifecycle. Every hook's arguments are typed; taps use the plugin's PLUGIN_NAME.
 * Order of a download: resolve → refreshUrl → probe → openStorage → plan → fetchRange* (rangeFailed on errors) →
 * flush → verify → (the storage commits). A download's progress and outcome are its events
 * (see `download`).
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
  /**
   * Decides what happens after a failed probe (`context.phase` `probe`) or range (`range`): retry
   * after a delay, retire the connection, fail. The built-in `RetryPolicy` taps it.
   */
  readonly failure: AsyncSeriesBailHook<[DownloadError, FailureContext, Job], RetryDecision | undefined>;
  /** All bytes are written and the storage made them durable (final length set); `verify` comes next. */
  readonly flush: AsyncSeriesHook<[Job]>;
  /** Checks the bytes; a tap that returns an error fails the download. */
  readonly verify: AsyncSeriesBailHook<[Job], DownloadError | undefined>;
  /**
   * A download was created (before it starts). Observation is through the download's own events
   * (`progress`, `done`, `failed`, `rangeStart`, ...): a plugin that watches every download (a
   * history, a logger, a trace) subscribes to them here. One channel per fact: no hook repeats an event.
   */
  readonly download: SyncHook<[Download]>;
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
    failure: new AsyncSeriesBailHook<[DownloadError, FailureContext, Job], RetryDecision | undefined>([
      'error',
      'context',
      'job',
    ]),
    flush: new AsyncSeriesHook<[Job]>(['job']),
    verify: new AsyncSeriesBailHook<[Job], DownloadError | undefined>(['job']),
    download: new SyncHook<[Download]>(['download']),
  });
}

/** Anything with hooks a plugin can tap. */
export interface HookHost {
  /** The engine's lifecycle hooks, one frozen object. */
  readonly hooks: EngineHooks;
}

/**
 * A plugin: `apply` taps the hooks it cares about, using a module-level PLUGIN_NAME. Recognised by
 * its shape, never by its class, so a plugin built against another copy of `@multiget/core` (or
 * written as an object literal) works the same.
 */
export interface Plugin {
  /** Identifies the plugin (in taps, and to drop a default plugin by name). */
  readonly name: string;
  /** Taps the hooks the plugin needs; called once per engine the plugin is given to. */
  apply(engine: HookHost): void;
  /** The URL schemes a protocol plugin serves, with the colon as `URL.protocol` has it (`['http:']`). */
  readonly schemes?: readonly string[];
  /** Releases what the plugin holds (pooled connections); called by `Multiget.close()`. */
  close?(): Promise<void>;
}
