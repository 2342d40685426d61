import { type Job, sameOrigin } from '@multiget/core';

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
 * True when a request of `job` carries something of the user's besides the URL: credentials
 * (options or userinfo) or any header given with `headers` (an API key travels as `X-Api-Key` as
 * often as in Authorization). Such a request never follows a redirect from HTTPS to plain HTTP.
 */
export function carriesUserData(job: Job): boolean {
  if (authorizationFor(job) !== undefined) return true;
  return Object.keys(job.options.headers).some((name) => !OWNED.has(name.toLowerCase()));
}

/**
 * The request headers for one request of `job` to `url`.
 *
 * One policy for every request, redirects included: the caller's headers and credentials (from
 * options or userinfo) go only to the origin of the URL the caller gave. After a redirect to
 * another origin, and for every later request there, none of them is sent (Authorization, Cookie
 * and every other header alike: which header holds a secret is not knowable), unless `trusted`
 * (curl's --location-trusted). The User-Agent and the driver's own headers are always sent. When
 * a proxy is in use, Proxy-Authorization is never sent as a request header (the proxy URL carries
 * proxy credentials; undici refuses the header).
 *
 * @param extra - The driver's own headers for this request (Range, If-Range); they win.
 * @param trusted - Send the caller's headers and credentials to every origin a redirect reaches.
 */
export function requestHeaders(
  url: URL,
  job: Job,
  extra: Readonly<Record<string, string>>,
  proxied: boolean,
  trusted = false,
): Record<string, string> {
  const userData = trusted || sameOrigin(url, job.url);
  const headers: Record<string, string> = {};
  if (job.options.userAgent !== '') headers['user-agent'] = job.options.userAgent;
  for (const [rawName, value] of Object.entries(job.options.headers)) {
    const name = rawName.toLowerCase();
    if (OWNED.has(name) || !userData) continue;
    if (name === 'proxy-authorization' && proxied) continue;
    headers[name] = value;
  }
  if (userData) {
    const authorization = authorizationFor(job);
    if (authorization !== undefined) headers.authorization = authorization;
  }
  headers['accept-encoding'] = 'identity';
  for (const [name, value] of Object.entries(extra)) headers[name.toLowerCase()] = value;
  return headers;
}
