/**
 * The URL schemes a Multiget service can download, without the colon. The service refuses every
 * other scheme (`file:`, `data:`, `javascript:`, `vscode:`, `command:` ... never); the input box
 * applies the same rule as the user types so a mistake shows before anything is sent.
 */
export const DOWNLOAD_SCHEMES = ['http', 'https', 'ftp', 'ftps', 'sftp'] as const;

/** One of {@link DOWNLOAD_SCHEMES}. */
export type DownloadScheme = (typeof DOWNLOAD_SCHEMES)[number];

/** Longest URL accepted; the service bounds its strings too, and a longer one is surely a paste accident. */
export const MAX_URL_LENGTH = 8192;

/**
 * Why `text` is not a URL Multiget can download, or `undefined` when it is. `served` narrows the
 * schemes to those the running service reports (`multiget/info`), so `ftp:` is refused with a
 * clear message by a service built without the FTP plugin.
 *
 * The rules are the service's own: a URL the WHATWG parser accepts, a scheme from
 * {@link DOWNLOAD_SCHEMES}, a host, and no NUL.
 */
export function validateDownloadUrl(text: string, served?: readonly string[]): string | undefined {
  const value = text.trim();
  if (value === '') return 'Enter a URL to download (http, https, ftp, ftps or sftp).';
  if (value.length > MAX_URL_LENGTH) return `The URL is longer than ${MAX_URL_LENGTH} characters.`;
  if (value.includes('\0')) return 'The URL contains a NUL character.';
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return /^[a-z][a-z0-9+.-]*:/i.test(value)
      ? 'This is not a valid URL.'
      : 'This is not a URL: start with http://, https://, ftp://, ftps:// or sftp://.';
  }
  const scheme = parsed.protocol.slice(0, -1).toLowerCase();
  if (!(DOWNLOAD_SCHEMES as readonly string[]).includes(scheme)) {
    return `Multiget cannot download "${scheme}:" URLs (http, https, ftp, ftps or sftp only).`;
  }
  if (served !== undefined && !served.includes(scheme)) {
    return `The Multiget service here does not serve "${scheme}:" yet (it serves: ${served.join(', ') || 'nothing'}).`;
  }
  if (parsed.hostname === '') return 'The URL has no host.';
  return undefined;
}

/** True when `text` (trimmed) is a URL Multiget can download. */
export function isDownloadUrl(text: string, served?: readonly string[]): boolean {
  return validateDownloadUrl(text, served) === undefined;
}

// A URL inside running text: a known scheme, then anything up to white space, quotes or brackets
// that cannot be part of an unquoted URL in prose, Markdown or code.
const URL_IN_TEXT = /\b(?:https?|ftps?|sftp):\/\/[^\s"'`<>()[\]{}]+/gi;

/** Trailing characters that end a sentence or a Markdown construct rather than the URL. */
function trimTrailing(url: string): string {
  return url.replace(/[.,;:!?*_~]+$/, '');
}

/**
 * The downloadable URL in a piece of text (a clipboard, a selection), or `undefined`. A text that is
 * a URL gives it; otherwise the first URL found inside the text, trimmed of trailing punctuation.
 */
export function findUrl(text: string, served?: readonly string[]): string | undefined {
  const whole = text.trim();
  if (whole.length <= MAX_URL_LENGTH && !/\s/.test(whole) && isDownloadUrl(whole, served)) return whole;
  for (const match of text.slice(0, 64 * 1024).matchAll(URL_IN_TEXT)) {
    const candidate = trimTrailing(match[0]);
    if (isDownloadUrl(candidate, served)) return candidate;
  }
  return undefined;
}

/**
 * The downloadable URL that covers column `offset` of `line` (the cursor position), or
 * `undefined`. Used by the editor's context menu when nothing is selected.
 */
export function urlAt(line: string, offset: number, served?: readonly string[]): string | undefined {
  for (const match of line.matchAll(URL_IN_TEXT)) {
    const candidate = trimTrailing(match[0]);
    const start = match.index;
    if (offset >= start && offset <= start + candidate.length && isDownloadUrl(candidate, served)) return candidate;
  }
  return undefined;
}

/**
 * The key that credentials for `url` are stored under: its host, lower-cased, with the port when
 * it is not the scheme's default (so `https://a.example:8443` and `https://a.example` differ, as
 * they would for a browser). `undefined` for text that is not a URL.
 */
export function credentialHost(url: string): string | undefined {
  try {
    const parsed = new URL(url.trim());
    return parsed.host === '' ? undefined : parsed.host.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Why `text` is not a host (`name`, `name:port`, `[v6]:port`) to store credentials for, or
 * `undefined` when it is. Accepts a pasted URL too, whose host then counts.
 */
export function validateHost(text: string): string | undefined {
  const value = text.trim();
  if (value === '') return 'Enter a host name, e.g. downloads.example.com or example.com:8443.';
  const host = normalizeHost(value);
  return host === undefined ? 'This is not a host name (letters, digits, dots, hyphens and an optional :port).' : undefined;
}

/** The storage key for a host typed by the user (`Example.com:443`, or a URL), or `undefined`. */
export function normalizeHost(text: string): string | undefined {
  const value = text.trim();
  if (value.includes('://')) return credentialHost(value);
  if (!/^(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?)(?::\d{1,5})?$/i.test(value)) return undefined;
  try {
    // The parser normalises case, IDN and ports the same way as for a URL's host.
    return new URL(`http://${value}`).host.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

/** Most URLs one paste may add; a longer list is surely not meant as downloads. */
export const MAX_URLS_PER_PASTE = 1000;

// A scheme and `://` at the start of a token: a comma before it separates two URLs, while a comma
// anywhere else belongs to the URL (query strings such as `?ids=1,2` are common).
const COMMA_BEFORE_URL = /,(?=\s*[a-z][a-z0-9+.-]*:\/\/)/i;

// A download scheme glued to the end of a file name (`…/a.isohttps://…`): what is left of a list
// whose line breaks a browser stripped on paste. After `/`, `=`, `?`, `&`, `:` or `%` it is part of
// the URL instead (`https://web.archive.org/web/2020/http://x`, `?u=http://x`), and is kept.
const SCHEME_START = /(?:https?|ftps?|sftp):\/\//gi;
const GLUE_BEFORE = /[A-Za-z0-9_.~-]/;

/** `token` cut before each download scheme glued to the end of a file name (see above). */
function splitGlued(token: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  // Leftmost matches, so `sftp://` is one scheme and not `s` + `ftp://`.
  for (const m of token.matchAll(SCHEME_START)) {
    if (m.index > start && GLUE_BEFORE.test(token[m.index - 1]!)) {
      pieces.push(token.slice(start, m.index));
      start = m.index;
    }
  }
  pieces.push(token.slice(start));
  return pieces;
}

/**
 * Splits a paste into the URLs it lists: one per line, or separated by spaces, tabs or commas.
 * A comma counts as a separator only in front of another `scheme://` (or at either end of a
 * token), so `https://a.example/?ids=1,2` stays one URL; a URL glued to the previous one's file
 * name (line breaks stripped by the browser) is split off too. Empty pieces are dropped and
 * duplicates kept once, in the order of first appearance.
 */
export function splitUrls(text: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const token of text.split(/\s+/).flatMap(splitGlued)) {
    for (const piece of token.split(COMMA_BEFORE_URL)) {
      const url = piece.replace(/^,+|,+$/g, '');
      if (url === '' || seen.has(url)) continue;
      seen.add(url);
      out.push(url);
    }
  }
  return out;
}

/** One piece of a paste that is not a downloadable URL, and why. */
export interface RejectedUrl {
  text: string;
  problem: string;
}

/** What a paste holds: the URLs to download and the pieces that are not. */
export interface UrlBatch {
  urls: string[];
  rejected: RejectedUrl[];
}

/** Splits a paste ({@link splitUrls}) and validates each piece ({@link validateDownloadUrl}). */
export function checkUrlBatch(text: string, served?: readonly string[]): UrlBatch {
  const batch: UrlBatch = { urls: [], rejected: [] };
  for (const piece of splitUrls(text)) {
    const problem = validateDownloadUrl(piece, served);
    if (problem === undefined) batch.urls.push(piece);
    else batch.rejected.push({ text: piece, problem });
  }
  return batch;
}

/** `text` shortened to `max` characters with an ellipsis, for naming a piece in a one-line message. */
export function shorten(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The input box's message for a paste: `undefined` when every piece is fine (a single URL, or
 * several), else which pieces will be skipped and why. `blocking` says that nothing can be added
 * (no valid URL, or more than {@link MAX_URLS_PER_PASTE}).
 */
export function describeUrlBatch(text: string, served?: readonly string[]): { message: string; blocking: boolean } | undefined {
  const pieces = splitUrls(text);
  if (pieces.length <= 1) {
    const problem = validateDownloadUrl(pieces[0] ?? '', served);
    return problem === undefined ? undefined : { message: problem, blocking: true };
  }
  if (pieces.length > MAX_URLS_PER_PASTE) {
    return { message: `That is ${pieces.length} URLs; at most ${MAX_URLS_PER_PASTE} can be added at once.`, blocking: true };
  }
  const batch = checkUrlBatch(text, served);
  if (batch.rejected.length === 0) return undefined;
  const first = batch.rejected[0]!;
  const more = batch.rejected.length > 1 ? ` (and ${batch.rejected.length - 1} more)` : '';
  if (batch.urls.length === 0) {
    return { message: `None of these ${pieces.length} is a URL to download: "${shorten(first.text)}": ${first.problem}${more}`, blocking: true };
  }
  return {
    message: `${batch.urls.length} of ${pieces.length} will be added; skipped: "${shorten(first.text)}": ${first.problem}${more}`,
    blocking: false,
  };
}

/** One URL that could not be added, and why (a validation problem or the service's refusal). */
export interface SkippedUrl {
  url: string;
  reason: string;
}

/**
 * The one-line result of adding a paste: `Added 3 downloads`, `Added 1 download`,
 * `Added 2, skipped 1: "x" (reason)`, `Added nothing; skipped 2: …`.
 */
export function addSummary(added: number, skipped: readonly SkippedUrl[]): string {
  if (skipped.length === 0) return `Added ${added} ${added === 1 ? 'download' : 'downloads'}`;
  const first = skipped[0]!;
  const more = skipped.length > 1 ? `, and ${skipped.length - 1} more` : '';
  const head = added === 0 ? `Added nothing; skipped ${skipped.length}` : `Added ${added}, skipped ${skipped.length}`;
  return `${head}: "${shorten(first.url)}" (${first.reason})${more}`;
}
