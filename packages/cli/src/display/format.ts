import { truncateToWidth } from './width.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** A byte count with binary units and one decimal: `0 B`, `512 B`, `1.5 KiB`, `256.0 MiB`. */
export function formatSize(bytes: number): string {
  let v = Math.max(0, bytes);
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${UNITS[i]}`;
}

/** A rate in bytes per second: `4.0 MiB/s`. */
export function formatSpeed(bytesPerSecond: number): string {
  return `${formatSize(bytesPerSecond)}/s`;
}

/** Seconds left as `m:ss` or `h:mm:ss`; `--:--` when unknown or absurd (over 99 hours). */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0 || seconds >= 99 * 3600) return '--:--';
  const s = Math.ceil(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A duration: `850 ms`, `8.2 s`, `3 min 05 s`, `1 h 02 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const whole = Math.round(s);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} min`;
}

/** Whole percent, floored so that 100% means done: `42%`. */
export function formatPercent(done: number, total: number): string {
  if (total <= 0) return '100%';
  return `${Math.min(100, Math.floor((done / total) * 100))}%`;
}

/**
 * The filled and empty parts of a `width`-character progress bar (without brackets), kept apart so
 * a caller can colour them: `['=======>', '        ']`.
 */
export function barParts(fraction: number, width: number): [filled: string, empty: string] {
  const f = Math.min(1, Math.max(0, fraction));
  const n = Math.floor(f * width);
  if (n >= width) return ['='.repeat(width), ''];
  const filled = n > 0 ? '='.repeat(n - 1) + '>' : '';
  return [filled, ' '.repeat(width - filled.length)];
}

/** `text` cut to `width` terminal columns, with an ellipsis when cut (see {@link truncateToWidth}). */
export function truncate(text: string, width: number): string {
  return truncateToWidth(text, width);
}
