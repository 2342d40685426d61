/** The outcome of reading a Range header against a representation of known size. */
export type RangeOutcome =
  | { readonly kind: 'ignore' }
  | { readonly kind: 'unsatisfiable' }
  | { readonly kind: 'range'; readonly start: number; readonly end: number };

const SINGLE = /^bytes[ \t]*=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/i;

/**
 * Reads a single-range `Range` header (RFC 9110 §14.1.2). `end` of the result is inclusive.
 *
 * Multiple ranges, other units and malformed specs are ignored (answered with 200), which the RFC
 * allows; a first position at or past the end, or a zero suffix, is unsatisfiable (416).
 */
export function parseRange(header: string | undefined, size: number): RangeOutcome {
  if (header === undefined) return { kind: 'ignore' };
  const match = SINGLE.exec(header);
  if (match === null) return { kind: 'ignore' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'ignore' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return { kind: 'ignore' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

/**
 * Whether an `If-Range` value still designates the current representation (RFC 9110 §13.1.5):
 * an entity tag must match the ETag strongly (weak tags never match); anything else is taken as a
 * date and must equal Last-Modified.
 */
export function ifRangeMatches(value: string, etag: string | undefined, lastModified: string | undefined): boolean {
  const trimmed = value.trim();
  if (trimmed.startsWith('"') || trimmed.startsWith('W/')) {
    return etag !== undefined && !trimmed.startsWith('W/') && !etag.startsWith('W/') && trimmed === etag;
  }
  if (lastModified === undefined) return false;
  const asked = Date.parse(trimmed);
  return !Number.isNaN(asked) && asked === Date.parse(lastModified);
}
