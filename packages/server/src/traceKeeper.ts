import { type Download, type EntrySnapshot, type Manager, TraceRecorder, segmentCells } from '@multiget/core';
import { SEGMENT_MAP_CELLS, type SegmentMapCells } from './protocol.js';

/** Events kept per download's trace: the newest ones (about 3 MB of JSON). */
export const TRACE_EVENTS_PER_DOWNLOAD = 20_000;
/** Traces of finished downloads kept, besides those of the running ones (the most recent first). */
export const RECENT_TRACES = 20;

const KEEPERS = new WeakMap<Manager, TraceKeeper>();

interface Kept {
  recorder: TraceRecorder;
  file: string | undefined;
}

/**
 * Records a bounded trace of every download a manager runs, for `multiget/exportTrace`: always on,
 * because the run a user wants to report is the one that already went wrong. Each trace keeps its
 * newest {@link TRACE_EVENTS_PER_DOWNLOAD} events; traces of running downloads are kept, of
 * finished ones the {@link RECENT_TRACES} most recently started; a removed download's goes at once.
 * A retry or a resume adds the new run to the same trace. One keeper per manager, shared by the
 * sessions of a shared service. Downloads already running when it is created are traced from then on.
 */
export class TraceKeeper {
  readonly #manager: Manager;
  /** In order of the latest start, oldest first. */
  readonly #kept = new Map<string, Kept>();

  private constructor(manager: Manager) {
    this.#manager = manager;
    manager.on('started', (entry, download) => this.#record(entry, download));
    manager.on('removed', (id) => this.#kept.delete(id));
    for (const entry of manager.list()) {
      const download = manager.running(entry.id);
      if (download) this.#record(entry, download);
    }
  }

  /** The keeper of `manager`, created on first use. */
  static of(manager: Manager): TraceKeeper {
    let keeper = KEEPERS.get(manager);
    if (!keeper) KEEPERS.set(manager, (keeper = new TraceKeeper(manager)));
    return keeper;
  }

  /** The trace of download `id` as JSON text and a file name for it, or undefined when none is kept. */
  trace(id: string): { text: string; fileName: string } | undefined {
    const kept = this.#kept.get(id);
    if (!kept) return undefined;
    const base = kept.file ? kept.file.slice(Math.max(kept.file.lastIndexOf('/'), kept.file.lastIndexOf('\\')) + 1) : id;
    return { text: kept.recorder.toString(), fileName: `${base}.trace.json` };
  }

  #record(entry: EntrySnapshot, download: Download): void {
    let kept = this.#kept.get(entry.id);
    if (kept) this.#kept.delete(entry.id);
    else kept = { recorder: new TraceRecorder({ maxEvents: TRACE_EVENTS_PER_DOWNLOAD }), file: entry.file };
    this.#kept.set(entry.id, kept);
    const k = kept;
    download.on('start', (info) => (k.file = info.file));
    kept.recorder.attach(download);
    this.#prune();
  }

  #prune(): void {
    let finished = 0;
    for (const id of this.#kept.keys()) if (!this.#manager.running(id)) finished++;
    for (const id of [...this.#kept.keys()]) {
      if (finished <= RECENT_TRACES) break;
      if (this.#manager.running(id)) continue;
      this.#kept.delete(id);
      finished--;
    }
  }
}

/** Segment maps of the given entries that are running with a known size, by id. */
export function segmentMapsOf(manager: Manager, entries: readonly EntrySnapshot[]): Record<string, SegmentMapCells> {
  const maps: Record<string, SegmentMapCells> = {};
  for (const e of entries) {
    const map = manager.running(e.id)?.segmentMap();
    const cells = map ? segmentCells(map, SEGMENT_MAP_CELLS) : '';
    if (cells !== '') maps[e.id] = cells;
  }
  return maps;
}
