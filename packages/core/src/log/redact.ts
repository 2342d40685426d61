/**
 * The one home of Multiget's redaction rules: what of a URL, a header, a log field or a message may
 * be shown. Every package (core, protocol plugins, CLI, service, extension) calls these instead of
 * stripping credentials its own way, so that every place agrees on what is a secret.
 *
 * @module
 */

/** What stands in for a secret value. */
export const REDACTED = '***';

/** Short names that are secrets as a whole word (a header, a field or a query parameter). */
const SECRET_NAMES: ReadonlySet<string> = new Set(['key', 'pass', 'pwd']);

/**
 * Query parameter names that carry a signature or a grant only in URLs, compared in lower case:
 * Azure SAS `sig`, CloudFront `Policy`, OAuth's `code`. (As log fields, `code` is an error code.)
 */
const SECRET_PARAM_NAMES: ReadonlySet<string> = new Set(['sig', 'code', 'policy']);

/**
 * Parts of a name that make it a secret wherever they appear: `X-Amz-Signature`,
 * `X-Amz-Security-Token`, `access_token`, `client_secret`, `api_key`, `X-Goog-Credential`, ...
 */
const SECRET_NAME_PART = /signature|token|secret|passw|passphrase|credential|api[-_]?key|access[-_]?key|private[-_]?key|session|cookie|auth/;

/**
 * Whether a query parameter, header or log field called `name` holds a secret: `Authorization`,
 * `Cookie`, `Proxy-Authorization`, `X-Api-Key`, `password`, `passphrase`, `token`,
 * `X-Amz-Signature`, `X-Amz-Credential`, `sig`, `key`, ... Case does not matter.
 */
export function isSecretName(name: string): boolean {
  const n = name.toLowerCase();
  return SECRET_NAMES.has(n) || SECRET_NAME_PART.test(n);
}

/**
 * Whether the query parameter `name` carries a secret: any {@link isSecretName}, and the names
 * that are secrets only in URLs (`sig`, `code`, `Policy`).
 */
export function isSecretParam(name: string): boolean {
  return isSecretName(name) || SECRET_PARAM_NAMES.has(name.toLowerCase());
}

/**
 * A URL as it may be shown, logged, sent to a front-end or written to a state file: without user
 * name and password, without fragment (never sent to a server; OAuth puts tokens there), and with
 * the value of every query parameter that carries a secret (see {@link isSecretParam}) replaced by
 * `***`. Other parameters stay as they were written, so the result still tells which file it was.
 *
 * Text that does not parse as a URL is cleaned as text: whatever precedes an `@` in its authority
 * and secret parameter values are cut.
 *
 * @example
 * redactUrl('https://u:p@bucket.s3.amazonaws.com/f.iso?X-Amz-Signature=abc&X-Amz-Date=1#t')
 * // 'https://bucket.s3.amazonaws.com/f.iso?X-Amz-Signature=***&X-Amz-Date=1'
 */
export function redactUrl(url: URL | string): string {
  let u: URL;
  try {
    u = new URL(typeof url === 'string' ? url : url.href);
  } catch {
    return redactUnparsable(String(url));
  }
  if (u.username === '' && u.password === '' && u.hash === '' && !hasSecretParam(u.search)) return u.href;
  u.username = '';
  u.password = '';
  u.hash = '';
  if (u.search !== '') u.search = redactQuery(u.search.slice(1));
  return u.href;
}

/**
 * A copy of `url` without user name, password and fragment: the URL that goes on the wire (a
 * request line, a redirect target) or is kept for a later run. Unlike {@link redactUrl} it keeps the
 * query whole, because a signed URL stops working without its signature. Never print it: print
 * {@link redactUrl} of it.
 */
export function withoutUserinfo(url: URL): URL {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  copy.hash = '';
  return copy;
}

/** Anything that looks like `scheme://...` inside free text. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/** `Authorization: Basic ...`, `Cookie=...` and the like inside free text. */
const SECRET_HEADER_IN_TEXT = /\b((?:proxy-)?authorization|cookie|set-cookie|x-api-key)(\s*[:=]\s*)[^\r\n,;]+/gi;

/** `?name=value` or `&name=value` inside free text (the value up to the next `&`, `#` or space). */
const QUERY_PARAM_IN_TEXT = /([?&;])([^=&\s?#;]+)=(?!\*\*\*(?:[&#\s]|$))[^&\s#"'<>;]*/g;

/** `Bearer TOKEN` / `Basic BASE64` inside free text. */
const AUTH_SCHEME_IN_TEXT = /\b(Bearer|Basic|Digest)\s+[A-Za-z0-9._~+/=-]{8,}/g;

/**
 * `text` with every URL in it passed through {@link redactUrl}, the values of secret parameters of
 * query strings outside URLs (a relative `Location`) masked, and every `Authorization: ...`,
 * `Cookie: ...` or `Bearer TOKEN` cut. For messages that may quote a URL or a header (error
 * messages of servers and libraries); URLs that need no change are left exactly as written.
 */
export function redactText(text: string): string {
  if (text.length === 0) return text;
  let out = text;
  if (out.includes('://')) {
    out = out.replace(URL_IN_TEXT, (found) => (needsRedaction(found) ? redactUrl(found) : found));
  }
  if (out.includes('=')) {
    // Query strings outside a full URL: a relative Location, a path quoted in a message.
    out = out.replace(QUERY_PARAM_IN_TEXT, (found, lead: string, name: string) =>
      isSecretParam(decodeName(name)) ? `${lead}${name}=${REDACTED}` : found,
    );
  }
  return out.replace(SECRET_HEADER_IN_TEXT, `$1$2${REDACTED}`).replace(AUTH_SCHEME_IN_TEXT, `$1 ${REDACTED}`);
}

/**
 * Request or response headers fit for a log: the value of every header whose name holds a secret
 * (`Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`, `X-Api-Key`, any `*-Token`) is
 * `***`. Accepts a record (string or string-array values) or a list of pairs.
 */
export function redactHeaders(
  headers: Readonly<Record<string, string | readonly string[] | undefined>> | ReadonlyArray<readonly [string, string]>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const entries: ReadonlyArray<readonly [string, string | readonly string[] | undefined]> = Array.isArray(headers)
    ? (headers as ReadonlyArray<readonly [string, string]>)
    : Object.entries(headers as Readonly<Record<string, string | readonly string[] | undefined>>);
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    const text = typeof value === 'string' ? value : value.join(', ');
    out[name] = isSecretName(name) ? REDACTED : redactText(text);
  }
  return out;
}

/** How deep {@link redactFields} looks into nested objects; deeper values are summarised. */
const MAX_DEPTH = 4;

/**
 * A copy of log fields fit to be written anywhere: a field whose name holds a secret (see
 * {@link isSecretName}) becomes `***`, URLs pass through {@link redactUrl}, strings through
 * {@link redactText}, errors become `{ name, code, message }` (messages redacted), buffers their
 * length. Nested objects and arrays are walked to a bounded depth.
 */
export function redactFields(fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return redactRecord(fields, 0);
}

function redactRecord(fields: Readonly<Record<string, unknown>>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out[key] = isSecretName(key) ? REDACTED : redactValue(value, depth);
  }
  return out;
}

function redactValue(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      return redactText(value);
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      // Functions and symbols say nothing useful in a log line.
      return String(typeof value);
  }
  if (value === null) return null;
  if (value instanceof URL) return redactUrl(value);
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, ...(typeof code === 'string' ? { code } : {}), message: redactText(value.message) };
  }
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (value instanceof Date) return value.toISOString();
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? `[${value.length} items]` : '{...}';
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  return redactRecord(value as Record<string, unknown>, depth + 1);
}

function hasSecretParam(search: string): boolean {
  if (search.length <= 1) return false;
  for (const piece of search.slice(1).split('&')) {
    const eq = piece.indexOf('=');
    if (eq > 0 && eq < piece.length - 1 && isSecretParam(decodeName(piece.slice(0, eq)))) return true;
  }
  return false;
}

/** The query (without `?`) with secret values replaced; every other byte kept as written. */
function redactQuery(query: string): string {
  return query
    .split('&')
    .map((piece) => {
      const eq = piece.indexOf('=');
      if (eq <= 0 || eq === piece.length - 1) return piece;
      return isSecretParam(decodeName(piece.slice(0, eq))) ? `${piece.slice(0, eq)}=${REDACTED}` : piece;
    })
    .join('&');
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/** Whether a URL found in text has userinfo, a fragment or a secret parameter. */
function needsRedaction(found: string): boolean {
  const authorityEnd = found.slice(found.indexOf('://') + 3).search(/[/?#]/);
  const authority = authorityEnd < 0 ? found : found.slice(0, found.indexOf('://') + 3 + authorityEnd);
  if (authority.includes('@') || found.includes('#')) return true;
  const q = found.indexOf('?');
  return q >= 0 && hasSecretParam(found.slice(q));
}

function redactUnparsable(raw: string): string {
  const noUser = raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1');
  const hash = noUser.indexOf('#');
  const noHash = hash >= 0 ? noUser.slice(0, hash) : noUser;
  const q = noHash.indexOf('?');
  return q < 0 ? noHash : `${noHash.slice(0, q)}?${redactQuery(noHash.slice(q + 1))}`;
}
