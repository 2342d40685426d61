import type { Download } from '../engine/Download.js';
import type { Multiget } from '../engine/Multiget.js';
import { DownloadError, ErrorCodes, UsageError } from '../errors.js';
import { OPTION_LIMITS } from '../options/limits.js';
import { checkNumericOptions, checkOption, normalizeOptions, normalizeSettings } from '../options/normalizeOptions.js';
import { resourceUsage } from '../trace/resourceUsage.js';
import type { DownloadResult } from '../types.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { ContentShortcut } from './content/ContentShortcut.js';
import { type FolderAdded, type FolderFile, type FolderOptions, addFolder } from './folders.js';
import { History } from './History.js';
import { documentsOf, loadStored } from './persistence.js';
import { ACTIVE, type Entry, Queue, UNFINISHED, newEntry, snapshot, targetKey } from './Queue.js';
import { checkRelinkable, relink } from './relink.js';
import { applySecrets } from './secrets.js';
import { applySettings, createEngine, initialSettings } from './settings.js';
import { stateLocations } from './stateDir.js';
import type { ManagerStore } from './store/ManagerStore.js';
import { StoreWriter } from './StoreWriter.js';
import { pauseForRestart, stopRun } from './stopRun.js';
import { type StartContext, startEntry } from './startEntry.js';
import type { AddOptions, EntrySnapshot, EntryState, HistoryEntry, ManagerEvents, ManagerOptions, ManagerSettings, Secrets } from './types.js';
import { parseDownloadUrl, schemesOf } from './validation.js';

export { parseDownloadUrl } from './validation.js';
export type { ManagerEvents, ManagerOptions, Secrets } from './types.js';

/**
 * Many downloads: a queue with priorities and a limit of concurrent downloads, pause, resume,
 * cancel, remove, retry, global and per-download rate limits, a shared connection budget, a
 * history, and a content store (a finished file is copied, not downloaded again). With a state
 * directory (or a `ManagerStore`), the queue survives a restart of the process (SIGKILL
 * included): unfinished downloads come back and resume from their sidecar state files.
 *
 * This class is the public API and the state machine of an entry (`#set`, `#end`, the queue's
 * `#pump`); its parts live beside it in `manager/`: `Queue` and `History`, `startEntry` (how an
 * entry starts and its Download is followed), `StoreWriter` and `persistence` (the store),
 * `secrets`, `relink` (a new URL), `stopRun`, `settings`, `validation` and the content store.
 */
export class Manager extends TypedEmitter<ManagerEvents> {
  /** The engine the downloads run on; its hooks are open to plugins. */
  readonly engine: Multiget;
  readonly #runContext: StartContext;
  readonly #queue = new Queue();
  readonly #history: History;
  #settings: ManagerSettings;
  readonly #writer: StoreWriter;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #ticker: NodeJS.Timeout;

  private constructor(options: ManagerOptions, store: ManagerStore | undefined, contentDir: string | false | undefined) {
    super();
    checkNumericOptions({ historyLimit: options.historyLimit });
    this.#history = new History(options.historyLimit ?? OPTION_LIMITS.historyLimit.default);
    this.#settings = initialSettings(options);
    this.engine = createEngine(options, this.#settings);
    this.#writer = new StoreWriter(store, documentsOf(() => this.#settings, this.#queue, this.#history), (w) => this.emit('warning', w));
    this.#runContext = {
      engine: this.engine,
      content: contentDir === false ? undefined : new ContentShortcut(this.engine, contentDir, store, (w) => this.emit('warning', w)),
      settings: () => this.#settings,
      listed: (e) => this.#queue.get(e.id) === e,
      closed: () => this.#closed,
    };
    this.#ticker = setInterval(() => this.#emitProgress(), options.progressIntervalMs ?? 500);
    this.#ticker.unref();
  }

  /** Opens a manager: opens the store (locking the state directory, if any), loads it and restarts unfinished downloads. */
  static async open(options: ManagerOptions = {}): Promise<Manager> {
    const { store, contentDir } = stateLocations(options);
    await store?.open();
    let manager: Manager;
    try {
      manager = new Manager(options, store, contentDir);
      if (store) await manager.#load(store, options.restore ?? 'queued');
    } catch (err) {
      await store?.close();
      throw err;
    }
    manager.#pump();
    return manager;
  }

  /** URL schemes the installed protocol plugins serve (`['http:', 'https:', ...]`). */
  get schemes(): string[] {
    return schemesOf(this.engine.plugins);
  }

  /** Current settings. */
  get settings(): ManagerSettings {
    return { ...this.#settings };
  }

  /** Changes settings at run time; running downloads get new rate limits and caps at once. */
  async setSettings(patch: Partial<ManagerSettings>): Promise<ManagerSettings> {
    const next = { ...this.#settings, ...normalizeSettings(patch) };
    this.#settings = next;
    applySettings(this.engine, next);
    await this.#writer.save();
    this.#pump();
    return this.settings;
  }

  /**
   * Adds a download to the queue. The same URL to the same target while one is unfinished returns
   * the existing download instead of starting a second writer. Throws a UsageError for a bad URL
   * (only schemes of the installed protocol plugins are accepted) or bad options (see
   * `normalizeOptions`; options it returned are not checked again). A `URL` is not parsed again.
   */
  async add(url: string | URL, options: AddOptions = {}): Promise<EntrySnapshot> {
    const [added] = await this.addMany([{ url, options }]);
    return added!;
  }

  /**
   * Adds downloads in order, each as {@link add} would (an unfinished download of the same URL to
   * the same target, earlier in the list included, is answered instead of a second), with one
   * write of the queue for all of them: adding a thousand one by one wrote the growing queue a
   * thousand times. Every item is checked before any is added: one bad URL or option throws and
   * adds none. Answers a snapshot per item, in the items' order.
   */
  async addMany(items: ReadonlyArray<{ url: string | URL; options?: AddOptions }>): Promise<EntrySnapshot[]> {
    this.#checkOpen();
    const schemes = this.schemes;
    const checked = items.map(({ url, options }) => {
      const parsed = parseDownloadUrl(url, schemes);
      const o = normalizeOptions(options ?? {});
      return { parsed, o, key: targetKey(parsed, o, this.#settings.dir) };
    });
    const added: Entry[] = [];
    const entries = checked.map(({ parsed, o, key }) => {
      const existing = this.#queue.unfinished(key);
      if (existing) return existing;
      const entry = newEntry(parsed, key, o, this.#queue.nextSeq());
      this.#queue.add(entry);
      added.push(entry);
      return entry;
    });
    if (added.length > 0) await this.#announce(added);
    return entries.map(snapshot);
  }

  /**
   * Downloads a remote folder tree (ftp, ftps, sftp) through the queue: one download per file.
   * See {@link addFolder} (in `folders.ts`) for what is taken, skipped and resumed, and for
   * `checkFile`, a rule of the caller's for every file's output, checked before any is queued.
   */
  async addFolder(url: string, options: FolderOptions = {}, checkFile?: (file: FolderFile) => string): Promise<FolderAdded> {
    this.#checkOpen();
    return await addFolder(this, parseDownloadUrl(url, this.schemes), options, checkFile);
  }

  /**
   * The engine's Download of an entry while it runs (probing, downloading, verifying), for its
   * detailed events and `segmentMap()`; undefined otherwise or for an unknown id.
   */
  running(id: string): Download | undefined {
    const e = this.#queue.get(id);
    return e && ACTIVE.has(e.state) ? e.download : undefined;
  }

  /** Every download in the list, in queue order (priority, then order of addition). */
  list(): EntrySnapshot[] {
    return this.#queue.ordered().map(snapshot);
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
    } else if (ACTIVE.has(e.state)) {
      await stopRun(e, false);
      if (e.state !== 'completed' && e.state !== 'failed') this.#set(e, 'paused');
    }
    return this.#commit(e);
  }

  /**
   * Puts a paused download back in the queue. `secrets` (credentials, secret headers) replace the
   * ones held in memory: a download restored after a restart has none until a front-end gives them.
   */
  async resume(id: string, secrets?: Secrets): Promise<EntrySnapshot> {
    const e = this.#entry(id);
    applySecrets(e, secrets);
    e.awaitingSecrets = false;
    if (e.state !== 'paused') return snapshot(e);
    this.#set(e, 'queued');
    return this.#commit(e);
  }

  /** Stops a download and deletes its partial data; it stays in the list as `canceled`. */
  async cancel(id: string): Promise<EntrySnapshot> {
    const e = this.#entry(id);
    if (!UNFINISHED.has(e.state)) return snapshot(e);
    await stopRun(e, true);
    if (e.state !== 'canceled') {
      this.#set(e, 'canceled');
      this.#recordHistory(e, undefined, new DownloadError(ErrorCodes.ABORTED, 'Cancelled'));
    }
    return this.#commit(e);
  }

  /** Removes a download from the list; with `deleteData`, also its partial data (never a finished file). */
  async remove(id: string, options: { deleteData?: boolean } = {}): Promise<void> {
    const e = this.#entry(id);
    await stopRun(e, options.deleteData === true);
    this.#queue.delete(id);
    await this.#writer.save();
    this.emit('removed', id);
    this.#pump();
  }

  /**
   * Queues a failed or cancelled download again (it resumes from partial data when there is some).
   * `secrets` as for `resume`: after a restart, credentials are given again this way.
   */
  async retry(id: string, secrets?: Secrets): Promise<EntrySnapshot> {
    const e = this.#entry(id);
    if (e.state !== 'failed' && e.state !== 'canceled') {
      throw new UsageError(ErrorCodes.INVALID_STATE, `Download ${id} is ${e.state}; only failed or cancelled ones can be retried`);
    }
    applySecrets(e, secrets);
    e.error = undefined;
    e.download = undefined;
    this.#set(e, 'queued');
    return this.#commit(e);
  }

  /**
   * Gives a download a new URL (its link expired: paused with reason `linkExpired`; or any other
   * unfinished or failed download) and queues it. Its partial data resumes when the new URL serves
   * the same file (size and validators match) and starts over when not, never mixing the two.
   * Credentials in the URL are held in memory only, as for {@link add}; credentials and secret
   * headers held for the old URL are kept only when the new one has the same origin (scheme, host,
   * port); mirror URLs keep their userinfo. Throws
   * MG_ERR_INVALID_URL / MG_ERR_UNSUPPORTED_PROTOCOL for a bad URL, MG_ERR_INVALID_STATE for a
   * completed or cancelled download.
   */
  async updateUrl(id: string, url: string | URL): Promise<EntrySnapshot> {
    this.#checkOpen();
    const e = this.#entry(id);
    const parsed = parseDownloadUrl(url, this.schemes);
    checkRelinkable(e);
    await stopRun(e, false);
    // Checked again after pausing: the download may have finished meanwhile.
    checkRelinkable(e);
    relink(e, parsed);
    this.#queue.rekey(e, targetKey(parsed, e.options, this.#settings.dir));
    if (e.state === 'queued') this.emit('changed', snapshot(e));
    else this.#set(e, 'queued');
    return this.#commit(e);
  }

  /** Changes a download's priority (higher runs first). */
  async setPriority(id: string, priority: number): Promise<EntrySnapshot> {
    checkOption('priority', priority);
    const e = this.#entry(id);
    this.#queue.setPriority(e, priority);
    return this.#changed(e);
  }

  /**
   * Moves a download to `index` in the queue order, among downloads of the same priority: it takes
   * the priority of the download it lands next to, so the order shown is the order run.
   */
  async move(id: string, index: number): Promise<EntrySnapshot[]> {
    const e = this.#entry(id);
    this.#queue.move(e, index);
    await this.#changed(e);
    return this.list();
  }

  /** Changes one download's rate limit (bytes per second; undefined for none), also while it runs. */
  async setRateLimit(id: string, bytesPerSecond: number | undefined): Promise<EntrySnapshot> {
    if (bytesPerSecond !== undefined) checkOption('rateLimit', bytesPerSecond);
    const e = this.#entry(id);
    const { rateLimit: _old, ...rest } = e.options;
    e.options = bytesPerSecond === undefined ? rest : { ...rest, rateLimit: bytesPerSecond };
    e.download?.setRateLimit(bytesPerSecond);
    return this.#changed(e);
  }

  /**
   * Changes one download's number of connections (`OPTION_LIMITS.connections`: 1..256). A transfer
   * fixes its connections when it starts, so a running download keeps its current ones until it
   * next starts (pause and resume, retry, or a restart of the manager); the new number is persisted at once.
   */
  async setConnections(id: string, connections: number): Promise<EntrySnapshot> {
    checkOption('connections', connections);
    const e = this.#entry(id);
    e.options = { ...e.options, connections };
    e.download?.setConnections(connections);
    return this.#changed(e);
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
    const ids = new Set(this.#queue.deleteWhere((e) => cleared.has(e.state)));
    this.#history.filter((h) => !cleared.has(h.state) && !ids.has(h.id));
    await this.#writer.save('queue', 'history');
    for (const id of ids) this.emit('removed', id);
    return [...ids];
  }

  /** Pauses every queued or running download. */
  async pauseAll(): Promise<void> {
    await Promise.all(this.#queue.all().filter((e) => e.state === 'queued' || ACTIVE.has(e.state)).map((e) => this.pause(e.id)));
  }

  /** Puts every paused download back in the queue, in queue order. */
  async resumeAll(): Promise<void> {
    // Downloads held for their secrets stay held: without them they would only fail; resume() takes them.
    // ...and so do expired links: they need updateUrl().
    for (const e of this.#queue.ordered()) if (e.state === 'paused' && !e.awaitingSecrets && e.reason === undefined) this.#set(e, 'queued');
    await this.#writer.save();
    this.#pump();
  }

  /** Finished and failed downloads, newest first. */
  history(): HistoryEntry[] {
    return this.#history.list();
  }

  /** Forgets every history entry (the files stay on disk). */
  async clearHistory(): Promise<void> {
    this.#history.filter(() => false);
    await this.#writer.save('history');
  }

  /** Resolves when no download is queued or active (for batch front-ends such as the CLI). */
  async idle(): Promise<void> {
    if (!this.#queue.busy()) return;
    // One pair of listeners for the whole wait: a pair added and removed at every change cost 9 ms
    // of a batch of 1,000 small files (`--cpu-prof`), four changes per download.
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.#queue.busy()) return;
        this.off('changed', check).off('removed', check);
        resolve();
      };
      this.on('changed', check).on('removed', check);
    });
  }

  /** Stops every running download (partial data kept), writes the queue, releases the lock. */
  async close(): Promise<void> {
    // A second caller (the CLI's interrupt, then its exit path) waits for the first close to end:
    // returning at once let the process exit before running downloads were paused and saved.
    this.#closing ??= this.#close();
    return await this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#ticker);
    await pauseForRestart(this.#queue.all(), (e) => this.#queue.enter(e, 'downloading'));
    await this.engine.close();
    await this.#runContext.content?.close();
    await this.#writer.close();
  }

  /** Writes a change of `e`'s state now, lets the queue act on it, and answers `e` as it stands. */
  async #commit(e: Entry): Promise<EntrySnapshot> {
    await this.#writer.save();
    this.#pump();
    return snapshot(e);
  }

  /** Persists a new entry or a change of `e`'s priority or options, tells front-ends, and lets the queue act on it. */
  async #changed(e: Entry): Promise<EntrySnapshot> {
    await this.#announce([e]);
    return snapshot(e);
  }

  /** Writes the queue, then tells of each entry that changed and lets the queue start what it may. */
  async #announce(entries: readonly Entry[]): Promise<void> {
    await this.#writer.save();
    for (const e of entries) this.emit('changed', snapshot(e));
    this.#pump();
  }

  #checkOpen(): void {
    if (this.#closed) throw new UsageError(ErrorCodes.INVALID_STATE, 'The manager is closed');
  }

  #entry(id: string): Entry {
    const e = this.#queue.get(id);
    if (!e) throw new UsageError(ErrorCodes.UNKNOWN_DOWNLOAD, `No download with id ${id}`);
    return e;
  }

  #set(e: Entry, state: EntryState): void {
    if (!this.#queue.enter(e, state)) return;
    this.#writer.changed();
    this.emit('changed', snapshot(e));
  }

  /** Starts queued downloads while there is room. */
  #pump(): void {
    if (this.#closed) return;
    for (const e of this.#queue.startable(this.#settings.maxConcurrent)) this.#start(e);
  }

  #start(e: Entry): void {
    startEntry(e, this.#runContext, {
      set: (state) => this.#set(e, state),
      started: (dl) => this.emit('started', snapshot(e), dl),
      targetKnown: () => {
        this.#writer.saveInBackground();
        this.emit('changed', snapshot(e));
      },
      cached: (result) => {
        this.emit('cached', snapshot(e), result);
        this.#end(e, 'completed', result);
      },
      completed: (result) => this.#end(e, 'completed', result),
      failed: (error) => this.#end(e, 'failed', undefined, error),
      // Not a failure: the bytes are kept and a new link (updateUrl) continues them.
      linkExpired: () => this.#end(e, 'paused'),
      aborted: (canceled, error) => {
        // cancel() or close(): the caller sets the state; a cancel from elsewhere is recorded here.
        if (canceled && e.state !== 'canceled' && !this.#closed) this.#end(e, 'canceled', undefined, error);
        else this.#settle();
      },
    });
  }

  /**
   * `e` ended by itself (completed, failed, cancelled from elsewhere) or was set aside (paused: its
   * link expired): recorded in the history when it ended, saved, and its slot given to the next.
   */
  #end(e: Entry, state: 'completed' | 'failed' | 'canceled' | 'paused', result?: DownloadResult, error?: DownloadError): void {
    // A download that ended is never used again (a retry makes a new one): let it go, with its
    // storage and digests, so that a long list does not keep every download it ran. A paused one
    // resumes.
    if (state !== 'paused') e.download = undefined;
    this.#set(e, state);
    if (state !== 'paused') this.#recordHistory(e, result, error);
    this.#settle();
  }

  /** Saves in the background and starts the queued downloads that now have room. */
  #settle(): void {
    this.#writer.saveInBackground();
    this.#pump();
  }

  #recordHistory(e: Entry, result: DownloadResult | undefined, error: DownloadError | undefined): void {
    const h = this.#history.record(e, result, error);
    this.#writer.changed('history');
    this.emit('history', h);
  }

  #emitProgress(): void {
    const active = this.#queue.active();
    if (active.length > 0) this.emit('progress', active.map(snapshot), resourceUsage());
  }

  async #load(store: ManagerStore, restore: 'queued' | 'paused'): Promise<void> {
    const settings = await loadStored(store, this.#queue, this.#history, restore, (url, o) => targetKey(url, o, this.#settings.dir));
    if (settings) applySettings(this.engine, (this.#settings = { ...this.#settings, ...settings }));
  }
}
