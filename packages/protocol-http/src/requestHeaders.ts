import type { Job } from '@multiget/core';

/** Headers that carry credentials: never sent to an origin other than the one the caller named. */
const SENSITIVE = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** Headers the driver owns: a caller's value would break offsets (encoding) or ranges. */
const OWNED = new Set(['range', 'if-range', 'accept-encoding']);

/**
 * The `Authorization` value for a job, from `credentials` or else the URL's userinfo: Basic for a
 * user name and password (UTF-8, as RFC 7617's charset parameter recommends), Bearer for a token.
 */
export function authorizationFor(job: Job): string | undefined {
  const credentials = job.options.credentials;
  if (credentials !== undefined) {
    if ('bearer' in credentials) return `Bearer ${credentials.bearer}`;
    return basic(credentials.username, credentials.password);
  }
  if (job.url.username !== '' || job.url.password !== '') {
    return basic(safeDecode(job.url.username), safeDecode(job.url.password));
  }
  return undefined;
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The request headers for one request of `job` to `url`.
 *
 * Credentials (from options or userinfo) and the caller's Authorization, Cookie and
 * Proxy-Authorization go only to the origin of the URL the caller gave: after a redirect to
 * another origin, and for every later request there, they are left out. When a proxy is in use,
 * Proxy-Authorization is never sent as a request header (the proxy URL carries proxy credentials;
 * undici refuses the header).
 *
 * @param extra - The driver's own headers for this request (Range, If-Range); they win.
 */
export function requestHeaders(
  url: URL,
  job: Job,
  extra: Readonly<Record<string, string>>,
  proxied: boolean,
): Record<string, string> {
  const sameOrigin = url.origin === job.url.origin;
  const headers: Record<string, string> = {};
  if (job.options.userAgent !== '') headers['user-agent'] = job.options.userAgent;
  for (const [rawName, value] of Object.entries(job.options.headers)) {
    const name = rawName.toLowerCase();
    if (OWNED.has(name)) continue;
    if (SENSITIVE.has(name) && !sameOrigin) continue;
    if (name === 'proxy-authorization' && proxied) continue;
    headers[name] = value;
  }
  if (sameOrigin) {
    const authorization = authorizationFor(job);
    if (authorization !== undefined) headers.authorization = authorization;
  }
  headers['accept-encoding'] = 'identity';
  for (const [name, value] of Object.entries(extra)) headers[name.toLowerCase()] = value;
  return headers;
}
