/** A parsed Content-Range header (RFC 9110 §14.4). Offsets are inclusive. */
export type ContentRange =
  /** `bytes start-end/size`; `size` is undefined for `/*`. */
  | { readonly kind: 'range'; readonly start: number; readonly end: number; readonly size: number | undefined }
  /** The 416 form: an asterisk instead of the range, then the current size. */
  | { readonly kind: 'unsatisfied'; readonly size: number };

const RANGE = /^bytes[ \t]+(\d+)[ \t]*-[ \t]*(\d+)[ \t]*\/[ \t]*(\d+|\*)$/i;
const UNSATISFIED = /^bytes[ \t]+\*[ \t]*\/[ \t]*(\d+)$/i;

/**
 * Parses a Content-Range value. Returns undefined for anything malformed or inconsistent: another
 * unit, `end < start`, `end >= size`, or numbers beyond `Number.MAX_SAFE_INTEGER`. The 416 form
 * (an asterisk, a slash and the size) yields `{ kind: 'unsatisfied', size }`.
 *
 * @example parseContentRange('bytes 0-99/1000') // { kind: 'range', start: 0, end: 99, size: 1000 }
 */
export function parseContentRange(value: string | undefined): ContentRange | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  const unsatisfied = UNSATISFIED.exec(text);
  if (unsatisfied !== null) {
    const size = toSafe(unsatisfied[1]);
    return size === undefined ? undefined : { kind: 'unsatisfied', size };
  }
  const match = RANGE.exec(text);
  if (match === null) return undefined;
  const start = toSafe(match[1]);
  const end = toSafe(match[2]);
  const size = match[3] === '*' ? undefined : toSafe(match[3]);
  if (start === undefined || end === undefined || end < start) return undefined;
  if (match[3] !== '*' && (size === undefined || end >= size)) return undefined;
  return { kind: 'range', start, end, size };
}

function toSafe(digits: string | undefined): number | undefined {
  if (digits === undefined) return undefined;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : undefined;
}
