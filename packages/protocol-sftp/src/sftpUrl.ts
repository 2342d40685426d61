import { ErrorCodes, UsageError, redactUrl } from '@multiget/core';

/** What an `sftp://[user[:password]@]host[:port]/path` URL names. */
export interface SftpLocation {
  /** Host name or address (IPv6 without brackets). */
  readonly host: string;
  /** Port, 22 when the URL has none. */
  readonly port: number;
  /** User name from the URL, percent-decoded; undefined when the URL has none. */
  readonly username: string | undefined;
  /** Password from the URL, percent-decoded; undefined when the URL has none. */
  readonly password: string | undefined;
  /**
   * The remote path as the server sees it: absolute (`/srv/file.iso`), or relative to the login
   * directory for `/~/file.iso` (curl's convention), which becomes `file.iso`.
   */
  readonly path: string;
  /** The last path segment, percent-decoded, when there is one. */
  readonly fileName: string | undefined;
}

function decode(text: string, what: string, url: URL): string {
  try {
    return decodeURIComponent(text);
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_URL, `The ${what} of ${redactUrl(url)} is not valid percent-encoding`, {
      cause: err,
    });
  }
}

/**
 * Reads an sftp URL.
 *
 * @throws UsageError (MG_ERR_INVALID_URL) for a URL without host or path, or with a NUL in the path.
 */
export function parseSftpUrl(url: URL): SftpLocation {
  const bracketed = url.hostname;
  const host = bracketed.startsWith('[') && bracketed.endsWith(']') ? bracketed.slice(1, -1) : bracketed;
  if (host === '') throw new UsageError(ErrorCodes.INVALID_URL, `${redactUrl(url)} has no host`);
  const port = url.port === '' ? 22 : Number(url.port);
  let path = decode(url.pathname, 'path', url);
  if (path.includes('\0')) throw new UsageError(ErrorCodes.INVALID_URL, `The path of ${redactUrl(url)} contains a NUL byte`);
  if (path === '/~' || path === '/~/') path = '.';
  else if (path.startsWith('/~/')) path = path.slice(3);
  if (path === '') path = '/';
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  const last = segments.at(-1);
  return {
    host,
    port,
    username: url.username === '' ? undefined : decode(url.username, 'user name', url),
    password: url.password === '' ? undefined : decode(url.password, 'password', url),
    path,
    fileName: last === undefined || last === '~' ? undefined : last,
  };
}

