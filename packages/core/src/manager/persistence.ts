import { StateFile } from '../storage/StateFile.js';
import { storedHref } from './urlText.js';
import { sidecarPaths } from '../storage/sidecars.js';
import type { History } from './History.js';
import { ACTIVE, type Entry, type Queue, UNFINISHED } from './Queue.js';
import type { ManagerStore, PersistedEntry, QueueDocument } from './store/ManagerStore.js';
import type { StoreDocuments } from './StoreWriter.js';
import type { AddOptions, EntryState, ManagerSettings } from './types.js';

/** The queue as the store keeps it: no secret, only a flag saying there were some. */
export function toQueueDocument(settings: ManagerSettings, entries: readonly Entry[]): QueueDocument {
  return {
    version: 1,
    settings,
    entries: entries.map((e) => ({
      id: e.id,
      // Kept whole but for userinfo: a signed URL resumes after a restart only with its signature.
      url: storedHref(e.url),
      options: e.options,
      state: e.state,
      priority: e.priority,
      seq: e.seq,
      ...(e.file !== undefined ? { file: e.file } : {}),
      ...(e.targetChosen ? { targetChosen: true as const } : {}),
      bytes: e.bytes,
      ...(e.total !== undefined ? { total: e.total } : {}),
      ...(e.error ? { error: e.error } : {}),
      addedAt: e.addedAt,
      ...(e.needsSecrets ? { secret: true as const } : {}),
      ...(e.reason !== undefined ? { reason: e.reason } : {}),
      ...(e.previousUrls.length > 0 ? { previousUrls: e.previousUrls } : {}),
    })),
  };
}

/** The documents a manager's store keeps: its queue (with the settings) and its history, each made when asked for. */
export function documentsOf(settings: () => ManagerSettings, queue: Queue, history: History): StoreDocuments {
  return {
    queue: () => toQueueDocument(settings(), queue.ordered()),
    history: () => ({ version: 1, entries: history.list() }),
  };
}

/**
 * An entry of a stored queue, back in memory, or undefined when it cannot be read. A download that
 * was running or queued comes back as `restore` says; one that needs secrets it no longer has
 * (they stayed in the old process's memory) waits, paused, for a front-end to give them.
 */
export function restoreEntry(p: PersistedEntry, restore: 'queued' | 'paused', key: (url: URL, e: PersistedEntry) => string, seq: () => number): Entry | undefined {
  let url: URL;
  try {
    url = new URL(p.url);
  } catch {
    return undefined;
  }
  const wouldRun = ACTIVE.has(p.state) || p.state === 'queued';
  const awaitingSecrets = wouldRun && p.secret === true;
  const state: EntryState = awaitingSecrets ? 'paused' : wouldRun ? restore : p.state;
  return {
    id: p.id,
    key: key(url, p),
    url,
    options: p.options ?? {},
    secrets: { headers: {}, credentials: undefined },
    needsSecrets: p.secret === true,
    awaitingSecrets,
    state,
    reason: state === 'paused' && p.reason === 'linkExpired' ? p.reason : undefined,
    previousUrls: Array.isArray(p.previousUrls) ? p.previousUrls.filter((u) => typeof u === 'string') : [],
    priority: p.priority ?? 0,
    seq: p.seq ?? seq(),
    file: p.file,
    targetChosen: p.targetChosen === true && p.file !== undefined,
    bytes: p.bytes ?? 0,
    total: p.total,
    speed: 0,
    eta: undefined,
    connections: 0,
    error: p.error,
    addedAt: p.addedAt ?? new Date().toISOString(),
    download: undefined,
    startedAt: 0,
    run: 0,
    fromCache: undefined,
  };
}

/** The queue is written on state changes only; the bytes on disk are in each sidecar state file. */
export async function readProgressFromSidecars(entries: readonly Entry[]): Promise<void> {
  await Promise.all(
    entries.map(async (e) => {
      if (!e.file || !UNFINISHED.has(e.state)) return;
      const saved = await new StateFile(sidecarPaths(e.file).state).read().catch(() => undefined);
      if (saved && saved !== 'corrupt') {
        e.bytes = saved.segments.reduce((n, [start, , pos]) => n + (pos - start), 0);
        if (saved.size !== null) e.total = saved.size;
      }
    }),
  );
}

/**
 * Loads the history and the queue of `store` into `queue` and `history`, and answers the stored
 * settings (undefined when there are none). `key` names an entry's target (one writer per target).
 */
export async function loadStored(
  store: ManagerStore,
  queue: Queue,
  history: History,
  restore: 'queued' | 'paused',
  key: (url: URL, options: AddOptions) => string,
): Promise<ManagerSettings | undefined> {
  const doc = await store.read('queue');
  const hist = await store.read('history');
  if (hist && Array.isArray(hist.entries)) history.restore(hist.entries);
  if (!doc || doc.version !== 1 || !Array.isArray(doc.entries)) return undefined;
  for (const p of doc.entries) {
    const e = restoreEntry(p, restore, (url, x) => key(url, x.options ?? {}), () => queue.nextSeq());
    if (!e) continue;
    queue.add(e);
    queue.sawSeq(e.seq);
  }
  await readProgressFromSidecars(queue.all());
  return doc.settings;
}
