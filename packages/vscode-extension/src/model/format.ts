// The same units as the `multiget` command (binary, one decimal) so a figure reads the same in the
// terminal and in the editor.
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** A byte count with binary units and one decimal: `0 B`, `512 B`, `1.5 KiB`, `256.0 MiB`. */
export function formatBytes(bytes: number): string {
  let v = Number.isFinite(bytes) ? Math.max(0, bytes) : 0;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${UNITS[i]}`;
}

/** A rate in bytes per second: `4.0 MiB/s`; `0 B/s` for zero, negative or non-finite rates. */
export function formatSpeed(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/**
 * Seconds left as `42s`, `3m 05s` or `2h 04m`; `—` when unknown, negative or absurd (over 99 hours),
 * because a wildly wrong estimate is worse than none.
 */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0 || seconds >= 99 * 3600) return '—';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(s % 60).padStart(2, '0')}s`;
}

/**
 * Whole percent done, floored so that 100 means every byte is there; `null` when the size is
 * unknown (the bar is then indeterminate).
 */
export function percentDone(bytes: number, total: number | null): number | null {
  if (total === null || !Number.isFinite(total) || total < 0) return null;
  if (total === 0) return 100;
  return Math.max(0, Math.min(100, Math.floor((bytes / total) * 100)));
}

/** `12.0 MiB of 50.0 MiB`, or just `12.0 MiB` when the size is unknown. */
export function formatProgressBytes(bytes: number, total: number | null): string {
  return total === null ? formatBytes(bytes) : `${formatBytes(bytes)} of ${formatBytes(total)}`;
}

/**
 * Parses a rate setting such as `2M`, `512K`, `1.5G` or `1048576` into bytes per second, with the
 * CLI's binary units (1K = 1024) and an optional `B`/`iB` suffix. Empty (or only spaces) means no
 * limit (`null`); anything else that does not parse, or is below 1 byte, gives `undefined`.
 */
export function parseRate(value: string): number | null | undefined {
  const trimmed = value.trim();
  if (trimmed === '') return null;
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?(?:\/s)?$/i.exec(trimmed);
  if (!match) return undefined;
  const multiplier = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase()] ?? 1;
  const bytes = Math.floor(Number(match[1]) * multiplier);
  return Number.isSafeInteger(bytes) && bytes >= 1 ? bytes : undefined;
}

/**
 * A point in time as the user reads dates: medium date and short time in `locale` (default: the
 * runtime's, which in the webview is the user's browser or OS locale) and `timeZone` (default: the
 * runtime's). Empty for a missing or unparsable time.
 */
export function formatDateTime(iso: string | null, locale?: string, timeZone?: string): string {
  if (iso === null) return '';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const options: Intl.DateTimeFormatOptions = { dateStyle: 'medium', timeStyle: 'short', ...(timeZone !== undefined ? { timeZone } : {}) };
  return new Intl.DateTimeFormat(locale, options).format(t);
}

/**
 * A rate in bytes per second the way {@link parseRate} reads it back, for an input box's initial
 * value: `2M`, `512K`, or plain bytes when it is not a whole number of KiB.
 */
export function formatRateSetting(bytesPerSecond: number): string {
  if (bytesPerSecond % 1024 ** 3 === 0) return `${bytesPerSecond / 1024 ** 3}G`;
  if (bytesPerSecond % 1024 ** 2 === 0) return `${bytesPerSecond / 1024 ** 2}M`;
  if (bytesPerSecond % 1024 === 0) return `${bytesPerSecond / 1024}K`;
  return String(bytesPerSecond);
}

/** Why `text` is not a number of connections for one download (1..256), or `undefined`. */
export function validateConnections(text: string): string | undefined {
  const value = text.trim();
  if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 256) return 'A whole number from 1 to 256.';
  return undefined;
}

/**
 * The bytes column of a row. Unfinished and completed downloads show their progress; a failed or
 * cancelled one says what had been transferred when it stopped (`12.0 MiB of 50.0 MiB
 * transferred`, `nothing transferred`), which a bare `0 B` did not tell.
 */
export function formatRowBytes(state: string, bytes: number, total: number | null): string {
  if (state !== 'failed' && state !== 'canceled') return formatProgressBytes(bytes, total);
  if (!(bytes > 0)) return 'nothing transferred';
  return `${formatProgressBytes(bytes, total)} transferred`;
}
