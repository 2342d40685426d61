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
