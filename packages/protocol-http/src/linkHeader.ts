import { joinedHeader, type HeaderMap } from './headerValues.js';

/** One link of a `Link` header (RFC 8288): its target and its parameters (names lower-cased). */
export interface HeaderLink {
  /** The target, resolved against the response URL. */
  url: URL;
  /** Parameters; `rel` may hold several space-separated relation types. */
  params: Record<string, string>;
}

/**
 * Reads every link of the `Link` headers. Commas inside `<…>` or quoted strings do not split links;
 * a link whose target does not resolve is skipped.
 */
export function parseLinkHeader(value: string, base: URL): HeaderLink[] {
  const links: HeaderLink[] = [];
  let i = 0;
  while (i < value.length) {
    const open = value.indexOf('<', i);
    if (open === -1) break;
    const close = value.indexOf('>', open + 1);
    if (close === -1) break;
    const target = value.slice(open + 1, close);
    i = close + 1;
    const params: Record<string, string> = {};
    // Parameters up to the next comma outside quotes.
    while (i < value.length) {
      const m = /^\s*;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*))?/.exec(value.slice(i));
      if (!m) break;
      const name = m[1]!.toLowerCase();
      const raw = m[2] ?? '';
      if (!(name in params)) params[name] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
      i += m[0].length;
    }
    const comma = value.indexOf(',', i);
    i = comma === -1 ? value.length : comma + 1;
    try {
      links.push({ url: new URL(target.trim(), base), params });
    } catch {
      // Not a URL: skipped.
    }
  }
  return links;
}

/**
 * The RFC 6249 duplicates a response names (`Link: <…>; rel=duplicate; pri=N`), lowest `pri` first
 * (then header order), without the response's own URL.
 */
export function duplicatesOf(headers: HeaderMap, url: URL): URL[] {
  const value = joinedHeader(headers, 'link');
  if (value === undefined) return [];
  const found = parseLinkHeader(value, url)
    .filter((l) => (l.params.rel ?? '').toLowerCase().split(/\s+/).includes('duplicate'))
    .map((l, order) => ({ url: l.url, pri: Number.parseInt(l.params.pri ?? '', 10), order }))
    .filter((l) => l.url.href !== url.href && ['http:', 'https:', 'ftp:', 'ftps:', 'sftp:'].includes(l.url.protocol));
  found.sort((a, b) => (Number.isFinite(a.pri) ? a.pri : 999_999) - (Number.isFinite(b.pri) ? b.pri : 999_999) || a.order - b.order);
  return found.map((l) => l.url);
}
