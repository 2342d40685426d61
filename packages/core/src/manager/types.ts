import type { ResourceUsage } from '../trace/resourceUsage.js';
import type { Download } from '../engine/Download.js';
import type { MultigetOptions } from '../engine/Multiget.js';
import type { AddOptions } from '../options/types.js';
import type { DownloadResult } from '../types.js';
import type { ManagerStore } from './store/ManagerStore.js';
export type { AddOptions } from '../options/types.js';

/** Where a managed download stands. */
export type EntryState =
  | 'queued'
  | 'probing'
  | 'downloading'
  | 'verifying'
  | 'paused'
  | 'completed'
  | 'failed'
  | 'canceled';

/**
 * Why a download is paused, when not by the user: `linkExpired` — its server started refusing the
 * link (HTTP 401/403/410) mid-download, or the engine said MG_ERR_LINK_EXPIRED; its bytes are kept
 * and `Manager.updateUrl` gives it a new link.
 */
export type PauseReason = 'linkExpired';

/** A snapshot of one managed download, as front-ends see it. */
export interface EntrySnapshot {
  /** The download's id (a UUID), stable across restarts of the manager. */
  id: string;
  /** The URL without credentials. */
  url: string;
  /** The target file, once known. */
  file: string | undefined;
  /** Where the download stands. */
  state: EntryState;
  /** Higher runs first. */
  priority: number;
  /** Bytes on disk so far, resumed bytes included. */
  bytes: number;
  /** Size in bytes, when known. */
  total: number | undefined;
  /** Bytes per second. */
  speed: number;
  /** Seconds left, when it can be told. */
  eta: number | undefined;
  /** Connections transferring right now. */
  connections: number;
  /** Why the download is paused, when the manager paused it (state `paused`); otherwise undefined. */
  reason: PauseReason | undefined;
  /** Why the download failed, while it is `failed`; what expired its link, while paused with `linkExpired`. */
  error:
    | {
        /** The `MG_ERR_*` code. */
        code: string;
        /** The text for the user. */
        message: string;
      }
    | undefined;
  /** When the download was added, as an ISO 8601 UTC timestamp. */
  addedAt: string;
  /** This download's own limit in bytes per second, or undefined for none (the global one applies). */
  rateLimit: number | undefined;
  /**
   * Restored after a restart without the credentials (or secret headers) it was added with, which
   * are never written to disk: it stays paused until `resume(id, secrets)` gives them again.
   */
  awaitingCredentials: boolean;
  /**
   * Set when the file was not downloaded but copied from the manager's content store (the same URL
   * with unchanged validators, or a file with the checksum asked for): the stored file it came from.
   */
  fromCache?: {
    /** Absolute path of the stored file that was copied. */
    path: string;
  };
}

/** A finished or failed download, kept in the history. */
export interface HistoryEntry {
  /** The download's id, as it had in the queue. */
  id: string;
  /** The URL without credentials. */
  url: string;
  /** The file, when one was chosen. */
  file: string | undefined;
  /** Size in bytes, when known. */
  size: number | undefined;
  /** The digest the file was verified against, if any. */
  digest:
    | {
        /** The hash function (`sha256`, ...). */
        algorithm: string;
        /** Lower-case hex. */
        hex: string;
      }
    | undefined;
  /** How it ended. */
  state: 'completed' | 'failed' | 'canceled';
  /** The `MG_ERR_*` code, when it failed. */
  errorCode: string | undefined;
  /** The failure's message, when it failed. */
  errorMessage: string | undefined;
  /** Wall time of the last run, in milliseconds. */
  durationMs: number;
  /** Bytes per second over the whole download. */
  averageSpeed: number;
  /** When it ended, as an ISO 8601 UTC timestamp. */
  finishedAt: string;
  /** Set when the file was copied from the content store: the stored file it came from. */
  fromCache?: {
    /** Absolute path of the stored file that was copied. */
    path: string;
  };
}

/** Settings a front-end can read and change at run time. */
export interface ManagerSettings {
  /** Downloads transferring at once; the rest wait in the queue. */
  maxConcurrent: number;
  /** Connections per download. */
  connections: number;
  /** Connections to one host across all downloads. */
  maxConnectionsPerHost: number;
  /** Connections in total across all downloads. */
  maxConnections: number;
  /** Global rate limit in bytes per second, or undefined for none. */
  rateLimit: number | undefined;
  /** Failures in a row without progress before a download fails. */
  retries: number;
  /** Default directory for downloads. */
  dir: string;
}

/** Options of a `Manager`. Engine options (plugins, timeouts) pass through to its Multiget. */
export interface ManagerOptions
  extends Omit<MultigetOptions, 'connections' | 'maxConnectionsPerHost' | 'maxConnections' | 'rateLimit' | 'retries' | 'dir'> {
  /** Where the queue, history and content store are kept (`JsonFileStore`). Without it and without `store` nothing is persisted. */
  stateDir?: string;
  /** A store of the program's own instead of the state directory's JSON files. */
  store?: ManagerStore;
  /**
   * Directory of the content store's `content.jsonl` (finished files a new download of the same URL
   * or checksum is copied from). Default: `stateDir`; with only `store`, the store keeps it; with
   * neither, it lives in memory. It is read and written without the state directory's lock, so
   * several processes (CLI runs, a service) may share one. `false`: no content store at all.
   */
  contentDir?: string | false;
  /** Initial settings; persisted ones win when a state directory has them. */
  settings?: Partial<ManagerSettings>;
  /** How unfinished downloads come back after a restart. Default `'queued'`. */
  restore?: 'queued' | 'paused';
  /** Finished downloads kept in the history. Default 1000. */
  historyLimit?: number;
  /** Milliseconds between coalesced `progress` events. Default 500. */
  progressIntervalMs?: number;
}

/** Credentials and secret headers for a download, held in memory only. */
export interface Secrets {
  /** Credentials for the download (user and password, or a bearer token). */
  credentials?: AddOptions['credentials'];
  /** Only Authorization, Cookie and Proxy-Authorization are taken. */
  headers?: Record<string, string>;
}

/** Events of a `Manager`. */
export interface ManagerEvents {
  /** A download was added or its state, file or error changed. */
  changed: [entry: EntrySnapshot];
  /**
   * A download started transferring (also after a retry). In-process front-ends get the engine's
   * Download for its detailed events (retry, restart, warning) and its result.
   */
  started: [entry: EntrySnapshot, download: Download];
  /**
   * A download was satisfied from the content store (no transfer, so no `started`): `result.fromCache`
   * names the stored file that was copied. A `changed` event with state `completed` follows.
   */
  cached: [entry: EntrySnapshot, result: DownloadResult];
  /** A download was removed from the list. */
  removed: [id: string];
  /** Coalesced progress of every active download, at most once per `progressIntervalMs`. */
  progress: [entries: EntrySnapshot[], resources: ResourceUsage];
  /** A download finished, failed or was cancelled, and was added to the history. */
  history: [entry: HistoryEntry];
  /** Something went wrong that is not a download's failure (e.g. the queue could not be written). */
  warning: [
    info: {
      /** A stable code for the kind of problem (`MG_WARN_*` or an `MG_ERR_*` code). */
      code: string;
      /** The text for the user. */
      message: string;
    },
  ];
}
