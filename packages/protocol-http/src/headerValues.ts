/** Small readers for undici's response headers (lower-case names; repeated ones as arrays). */

/** Response headers as undici hands them over. */
export type HeaderMap = Readonly<Record<string, string | string[] | undefined>>;

/** The first value of a header, or undefined when it is absent. */
export function firstHeader(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Every value of a list-valued header joined with `, `, as RFC 9110 §5.3 allows. */
export function joinedHeader(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** A non-negative safe integer from a decimal header value (Content-Length), else undefined. */
export function parseLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** True when the response carries a Content-Encoding other than `identity`. */
export function isEncoded(headers: HeaderMap): boolean {
  const value = joinedHeader(headers, 'content-encoding');
  if (value === undefined) return false;
  return value
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .some((part) => part !== '' && part !== 'identity');
}

/**
 * Milliseconds a Retry-After header asks to wait (RFC 9110 §10.2.3: delay-seconds or an HTTP-date),
 * or undefined when absent or unreadable. A date in the past means 0.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const seconds = Number(trimmed);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : undefined;
  }
  // Every HTTP-date form names a day or month; without letters, Date.parse would take '-5' for a year.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
