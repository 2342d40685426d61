/**
 * The subset of the Chrome trace-event format (JSON object form) that Multiget writes, and a checker
 * for it. Perfetto (ui.perfetto.dev) and chrome://tracing load these files.
 * Format: https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU
 */

/** Phases Multiget writes: complete span, instant, counter, metadata. */
export type TracePhase = 'X' | 'i' | 'C' | 'M';

/** One trace event. Times are in microseconds from the start of the recording. */
export interface TraceEvent {
  /** What happened (`range`, `split`, `retry`, ...), or the metadata kind (`thread_name`). */
  name: string;
  /** Comma-separated categories, for filtering in the viewer. */
  cat?: string;
  /** The phase. */
  ph: TracePhase;
  /** Timestamp in microseconds. */
  ts: number;
  /** Duration in microseconds (`X` only). */
  dur?: number;
  /** Process id: one per download in the file. */
  pid: number;
  /** Track within the download: 0 for the download itself, `c + 1` for connection `c`. */
  tid: number;
  /** Instant scope (`i` only): `t` thread, `p` process, `g` global. */
  s?: 't' | 'p' | 'g';
  /** Details. Counters: one number per series. Metadata: `{ name }` or `{ sort_index }`. */
  args?: Record<string, unknown>;
}

/** A trace file: what `JSON.parse` of a written trace returns. */
export interface TraceFile {
  /** The events, in the order they were recorded (metadata first). */
  traceEvents: TraceEvent[];
  /** How the viewer shows times. */
  displayTimeUnit: 'ms';
  /** About the recording: `producer`, `startedAt` (ISO time), `droppedEvents` (older events dropped to stay bounded). */
  otherData: Record<string, string | number>;
}

/** Outcomes a `range` span can have (`inFlight`: still running when the trace was taken). */
export const RANGE_OUTCOMES = ['done', 'split', 'failed', 'aborted', 'inFlight'] as const;

const PHASES = new Set<string>(['X', 'i', 'C', 'M', 'B', 'E', 'b', 'e', 'n', 's', 't', 'f', 'P', 'O', 'N', 'D', 'R', 'I']);
const METADATA = new Set(['process_name', 'process_labels', 'process_sort_index', 'thread_name', 'thread_sort_index']);

function isTime(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/**
 * Checks a parsed trace against the trace-event format and Multiget's own conventions; returns the
 * problems found (none: valid). It checks what the viewers need: the object form with a
 * `traceEvents` array; every event with a known phase, a name, numeric `pid`/`tid` and a
 * non-negative `ts`; `X` with a non-negative `dur`; `i` with a valid scope; `C` with numeric
 * series only; `M` with a known metadata name and its argument; and for Multiget's `range` spans,
 * the args `start`, `end`, `bytes` and `outcome`. Every track that has events has a name.
 */
export function checkTrace(trace: unknown): string[] {
  const problems: string[] = [];
  if (typeof trace !== 'object' || trace === null || Array.isArray(trace)) return ['a trace must be a JSON object'];
  const events = (trace as { traceEvents?: unknown }).traceEvents;
  if (!Array.isArray(events)) return ['traceEvents must be an array'];
  const unit = (trace as { displayTimeUnit?: unknown }).displayTimeUnit;
  if (unit !== undefined && unit !== 'ms' && unit !== 'ns') problems.push(`displayTimeUnit must be "ms" or "ns", not ${String(unit)}`);
  const named = new Set<string>();
  const used = new Set<string>();
  events.forEach((e: unknown, i) => {
    const at = `event ${i}`;
    if (typeof e !== 'object' || e === null) {
      problems.push(`${at} is not an object`);
      return;
    }
    const ev = e as Record<string, unknown>;
    if (typeof ev.ph !== 'string' || !PHASES.has(ev.ph)) problems.push(`${at}: unknown phase ${String(ev.ph)}`);
    if (typeof ev.name !== 'string' || ev.name === '') problems.push(`${at}: no name`);
    if (!Number.isInteger(ev.pid) || !Number.isInteger(ev.tid)) problems.push(`${at}: pid and tid must be integers`);
    if (!isTime(ev.ts)) problems.push(`${at}: ts must be a non-negative number of microseconds`);
    if (ev.args !== undefined && (typeof ev.args !== 'object' || ev.args === null || Array.isArray(ev.args))) {
      problems.push(`${at}: args must be an object`);
    }
    const args = (ev.args ?? {}) as Record<string, unknown>;
    const track = `${String(ev.pid)}/${String(ev.tid)}`;
    switch (ev.ph) {
      case 'X':
        if (!isTime(ev.dur)) problems.push(`${at}: a complete event needs a non-negative dur`);
        used.add(track);
        if (ev.name === 'range') {
          if (!Number.isInteger(args.start) || !Number.isInteger(args.bytes) || (args.bytes as number) < 0) {
            problems.push(`${at}: a range span needs integer start and bytes`);
          }
          if (args.end !== null && !Number.isInteger(args.end)) problems.push(`${at}: a range span's end is an integer or null`);
          if (!(RANGE_OUTCOMES as readonly unknown[]).includes(args.outcome)) problems.push(`${at}: unknown outcome ${String(args.outcome)}`);
        }
        break;
      case 'i':
        if (ev.s !== undefined && ev.s !== 't' && ev.s !== 'p' && ev.s !== 'g') problems.push(`${at}: instant scope must be t, p or g`);
        used.add(track);
        break;
      case 'C':
        if (Object.keys(args).length === 0) problems.push(`${at}: a counter needs at least one series`);
        for (const [k, v] of Object.entries(args)) {
          if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`${at}: counter series ${k} is not a number`);
        }
        break;
      case 'M':
        if (typeof ev.name !== 'string' || !METADATA.has(ev.name)) problems.push(`${at}: unknown metadata ${String(ev.name)}`);
        else if (ev.name.endsWith('_name') && typeof args.name !== 'string') problems.push(`${at}: ${ev.name} needs args.name`);
        else if (ev.name.endsWith('_sort_index') && !Number.isInteger(args.sort_index)) problems.push(`${at}: ${ev.name} needs args.sort_index`);
        if (ev.name === 'thread_name') named.add(track);
        break;
      default:
        break;
    }
  });
  for (const track of used) if (!named.has(track)) problems.push(`track ${track} has events but no thread_name`);
  return problems;
}
