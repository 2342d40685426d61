import type { SegmentMap } from '../types.js';

/**
 * A segment map squeezed into a fixed number of cells, one character each, so that its size is
 * bounded whatever the number of segments:
 * - `#` done: bytes on disk that no connection is fetching now;
 * - `0`-`9`, `a`-`z`: bytes written by the range request of connection 0, 1, ... still running
 *   (connection numbers beyond 35 wrap around);
 * - `.` left: bytes not yet on disk.
 * Each cell takes the kind that covers most of its bytes. Empty string when the size is unknown or 0.
 */
export function segmentCells(map: SegmentMap, cells: number): string {
  const size = map.size;
  const count = Math.max(0, Math.floor(cells));
  if (size === undefined || size <= 0 || count === 0) return '';
  // Runs of one kind, in offset order; a map's segments tile [0, size).
  const runs: Array<{ start: number; end: number; kind: string }> = [];
  for (const s of map.segments) {
    const pos = Math.min(Math.max(s.pos, s.start), s.end);
    if (pos > s.start) runs.push({ start: s.start, end: pos, kind: s.connection === undefined ? '#' : connectionChar(s.connection) });
    if (s.end > pos) runs.push({ start: pos, end: s.end, kind: '.' });
  }
  let out = '';
  let r = 0;
  for (let c = 0; c < count; c++) {
    const from = (size * c) / count;
    const to = (size * (c + 1)) / count;
    const weight = new Map<string, number>();
    while (r < runs.length && runs[r]!.end <= from) r++;
    for (let i = r; i < runs.length && runs[i]!.start < to; i++) {
      const run = runs[i]!;
      const overlap = Math.min(run.end, to) - Math.max(run.start, from);
      if (overlap > 0) weight.set(run.kind, (weight.get(run.kind) ?? 0) + overlap);
    }
    let best = '.';
    let most = 0;
    for (const [kind, w] of weight) {
      if (w > most) {
        best = kind;
        most = w;
      }
    }
    out += best;
  }
  return out;
}

const CONNECTION_CHARS = '0123456789abcdefghijklmnopqrstuvwxyz';

/** The cell character of a connection's running request. */
export function connectionChar(connection: number): string {
  return CONNECTION_CHARS[((connection % CONNECTION_CHARS.length) + CONNECTION_CHARS.length) % CONNECTION_CHARS.length]!;
}
