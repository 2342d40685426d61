import type { ResourceInfo, SegmentMapCells } from '@multiget/server/protocol';
import { formatBytes } from './format';

/** One run of equal cells of a segment map, as the panel draws it. */
export interface SegmentRun {
  /** `done` on disk, `flight` written by a running request of `connection`, `left` not yet on disk. */
  kind: 'done' | 'flight' | 'left';
  /** The connection of a `flight` run, else `null`. */
  connection: number | null;
  /** Cells in the run (its share of the bar is `cells / total cells`). */
  cells: number;
}

/** A row's segment map, ready to draw: runs and a sentence for screen readers. */
export interface SegmentMapView {
  runs: SegmentRun[];
  /** `Segment map: 42% done, 3 connections in flight, 58% left`. */
  label: string;
}

/**
 * Turns the service's segment map cells (`#` done, `0`-`9`/`a`-`z` a connection's running request,
 * `.` left) into runs of equal cells; `undefined` for an empty or malformed map (never drawn).
 */
export function segmentMapView(cells: SegmentMapCells | undefined): SegmentMapView | undefined {
  if (cells === undefined || cells === '' || !/^[#.0-9a-z]+$/.test(cells)) return undefined;
  const runs: SegmentRun[] = [];
  let done = 0;
  let flight = 0;
  const connections = new Set<number>();
  for (const c of cells) {
    const kind = c === '#' ? 'done' : c === '.' ? 'left' : 'flight';
    const connection = kind === 'flight' ? parseInt(c, 36) : null;
    if (kind === 'done') done++;
    if (connection !== null) {
      flight++;
      connections.add(connection);
    }
    const last = runs[runs.length - 1];
    if (last !== undefined && last.kind === kind && last.connection === connection) last.cells++;
    else runs.push({ kind, connection, cells: 1 });
  }
  const pct = (n: number): number => Math.round((n * 100) / cells.length);
  const inFlight = connections.size === 0 ? 'none in flight' : `${connections.size} ${connections.size === 1 ? 'connection' : 'connections'} in flight (${pct(flight)}%)`;
  return { runs, label: `Segment map: ${pct(done)}% done, ${inFlight}, ${pct(cells.length - done - flight)}% left` };
}

/** Milliseconds of CPU time as the footer shows them: `850 ms`, `12.3 s`, `4m 05s`. */
export function formatCpu(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

/**
 * The panel's footer: what the service itself uses (`Service: CPU 1.2 s (user 1.0 s, system 0.2 s)
 * · memory 85.0 MiB · heap 30.1 of 45.0 MiB`), or an empty string before the first figures came.
 */
export function resourceText(r: ResourceInfo | undefined): string {
  if (r === undefined) return '';
  const cpu = `CPU ${formatCpu(r.cpuUserMs + r.cpuSystemMs)} (user ${formatCpu(r.cpuUserMs)}, system ${formatCpu(r.cpuSystemMs)})`;
  return `Service: ${cpu} · memory ${formatBytes(r.rssBytes)} · heap ${formatBytes(r.heapUsedBytes)} of ${formatBytes(r.heapTotalBytes)}`;
}

/** What the service last said about segment maps and its own resource use. */
export class InsightStore {
  #maps: Record<string, SegmentMapCells> = {};
  #resources: ResourceInfo | undefined;

  /** Takes a `multiget/progress` notification's maps and figures. */
  progress(p: { segmentMaps?: Record<string, SegmentMapCells>; resources?: ResourceInfo }): void {
    // An older service sends neither: keep showing nothing rather than fail.
    if (p.segmentMaps !== undefined) this.#maps = p.segmentMaps;
    if (p.resources !== undefined) this.#resources = p.resources;
  }

  /** Takes a `multiget/status` answer (the same fields). */
  status(s: { segmentMaps: Record<string, SegmentMapCells>; resources: ResourceInfo }): void {
    this.progress(s);
  }

  /** Forgets everything (the service went away). */
  clear(): void {
    this.#maps = {};
    this.#resources = undefined;
  }

  /**
   * The panel's part: maps of the downloads that are transferring now (a map left from a download
   * that has since finished or paused is not drawn) and the footer text.
   */
  view(downloads: ReadonlyArray<{ id: string; state: string }>): { segmentMaps: Record<string, SegmentMapView>; footer: string } {
    const segmentMaps: Record<string, SegmentMapView> = {};
    for (const d of downloads) {
      if (d.state !== 'downloading') continue;
      const view = segmentMapView(this.#maps[d.id]);
      if (view !== undefined) segmentMaps[d.id] = view;
    }
    return { segmentMaps, footer: resourceText(this.#resources) };
  }
}
