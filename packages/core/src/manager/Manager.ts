import { randomUUID } from 'node:crypto';

import { resolve } from 'node:path';
import type { Download } from '../engine/Download.js';
import { DownloadError, ErrorCodes, UsageError, fileSystemError, isDownloadError } from '../errors.js';
import { Multiget, type MultigetOptions } from '../engine/Multiget.js';
import { parseChecksum } from '../util/checksum.js';
import { redactUrl } from '../storage/StateFile.js';
import { PartialFile } from '../storage/PartialFile.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import type { DownloadResult } from '../types.js';
import { Store } from './Store.js';
import type { AddOptions, EntrySnapshot, EntryState, HistoryEntry, ManagerSettings } from './types.js';
import { expandHome } from '../util/homePath.js';

/** Options of a {@link Manager}. Engine options (plugins, timeouts) pass through to its Multiget. */
export interface ManagerOptions
  extends Omit<MultigetOptions, 'connections' | 'maxConnectionsPerHost' | 'maxConnections' | 'rateLimit' | 'retries' | 'dir'> {
  /** Where the queue and history are kept. Without it nothing is persisted (e.g. the CLI). */
  stateDir?: string;
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

/** Events of a {@link Manager}. */
export interface ManagerEvents {
  /** A download was added or its state, file or error changed. */
  changed: [entry: EntrySnapshot];
  /**
   * A download started transferring (also after a retry). In-process front-ends get the engine's
   * Download for its detailed events (retry, restart, warning) and its result.
   */
  started: [entry: EntrySnapshot, download: Download];
  /** A download was removed from the list. */
  removed: [id: string];
  /** Coalesced progress of every active download, at most once per `progressIntervalMs`. */
  progress: [entries: EntrySnapshot[]];
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

const SECRET_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);
const ACTIVE: ReadonlySet<EntryState> = new Set(['probing', 'downloading', 'verifying']);
const UNFINISHED: ReadonlySet<EntryState> = new Set(['queued', 'probing', 'downloading', 'verifying', 'paused']);

interface Entry {
  id: string;
  /** Identifies the target (file, or URL and directory): one unfinished download per key. */
  key: string;
  url: URL;
  options: AddOptions;
  /** Secret headers and credentials: memory only. */
  secrets: { headers: Record<string, string>; credentials: AddOptions['credentials'] };
  /** It was given secrets once; they are needed again after a restart (persisted as a flag only). */
  needsSecrets: boolean;
  /** Restored after a restart without the secrets it needs: held paused until a front-end gives them. */
  awaitingSecrets: boolean;
  state: EntryState;
  priority: number;
  seq: number;
  file: string | undefined;
  bytes: number;
  total: number | undefined;
  speed: number;
  eta: number | undefined;
  connections: number;
  error: { code: string; message: string } | undefined;
  addedAt: string;
  download: Download | undefined;
  startedAt: number;
}

interface PersistedEntry {
  id: string;
  url: string;
  options: AddOptions;
  state: EntryState;
  priority: number;
  seq: number;
  file?: string;
  bytes: number;
  total?: number;
  error?: { code: string; message: string };
  addedAt: string;
  /** It was given secrets (credentials, secret headers, userinfo), which are not written here. */
  secret?: true;
}

interface QueueDocument {
  version: 1;
  settings: ManagerSettings;
  entries: PersistedEntry[];
}

/**
 * Many downloads: a queue with priorities and a limit of concurrent downloads, pause, resume,
 * cancel, remove, retry, global and per-download rate limits, a shared connection budget, and a
 * history. With a state directory, the queue survives a restart of the process (SIGKILL included):
 * unfinished downloads come back and resume from their sidecar state files.
 */
export class Manager extends TypedEmitter<ManagerEvents> {
  /** The engine the downloads run on; its hooks are open to plugins. */
  readonly engine: Multiget;
  readonly #store: Store | undefined;
  readonly #entries = new Map<string, Entry>();
  #history: HistoryEntry[] = [];
  #settings: ManagerSettings;
  #seq = 0;
  #writing: Promise<void> = Promise.resolve();
  #dirty = false;
  #closed = false;
  readonly #ticker: NodeJS.Timeout;
  readonly #historyLimit: number;
  readonly #restore: 'queued' | 'paused';

  private constructor(options: ManagerOptions, store: Store | undefined) {
    super();
    this.#store = store;
    this.#historyLimit = options.historyLimit ?? 1000;
    this.#restore = options.restore ?? 'queued';
    this.#settings = {
      maxConcurrent: 3,
      connections: 8,
      maxConnectionsPerHost: 16,
      maxConnections: 64,
      rateLimit: undefined,
      retries: 5,
      dir: process.cwd(),
      ...options.settings,
    };
    this.#settings.dir = expandHome(this.#settings.dir, 'dir');
    const { stateDir: _s, settings: _t, restore: _r, historyLimit: _h, progressIntervalMs: _p, ...engineOptions } = options;
    this.engine = new Multiget({
      ...engineOptions,
      connections: this.#settings.connections,
      maxConnectionsPerHost: this.#settings.maxConnectionsPerHost,
      maxConnections: this.#settings.maxConnections,
      rateLimit: this.#settings.rateLimit,
      retries: this.#settings.retries,
    });
    this.#ticker = setInterval(() => this.#emitProgress(), options.progressIntervalMs ?? 500);
    this.#ticker.unref();
  }

  /** Opens a manager: locks and loads the state directory (if any) and restarts unfinished downloads. */
  static async open(options: ManagerOptions = {}): Promise<Manager> {
    const store = options.stateDir ? new Store(resolve(expandHome(options.stateDir, 'stateDir'))) : undefined;
    await store?.open();
    const manager = new Manager(options, store);
    try {
      await manager.#load();
    } catch (err) {
      await store?.close();
      throw err;
    }
    manager.#pump();
    return manager;
  }

  /** URL schemes the installed protocol plugins serve (`['http:', 'https:', ...]`). */
  get schemes(): string[] {
    const out = new Set<string>();
    for (const p of this.engine.plugins) for (const s of p.schemes ?? []) out.add(s);
    return [...out];
  }

  /** Current settings. */
  get settings(): ManagerSettings {
    return { ...this.#settings };
  }

  /** Changes settings at run time; running downloads get new rate limits and caps at once. */
  async setSettings(patch: Partial<ManagerSettings>): Promise<ManagerSettings> {
    const next = { ...this.#settings, ...patch };
    checkInt('maxConcurrent', next.maxConcurrent, 1, 1000);
    checkInt('connections', next.connections, 1, 256);
    checkInt('maxConnectionsPerHost', next.maxConnectionsPerHost, 1, 256);
    checkInt('maxConnections', next.maxConnections, 1, 4096);
    checkInt('retries', next.retries, 0, 1000);
    if (next.rateLimit !== undefined && next.rateLimit !== null) checkInt('rateLimit', next.rateLimit, 1, Number.MAX_SAFE_INTEGER);
    if (typeof next.dir !== 'string' || next.dir === '') throw new UsageError(ErrorCodes.INVALID_OPTION, 'Invalid dir');
    next.dir = expandHome(next.dir, 'dir');
    next.rateLimit = next.rateLimit ?? undefined;
    this.#settings = next;
    this.engine.setRateLimit(next.rateLimit);
    this.engine.setConnectionLimits(next.maxConnectionsPerHost, next.maxConnections);
    await this.#persist();
    this.#pump();
    return this.settings;
  }

  /**
   * Adds a download to the queue. The same URL to the same target while one is unfinished returns
   * the existing download instead of starting a second writer. Throws a UsageError for a bad URL
   * (only http, https, ftp, ftps and sftp are accepted) or bad options.
   */
  async add(url: string, options: AddOptions = {}): Promise<EntrySnapshot> {
    this.#checkOpen();
    const parsed = parseDownloadUrl(url, this.schemes);
    validateAddOptions(options);
    options = {
      ...options,
      ...(options.dir !== undefined ? { dir: expandHome(options.dir, 'dir') } : {}),
      ...(options.output !== undefined ? { output: expandHome(options.output, 'output') } : {}),
    };
    const key = this.#targetKey(parsed, options);
    for (const e of this.#entries.values()) {
      if (UNFINISHED.has(e.state) && e.key === key) return snapshot(e);
    }
    const headers: Record<string, string> = {};
    const secretHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.headers ?? {})) {
      (SECRET_HEADERS.has(k.toLowerCase()) ? secretHeaders : headers)[k.toLowerCase()] = v;
    }
    const { credentials, headers: _h, ...rest } = options;
    const entry: Entry = {
      id: randomUUID(),
      key,
      url: parsed,
      options: { ...rest, ...(Object.keys(headers).length ? { headers } : {}) },
      secrets: { headers: secretHeaders, credentials },
      needsSecrets: credentials !== undefined || Object.keys(secretHeaders).length > 0 || parsed.username !== '' || parsed.password !== '',
      awaitingSecrets: false,
      state: 'queued',
      priority: options.priority ?? 0,
      seq: ++this.#seq,
      file: options.output !== undefined ? resolve(options.output) : undefined,
      bytes: 0,
      total: undefined,
      speed: 0,
      eta: undefined,
      connections: 0,
      error: undefined,
      addedAt: new Date().toISOString(),
      download: undefined,
      startedAt: 0,
    };
    this.#entries.set(entry.id, entry);
    await this.#persist();
    this.emit('changed', snapshot(entry));
    this.#pump();
    return snapshot(entry);
  }

  /** Every download in the list, in queue order (priority, then order of addition). */
  list(): EntrySnapshot[] {
    return [...this.#entries.values()].sort(byQueueOrder).map(snapshot);
  }

  /** One download. Throws MG_ERR_UNKNOWN_DOWNLOAD for an unknown id. */
  get(id: string): EntrySnapshot {
    return snapshot(this.#entry(id));
  }

  /** Pauses a queued or running download, keeping its partial data. */
  async pause(id: string): Promise<EntrySnapshot> {
    const e = this.#entry(id);
    if (e.state === 'queued') {
      this.#set(e, 'paused');
    } else if (ACTIVE.has(e.state) && e.download) {
      await e.download.pause();
      if (e.state !== 'completed' && e.state !== 'failed') this.#set(e, 'paused');
    }
    await this.#persist();
    this.#pump();
    return snapshot(e);
  }

  /**
   * Puts a paused download back in the queue. `secrets` (credentials, secret headers) replace the
   * ones held in memory: a download restored after a restart has none until a front-end gives them.
   */
  async resume(id: string, secrets?: Secrets): Promise<EntrySnapshot> {
    const e = this.#entry(id);
    this.#setSecrets(e, secrets);
    e.awaitingSecrets = false;
    if (e.state === 'paused') {
      this.#set(e, 'queued');
      await this.#persist();
      this.#pump();
    }
    return snapshot(e);
  }

  /** Stops a download and deletes its partial data; it stays in the list as `canceled`. */
  async cancel(id: string): Promise<EntrySnapshot> {
    const e = this.#entry(id);
    if (!UNFINISHED.has(e.state)) return snapshot(e);
    if (e.download) {
      await e.download.cancel();
    } else {
      await this.#deletePartial(e);
    }
    if (e.state !== 'canceled') {
      this.#set(e, 'canceled');
      this.#recordHistory(e, undefined, new DownloadError(ErrorCodes.ABORTED, 'Cancelled'));
    }
    await this.#persist();
    this.#pump();
    return snapshot(e);
  }

  /** Removes a download from the list; with `deleteData`, also its partial data (never a finished file). */
  async remove(id: string, options: { deleteData?: boolean } = {}): Promise<void> {
    const e = this.#entry(id);
    if (e.download && UNFINISHED.has(e.state)) {
      if (options.deleteData) await e.download.cancel();
      else await e.download.pause();
    } else if (options.deleteData && e.state !== 'completed') {
      await this.#deletePartial(e);
    }
    this.#entries.delete(id);
    await this.#persist();
    this.emit('removed', id);
    this.#pump();
  }

  /**
   * Queues a failed or cancelled download again (it resumes from partial data when there is some).
   * `secrets` as for {@link resume}: after a restart, credentials are given again this way.
   */
  async retry(id: string, secrets?: Secrets): Promise<EntrySnapshot> {
    const e = this.#entry(id);
    if (e.state !== 'failed' && e.state !== 'canceled') {
      throw new UsageError(ErrorCodes.INVALID_STATE, `Download ${id} is ${e.state}; only failed or cancelled ones can be retried`);
    }
    this.#setSecrets(e, secrets);
    e.error = undefined;
    e.download = undefined;
    this.#set(e, 'queued');
    await this.#persist();
    this.#pump();
    return snapshot(e);
  }

  /** Changes a download's priority (higher runs first). */
  async setPriority(id: string, priority: number): Promise<EntrySnapshot> {
    checkInt('priority', priority, -1_000_000, 1_000_000);
    const e = this.#entry(id);
    e.priority = priority;
    await this.#persist();
    this.emit('changed', snapshot(e));
    this.#pump();
    return snapshot(e);
  }

  /**
   * Moves a download to `index` in the queue order, among downloads of the same priority: it takes
   * the priority of the download it lands next to, so the order shown is the order run.
   */
  async move(id: string, index: number): Promise<EntrySnapshot[]> {
    const e = this.#entry(id);
    const order = [...this.#entries.values()].sort(byQueueOrder).filter((x) => x !== e);
    const at = Math.max(0, Math.min(order.length, Math.trunc(index)));
    order.splice(at, 0, e);
    const neighbour = order[at + 1] ?? order[at - 1];
    if (neighbour) e.priority = neighbour.priority;
    order.forEach((x, i) => (x.seq = i + 1));
    this.#seq = order.length;
    await this.#persist();
    this.emit('changed', snapshot(e));
    this.#pump();
    return this.list();
  }

  /** Changes one download's rate limit (bytes per second; undefined for none), also while it runs. */
  async setRateLimit(id: string, bytesPerSecond: number | undefined): Promise<EntrySnapshot> {
    if (bytesPerSecond !== undefined) checkInt('rateLimit', bytesPerSecond, 1, Number.MAX_SAFE_INTEGER);
    const e = this.#entry(id);
    e.options.rateLimit = bytesPerSecond;
    e.download?.setRateLimit(bytesPerSecond);
    await this.#persist();
    this.emit('changed', snapshot(e));
    return snapshot(e);
  }

  /**
   * Changes one download's number of connections (1..256). A transfer fixes its connections when
   * it starts, so a running download keeps its current ones until it next starts (pause and
   * resume, retry, or a restart of the manager); the new number is persisted at once.
   */
  async setConnections(id: string, connections: number): Promise<EntrySnapshot> {
    checkInt('connections', connections, 1, 256);
    const e = this.#entry(id);
    e.options.connections = connections;
    e.download?.setConnections(connections);
    await this.#persist();
    this.emit('changed', snapshot(e));
    return snapshot(e);
  }

  /**
   * Removes every completed or cancelled download from the list, and every completed or cancelled
   * entry from the history; files on disk stay (a cancelled one has no data left). Failed
   * downloads stay: they hold partial data that Retry resumes. Answers the ids removed from the
   * list, each also announced by a `removed` event.
   */
  async clearCompleted(): Promise<string[]> {
    this.#checkOpen();
    const cleared = new Set<EntryState>(['completed', 'canceled']);
    const ids = [...this.#entries.values()].filter((e) => cleared.has(e.state)).map((e) => e.id);
    for (const id of ids) this.#entries.delete(id);
    const gone = new Set(ids);
    this.#history = this.#history.filter((h) => !cleared.has(h.state) && !gone.has(h.id));
    await this.#persist();
    for (const id of ids) this.emit('removed', id);
    return ids;
  }

  async pauseAll(): Promise<void> {
    await Promise.all([...this.#entries.values()].filter((e) => e.state === 'queued' || ACTIVE.has(e.state)).map((e) => this.pause(e.id)));
  }

  /** Puts every paused download back in the queue, in queue order. */
  async resumeAll(): Promise<void> {
    // Downloads held for their secrets stay held: without them they would only fail; resume() takes them.
    for (const e of [...this.#entries.values()].sort(byQueueOrder)) if (e.state === 'paused' && !e.awaitingSecrets) this.#set(e, 'queued');
    await this.#persist();
    this.#pump();
  }

  /** Finished and failed downloads, newest first. */
  history(): HistoryEntry[] {
    return [...this.#history];
  }

  /** Forgets every history entry (the files stay on disk). */
  async clearHistory(): Promise<void> {
    this.#history = [];
    await this.#persist();
  }

  /** Resolves when no download is queued or active (for batch front-ends such as the CLI). */
  async idle(): Promise<void> {
    while ([...this.#entries.values()].some((e) => e.state === 'queued' || ACTIVE.has(e.state))) {
      await new Promise<void>((r) => {
        const done = (): void => {
          this.off('changed', done);
          this.off('removed', done);
          r();
        };
        this.on('changed', done);
        this.on('removed', done);
      });
    }
  }

  /** Stops every running download (partial data kept), writes the queue, releases the lock. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#ticker);
    const running = [...this.#entries.values()].filter((e) => e.download && ACTIVE.has(e.state));
    // Their state on disk stays "downloading", so a restart picks them up again.
    await Promise.all(running.map((e) => e.download!.pause()));
    for (const e of running) if (e.state === 'paused') e.state = 'downloading';
    await this.engine.close();
    this.#dirty = true;
    await this.#flush();
    await this.#store?.close();
  }

  // ---- internals ----

  #setSecrets(e: Entry, secrets: Secrets | undefined): void {
    if (!secrets) return;
    if (secrets.credentials !== undefined) {
      e.secrets.credentials = secrets.credentials;
      e.needsSecrets = true;
    }
    if (secrets.headers !== undefined) {
      validateAddOptions({ headers: secrets.headers });
      for (const [k, v] of Object.entries(secrets.headers)) {
        if (SECRET_HEADERS.has(k.toLowerCase())) {
          e.secrets.headers[k.toLowerCase()] = v;
          e.needsSecrets = true;
        }
      }
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new UsageError(ErrorCodes.INVALID_STATE, 'The manager is closed');
  }

  #entry(id: string): Entry {
    const e = this.#entries.get(id);
    if (!e) throw new UsageError(ErrorCodes.UNKNOWN_DOWNLOAD, `No download with id ${id}`);
    return e;
  }

  #targetKey(url: URL, options: AddOptions): string {
    if (options.output !== undefined) return `file:${resolve(options.output)}`;
    return `url:${redactUrl(url)}|${resolve(options.dir ?? this.#settings.dir)}`;
  }

  #set(e: Entry, state: EntryState): void {
    if (e.state === state) return;
    e.state = state;
    if (!ACTIVE.has(state)) {
      e.speed = 0;
      e.eta = undefined;
      e.connections = 0;
    }
    this.#dirty = true;
    this.emit('changed', snapshot(e));
  }

  /** Starts queued downloads while there is room. */
  #pump(): void {
    if (this.#closed) return;
    let active = 0;
    for (const e of this.#entries.values()) if (ACTIVE.has(e.state)) active++;
    // Most calls find no free slot: only sort the queue when one can start.
    if (active >= this.#settings.maxConcurrent) return;
    const queued = [...this.#entries.values()].filter((e) => e.state === 'queued').sort(byQueueOrder);
    for (const e of queued) {
      if (active >= this.#settings.maxConcurrent) break;
      this.#start(e);
      active++;
    }
  }

  #start(e: Entry): void {
    e.startedAt = performance.now();
    e.error = undefined;
    if (e.download && e.download.state === 'paused') {
      this.#set(e, 'probing');
      e.download.resume();
      return;
    }
    const o = e.options;
    let dl: Download;
    try {
      dl = this.engine.download(e.url, {
        ...(e.file !== undefined ? { output: e.file } : { dir: o.dir ?? this.#settings.dir }),
        connections: o.connections ?? this.#settings.connections,
        ...(o.checksum ? { checksum: o.checksum } : {}),
        headers: { ...o.headers, ...e.secrets.headers },
        ...(e.secrets.credentials ? { credentials: e.secrets.credentials } : {}),
        ...(o.rateLimit !== undefined ? { rateLimit: o.rateLimit } : {}),
        ...(o.stallTimeoutMs !== undefined ? { stallTimeoutMs: o.stallTimeoutMs } : {}),
        ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
        ...(o.minSplitSize !== undefined ? { minSplitSize: o.minSplitSize } : {}),
        // A file this manager chose on an earlier run is its own: resume it, never rename again.
        existing: o.existing ?? (o.output !== undefined ? 'fail' : 'rename'),
        retries: o.retries ?? this.#settings.retries,
        id: e.id,
      });
    } catch (err) {
      this.#fail(e, isDownloadError(err) ? err : new DownloadError(ErrorCodes.INTERNAL, String(err)));
      return;
    }
    e.download = dl;
    this.#set(e, 'probing');
    this.emit('started', snapshot(e), dl);
    dl.on('state', (s) => {
      if (e.download !== dl) return;
      if (s === 'probing' || s === 'downloading' || s === 'verifying') this.#set(e, s);
    });
    dl.on('start', (info) => {
      if (e.download !== dl) return;
      e.file = info.file;
      e.total = info.size;
      this.#dirty = true;
      this.#persistInBackground();
      this.emit('changed', snapshot(e));
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
        this.#set(e, 'completed');
        this.#recordHistory(e, result, undefined);
        this.#persistInBackground();
        this.#pump();
      },
      (err: unknown) => {
        if (e.download !== dl) return;
        const error = isDownloadError(err) ? err : new DownloadError(ErrorCodes.INTERNAL, String(err));
        if (error.code === ErrorCodes.ABORTED) {
          // cancel() or close(): the caller sets the state.
          if (dl.state === 'canceled' && e.state !== 'canceled' && !this.#closed) {
            this.#set(e, 'canceled');
            this.#recordHistory(e, undefined, error);
          }
          this.#persistInBackground();
          this.#pump();
          return;
        }
        this.#fail(e, error);
      },
    );
  }

  #fail(e: Entry, error: DownloadError): void {
    e.error = { code: error.code, message: error.message };
    this.#set(e, 'failed');
    this.#recordHistory(e, undefined, error);
    this.#persistInBackground();
    this.#pump();
  }

  #recordHistory(e: Entry, result: DownloadResult | undefined, error: DownloadError | undefined): void {
    const durationMs = result?.durationMs ?? Math.round(e.startedAt ? performance.now() - e.startedAt : 0);
    const size = result?.size ?? e.total;
    const h: HistoryEntry = {
      id: e.id,
      url: redactUrl(e.url),
      file: result?.file ?? e.file,
      size,
      digest: result?.digest ? { algorithm: result.digest.algorithm, hex: result.digest.hex } : undefined,
      state: result ? 'completed' : error?.code === ErrorCodes.ABORTED ? 'canceled' : 'failed',
      errorCode: error?.code,
      errorMessage: error?.message,
      durationMs,
      averageSpeed: result && durationMs > 0 ? Math.round((result.size * 1000) / durationMs) : 0,
      finishedAt: new Date().toISOString(),
    };
    this.#history.unshift(h);
    if (this.#history.length > this.#historyLimit) this.#history.length = this.#historyLimit;
    this.#dirty = true;
    this.emit('history', h);
  }

  async #deletePartial(e: Entry): Promise<void> {
    if (!e.file) return;
    await PartialFile.removePartial(e.file);
  }

  #emitProgress(): void {
    const active = [...this.#entries.values()].filter((e) => ACTIVE.has(e.state));
    if (active.length > 0) this.emit('progress', active.sort(byQueueOrder).map(snapshot));
  }

  /** Persists without waiting; a failure becomes a `warning` event, never an unhandled rejection. */
  #persistInBackground(): void {
    this.#persist().catch((err: unknown) => {
      const error = isDownloadError(err) ? err : fileSystemError(err, 'write the queue');
      this.emit('warning', { code: error.code, message: error.message });
    });
  }

  /** Writes the queue and history now (serialised; concurrent calls share one write). */
  async #persist(): Promise<void> {
    this.#dirty = true;
    await this.#flush();
  }

  async #flush(): Promise<void> {
    if (!this.#store) return;
    const store = this.#store;
    // One failed write must not poison the chain: the next write tries again.
    this.#writing = this.#writing.catch(() => undefined).then(async () => {
      if (!this.#dirty) return;
      this.#dirty = false;
      const doc: QueueDocument = {
        version: 1,
        settings: this.#settings,
        entries: [...this.#entries.values()].sort(byQueueOrder).map((e) => ({
          id: e.id,
          url: redactUrl(e.url),
          options: e.options,
          state: e.state,
          priority: e.priority,
          seq: e.seq,
          ...(e.file !== undefined ? { file: e.file } : {}),
          bytes: e.bytes,
          ...(e.total !== undefined ? { total: e.total } : {}),
          ...(e.error ? { error: e.error } : {}),
          addedAt: e.addedAt,
          ...(e.needsSecrets ? { secret: true as const } : {}),
        })),
      };
      await store.write('queue.json', doc);
      await store.write('history.json', { version: 1, entries: this.#history });
    });
    await this.#writing;
  }

  async #load(): Promise<void> {
    if (!this.#store) return;
    const doc = await this.#store.read<QueueDocument>('queue.json');
    const hist = await this.#store.read<{ version: 1; entries: HistoryEntry[] }>('history.json');
    if (hist && Array.isArray(hist.entries)) this.#history = hist.entries.slice(0, this.#historyLimit);
    if (!doc || doc.version !== 1 || !Array.isArray(doc.entries)) return;
    if (doc.settings) {
      this.#settings = { ...this.#settings, ...doc.settings };
      this.engine.setRateLimit(this.#settings.rateLimit);
      this.engine.setConnectionLimits(this.#settings.maxConnectionsPerHost, this.#settings.maxConnections);
    }
    for (const p of doc.entries) {
      let url: URL;
      try {
        url = new URL(p.url);
      } catch {
        continue;
      }
      const wouldRun = ACTIVE.has(p.state) || p.state === 'queued';
      // Its secrets stayed in the old process's memory: resuming without them would only fail
      // (HTTP 401, a refused login). It waits, paused, for a front-end to give them with resume().
      const awaitingSecrets = wouldRun && p.secret === true;
      const state: EntryState = awaitingSecrets ? 'paused' : wouldRun ? this.#restore : p.state;
      this.#entries.set(p.id, {
        id: p.id,
        key: this.#targetKey(url, p.options ?? {}),
        url,
        options: p.options ?? {},
        secrets: { headers: {}, credentials: undefined },
        needsSecrets: p.secret === true,
        awaitingSecrets,
        state,
        priority: p.priority ?? 0,
        seq: p.seq ?? ++this.#seq,
        file: p.file,
        bytes: p.bytes ?? 0,
        total: p.total,
        speed: 0,
        eta: undefined,
        connections: 0,
        error: p.error,
        addedAt: p.addedAt ?? new Date().toISOString(),
        download: undefined,
        startedAt: 0,
      });
      this.#seq = Math.max(this.#seq, p.seq ?? 0);
    }
    // The queue is written on state changes only; the bytes on disk are in each sidecar state file.
    await Promise.all(
      [...this.#entries.values()].map(async (e) => {
        if (!e.file || !UNFINISHED.has(e.state)) return;
        const saved = await PartialFile.readSaved(e.file);
        if (saved) {
          e.bytes = saved.segments.reduce((n, [start, , pos]) => n + (pos - start), 0);
          if (saved.size !== null) e.total = saved.size;
        }
      }),
    );
  }
}

function byQueueOrder(a: { priority: number; seq: number }, b: { priority: number; seq: number }): number {
  return b.priority - a.priority || a.seq - b.seq;
}

function snapshot(e: Entry): EntrySnapshot {
  return {
    id: e.id,
    url: redactUrl(e.url),
    file: e.file,
    state: e.state,
    priority: e.priority,
    bytes: e.bytes,
    total: e.total,
    speed: Math.round(e.speed),
    eta: e.eta === undefined ? undefined : Math.round(e.eta),
    connections: e.connections,
    error: e.error,
    addedAt: e.addedAt,
    rateLimit: e.options.rateLimit,
    awaitingCredentials: e.awaitingSecrets,
  };
}

/** Schemes never downloaded, whatever plugins say: they name local or script content, not a remote file. */
const NEVER: ReadonlySet<string> = new Set(['file:', 'data:', 'javascript:', 'blob:', 'about:', 'vscode:', 'command:']);

/**
 * Parses a URL a front-end submitted, refusing malformed ones and schemes that no installed
 * protocol plugin serves (so `file:`, `data:` and `javascript:` are refused up front).
 */
export function parseDownloadUrl(url: string, schemes: readonly string[]): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_URL, `Invalid URL "${redactText(url)}"`, { cause: err });
  }
  if (NEVER.has(parsed.protocol) || !schemes.includes(parsed.protocol)) {
    throw new UsageError(
      ErrorCodes.UNSUPPORTED_PROTOCOL,
      `Unsupported URL scheme "${parsed.protocol}" (supported: ${schemes.map((s) => s.slice(0, -1)).join(', ') || 'none'})`,
    );
  }
  if (!parsed.hostname) throw new UsageError(ErrorCodes.INVALID_URL, `URL has no host: "${redactUrl(parsed)}"`);
  return parsed;
}

function redactText(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}

function checkInt(name: string, v: unknown, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid ${name}: ${String(v)} (expected an integer ${min}..${max})`);
  }
}

function validateAddOptions(o: AddOptions): void {
  if (typeof o !== 'object' || o === null) throw new UsageError(ErrorCodes.INVALID_OPTION, 'Options must be an object');
  for (const key of ['output', 'dir', 'checksum'] as const) {
    const v = o[key];
    if (v !== undefined && (typeof v !== 'string' || v === '' || v.includes('\0'))) {
      throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid ${key}`);
    }
  }
  if (o.output !== undefined && o.dir !== undefined) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, 'Give output or dir, not both');
  }
  if (o.connections !== undefined) checkInt('connections', o.connections, 1, 256);
  if (o.priority !== undefined) checkInt('priority', o.priority, -1_000_000, 1_000_000);
  if (o.rateLimit !== undefined) checkInt('rateLimit', o.rateLimit, 1, Number.MAX_SAFE_INTEGER);
  if (o.retries !== undefined) checkInt('retries', o.retries, 0, 1000);
  if (o.stallTimeoutMs !== undefined) checkInt('stallTimeoutMs', o.stallTimeoutMs, 1, 86_400_000);
  if (o.connectTimeoutMs !== undefined) checkInt('connectTimeoutMs', o.connectTimeoutMs, 1, 86_400_000);
  if (o.minSplitSize !== undefined) checkInt('minSplitSize', o.minSplitSize, 1, Number.MAX_SAFE_INTEGER);
  if (o.existing !== undefined && !['fail', 'rename', 'overwrite'].includes(o.existing)) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid existing: ${String(o.existing)}`);
  }
  if (o.headers !== undefined) {
    if (typeof o.headers !== 'object' || o.headers === null) throw new UsageError(ErrorCodes.INVALID_OPTION, 'Invalid headers');
    for (const [k, v] of Object.entries(o.headers)) {
      if (typeof v !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || /[\r\n\0]/.test(v)) {
        throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid header "${k}"`);
      }
    }
  }
  if (o.checksum !== undefined) {
    // Same parser as downloads use, so the error is the same MG_ERR_INVALID_CHECKSUM.
    parseChecksum(o.checksum);
  }
}
