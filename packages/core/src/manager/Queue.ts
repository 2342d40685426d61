import { resolve } from 'node:path';
import type { Download } from '../engine/Download.js';
import type { AddOptions } from '../options/types.js';
import { withoutUserinfo } from '../log/redact.js';
import { shownHref } from './urlText.js';
import { holdsSecrets, splitSecrets } from './secrets.js';
import { flatString, newId } from '../util/flatString.js';
import type { EntrySnapshot, EntryState, PauseReason } from './types.js';

/** States of a download that is transferring (or about to, or checking its bytes). */
export const ACTIVE: ReadonlySet<EntryState> = new Set(['probing', 'downloading', 'verifying']);
/** States of a download that has not ended. */
export const UNFINISHED: ReadonlySet<EntryState> = new Set(['queued', 'probing', 'downloading', 'verifying', 'paused']);

/** One managed download, as the manager holds it in memory. */
export interface Entry {
  id: string;
  /** Identifies the target (file, or URL and directory): one unfinished download per key. */
  key: string;
  url: URL;
  options: AddOptions;
  /** Secret headers and credentials: memory only. */
  secrets: { headers: Record<string, string>; credentials: AddOptions['credentials']; mirrors?: string[] };
  /** It was given secrets once; they are needed again after a restart (persisted as a flag only). */
  needsSecrets: boolean;
  /** Restored after a restart without the secrets it needs: held paused until a front-end gives them. */
  awaitingSecrets: boolean;
  state: EntryState;
  /** Why the manager paused it (see PauseReason); cleared when it leaves `paused`. */
  reason: PauseReason | undefined;
  /** Earlier URLs without credentials (see updateUrl): their partial data is this download's. */
  previousUrls: string[];
  priority: number;
  seq: number;
  file: string | undefined;
  /**
   * A start of this download opened `file` as its target (the engine's `start` event), in this
   * process or before a restart: only then can a file standing there be this download's own work.
   * (`file` alone may be the caller's `output`, never written by this download.)
   */
  targetChosen: boolean;
  bytes: number;
  total: number | undefined;
  speed: number;
  eta: number | undefined;
  connections: number;
  error: { code: string; message: string } | undefined;
  addedAt: string;
  download: Download | undefined;
  startedAt: number;
  /** Bumped on every start, pause and cancel: a content-store lookup of an older start is dropped. */
  run: number;
  /** Set when the file was copied from the content store: the stored file it came from. */
  fromCache: { path: string } | undefined;
}

/**
 * A new, queued entry for `url` with normalised `options`: the secrets among them (see
 * `splitSecrets`) are held apart from the options the store keeps.
 */
export function newEntry(url: URL, key: string, options: AddOptions, seq: number): Entry {
  const { kept, secrets } = splitSecrets(options);
  return {
    id: newId(),
    key,
    url,
    options: kept,
    secrets,
    needsSecrets: holdsSecrets(url, secrets),
    awaitingSecrets: false,
    state: 'queued',
    reason: undefined,
    previousUrls: [],
    priority: options.priority ?? 0,
    seq,
    file: options.output,
    targetChosen: false,
    bytes: 0,
    total: undefined,
    speed: 0,
    eta: undefined,
    connections: 0,
    error: undefined,
    addedAt: new Date().toISOString(),
    download: undefined,
    startedAt: 0,
    run: 0,
    fromCache: undefined,
  };
}

/**
 * Moves `e` to `state`, clearing what only other states have: a pause reason outside `paused`;
 * speed, ETA and connections outside the active states. False when `e` was in `state` already.
 */
export function enter(e: Entry, state: EntryState): boolean {
  if (e.state === state) return false;
  e.state = state;
  if (state !== 'paused') e.reason = undefined;
  if (!ACTIVE.has(state)) {
    e.speed = 0;
    e.eta = undefined;
    e.connections = 0;
  }
  return true;
}

/** Names a download's target (its file, or its URL and directory): one unfinished download per key. */
export function targetKey(url: URL, options: AddOptions, defaultDir: string): string {
  // Kept as long as the entry: flat (see flatString).
  if (options.output !== undefined) return flatString(`file:${resolve(options.output)}`);
  return flatString(`url:${withoutUserinfo(url).href}|${resolve(options.dir ?? defaultDir)}`);
}

/** Queue order: higher priority first, then order of addition. */
export function byQueueOrder(a: { priority: number; seq: number }, b: { priority: number; seq: number }): number {
  return b.priority - a.priority || a.seq - b.seq;
}

/** What front-ends see of an entry. */
export function snapshot(e: Entry): EntrySnapshot {
  return {
    id: e.id,
    url: shownHref(e.url),
    file: e.file,
    state: e.state,
    priority: e.priority,
    bytes: e.bytes,
    total: e.total,
    speed: Math.round(e.speed),
    eta: e.eta === undefined ? undefined : Math.round(e.eta),
    connections: e.connections,
    reason: e.reason,
    error: e.error,
    addedAt: e.addedAt,
    rateLimit: e.options.rateLimit,
    awaitingCredentials: e.awaitingSecrets,
    ...(e.fromCache ? { fromCache: { ...e.fromCache } } : {}),
  };
}

/** The manager's list of downloads: order, the concurrency limit, and the one-writer-per-target rule. */
export class Queue {
  readonly #entries = new Map<string, Entry>();
  /*
   * Indexes, so that a list of 10,000 URLs does not walk every entry on every change of every
   * download (it took 28 s for 10,000 files of 10 bytes, most of it in these scans). Each may hold
   * stale members (an entry that left the state, changed its key or was deleted): every lookup
   * checks, and drops what it finds stale. An entry gets into a state only through `add` or `enter`,
   * into a key only through `add` or `rekey`, and a new place in the order only through
   * `setPriority` or `move`: each files it.
   */
  /** Entries by target key. */
  readonly #byKey = new Map<string, Set<Entry>>();
  /** Queued entries. */
  readonly #queued = new Set<Entry>();
  /** Active entries (probing, downloading, verifying). */
  readonly #active = new Set<Entry>();
  /**
   * Queued entries in queue order from `#head` on (stale ones are skipped), or undefined when an
   * entry came into the queue out of order (a retry, a new priority, a move): sorted again when
   * next needed. New downloads usually come last in queue order and are appended.
   */
  #order: Entry[] | undefined = [];
  #head = 0;
  #seq = 0;

  /** The next sequence number (order of addition). */
  nextSeq(): number {
    return ++this.#seq;
  }

  /** Remembers a sequence number seen (restored entries), so new ones come after it. */
  sawSeq(seq: number): void {
    this.#seq = Math.max(this.#seq, seq);
  }

  add(e: Entry): void {
    this.#entries.set(e.id, e);
    this.#fileKey(e);
    this.#file(e);
    if (e.state !== 'queued' || this.#order === undefined) return;
    const last = this.#order.length > this.#head ? this.#order[this.#order.length - 1] : undefined;
    if (last !== undefined && byQueueOrder(last, e) > 0) this.#reorder();
    else this.#order.push(e);
  }

  /** Moves `e` to `state` (see the function `enter`); false when it was in `state` already. */
  enter(e: Entry, state: EntryState): boolean {
    if (!enter(e, state)) return false;
    this.#file(e);
    if (state === 'queued') this.#reorder();
    return true;
  }

  /** Gives `e` a new target key (a new URL: see `relink`). */
  rekey(e: Entry, key: string): void {
    e.key = key;
    this.#fileKey(e);
  }

  /** Gives `e` a new priority (higher runs first). */
  setPriority(e: Entry, priority: number): void {
    e.priority = priority;
    this.#reorder();
  }

  /** The queue order is worked out again when next needed. */
  #reorder(): void {
    this.#order = undefined;
  }

  #fileKey(e: Entry): void {
    let entries = this.#byKey.get(e.key);
    if (entries === undefined) this.#byKey.set(e.key, (entries = new Set()));
    entries.add(e);
  }

  #file(e: Entry): void {
    if (e.state === 'queued') this.#queued.add(e);
    else if (ACTIVE.has(e.state)) this.#active.add(e);
  }

  /** True when a member of `set` is in this queue and in a state `test` accepts; drops the others it meets. */
  #any(set: Set<Entry>, test: (e: Entry) => boolean): boolean {
    for (const e of set) {
      if (test(e) && this.#entries.get(e.id) === e) return true;
      set.delete(e);
    }
    return false;
  }

  /** The members of `set` that are in this queue and in a state `test` accepts; drops the others. */
  #valid(set: Set<Entry>, test: (e: Entry) => boolean): Entry[] {
    const found: Entry[] = [];
    for (const e of set) {
      if (test(e) && this.#entries.get(e.id) === e) found.push(e);
      else set.delete(e);
    }
    return found;
  }

  get(id: string): Entry | undefined {
    return this.#entries.get(id);
  }

  delete(id: string): void {
    this.#entries.delete(id);
  }

  /** Deletes every entry `test` accepts; answers their ids. */
  deleteWhere(test: (e: Entry) => boolean): string[] {
    const ids = this.all().filter(test).map((e) => e.id);
    for (const id of ids) this.#entries.delete(id);
    return ids;
  }

  /** Every entry, in no particular order. */
  all(): Entry[] {
    return [...this.#entries.values()];
  }

  /** Every entry, in queue order. */
  ordered(): Entry[] {
    return this.all().sort(byQueueOrder);
  }

  /** The unfinished download writing `key`, if any. */
  unfinished(key: string): Entry | undefined {
    const entries = this.#byKey.get(key);
    if (entries === undefined) return undefined;
    // Finished entries of this key stay filed (a retry brings one back); a changed key does not.
    const found = this.#valid(entries, (e) => e.key === key).find((e) => UNFINISHED.has(e.state));
    if (entries.size === 0) this.#byKey.delete(key);
    return found;
  }

  /** The active entries, in queue order. */
  active(): Entry[] {
    return this.#valid(this.#active, (e) => ACTIVE.has(e.state)).sort(byQueueOrder);
  }

  /** True while something is queued or active. */
  busy(): boolean {
    return this.#any(this.#active, (e) => ACTIVE.has(e.state)) || this.#any(this.#queued, (e) => e.state === 'queued');
  }

  /** The queued entries that may start now, in queue order, given `maxConcurrent`. */
  startable(maxConcurrent: number): Entry[] {
    const room = maxConcurrent - this.#valid(this.#active, (e) => ACTIVE.has(e.state)).length;
    // Most calls find no free slot: only look at the queue when one can start.
    if (room <= 0) return [];
    if (this.#order === undefined) {
      this.#order = this.#valid(this.#queued, (e) => e.state === 'queued').sort(byQueueOrder);
      this.#head = 0;
    }
    const order = this.#order;
    // What left the queue at its front (started, removed) is passed for good.
    while (this.#head < order.length && !this.#isQueued(order[this.#head]!)) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > order.length) {
      order.splice(0, this.#head);
      this.#head = 0;
    }
    const picked: Entry[] = [];
    for (let i = this.#head; i < order.length && picked.length < room; i++) if (this.#isQueued(order[i]!)) picked.push(order[i]!);
    return picked;
  }

  #isQueued(e: Entry): boolean {
    return e.state === 'queued' && this.#entries.get(e.id) === e;
  }

  /**
   * Moves `e` to `index` in queue order: it takes the priority of the download it lands next to,
   * so the order shown is the order run. Renumbers every entry.
   */
  move(e: Entry, index: number): void {
    const order = this.ordered().filter((x) => x !== e);
    const at = Math.max(0, Math.min(order.length, Math.trunc(index)));
    order.splice(at, 0, e);
    const neighbour = order[at + 1] ?? order[at - 1];
    if (neighbour) e.priority = neighbour.priority;
    order.forEach((x, i) => (x.seq = i + 1));
    this.#seq = order.length;
    this.#reorder();
  }
}
