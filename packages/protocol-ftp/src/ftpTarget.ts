import { createHash } from 'node:crypto';
import { ErrorCodes, UsageError, redactUrl, type Credentials } from '@multiget/core';

/** How the control and data connections are secured. */
export type FtpSecurity = 'none' | 'explicit' | 'implicit';

/**
 * How `ftp://` URLs are secured (`ftps://` URLs always use implicit TLS):
 * - `'off'`: plain FTP (curl's default).
 * - `'explicit'`: AUTH TLS right after the greeting, then PBSZ 0 and PROT P; a server that refuses
 *   any of them fails the download with MG_ERR_TLS (curl's `--ssl-reqd`). Never downgrades.
 * - `'implicit'`: TLS from the first byte on the URL's port (for implicit servers on a port named
 *   in an `ftp://` URL).
 */
export type FtpTlsOption = 'off' | 'explicit' | 'implicit';

/** Where and as whom to fetch one FTP URL. */
export interface FtpTarget {
  /** Host to connect to: a name, an IPv4 address, or an IPv6 address without brackets. */
  readonly host: string;
  /** TCP port (21 for `ftp:`, 990 for `ftps:` unless the URL names one). */
  readonly port: number;
  /** Clear text, explicit TLS (AUTH TLS) or implicit TLS. */
  readonly security: FtpSecurity;
  /**
   * The path as sent in SIZE, MDTM and RETR: relative to the login directory, as RFC 1738 means
   * (`ftp://h/dir/f` is `dir/f`); a leading `%2F` makes it absolute (`ftp://h/%2Fetc/f` is `/etc/f`).
   */
  readonly path: string;
  /** The last path segment, percent-decoded: the name the server suggests. */
  readonly fileName: string | undefined;
  /** Login name (`anonymous` when none was given). */
  readonly user: string;
  /** Login password (kept in memory only, never in messages). */
  readonly password: string;
  /** True when no credentials were given (the `anonymous` login is used). */
  readonly anonymous: boolean;
  /** The URL redacted (core's `redactUrl`: no userinfo, fragment or signature): safe for messages and the state file. */
  readonly url: URL;
  /**
   * Identifies the control connections that can serve this target (security, host, port, user
   * and a digest of the password): only those are reused for it.
   */
  readonly poolKey: string;
}

/** The user name and password curl and most clients send for anonymous FTP. */
export const ANONYMOUS_USER = 'anonymous';
const ANONYMOUS_PASSWORD = 'anonymous@';

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_URL, `The ${what} of the FTP URL is not valid percent-encoding`, { cause: err });
  }
}


/**
 * Reads an `ftp:` or `ftps:` URL: host (IPv6 literals without brackets), port (21, or 990 for
 * `ftps:`), security, path and credentials. Credentials come from `credentials` when given, else
 * from the URL's userinfo (percent-decoded), else the anonymous login.
 *
 * An RFC 1738 `;type=i` suffix is accepted and dropped; `;type=a` and `;type=d` are refused (only
 * binary transfers of files make sense for a downloader).
 *
 * With `folder`, the URL names a folder (a trailing `/` is allowed, and `ftp://host/` is the login
 * folder, path `''`).
 *
 * @throws UsageError - MG_ERR_INVALID_URL for a URL without a file path, with bad percent-encoding,
 *   or with CR, LF or NUL in the path; MG_ERR_INVALID_OPTION for bearer credentials.
 */
export function ftpTarget(url: URL, credentials: Credentials | undefined, tls: FtpTlsOption, folder = false): FtpTarget {
  // For messages, logs and the engine's start event only: the wire uses host, port and path.
  const shown = new URL(redactUrl(url));
  let host = url.hostname;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '') throw new UsageError(ErrorCodes.INVALID_URL, `The FTP URL ${shown.href} has no host`);
  const implicitScheme = url.protocol === 'ftps:';
  const port = url.port === '' ? (implicitScheme ? 990 : 21) : Number(url.port);
  const security: FtpSecurity = implicitScheme || tls === 'implicit' ? 'implicit' : tls === 'explicit' ? 'explicit' : 'none';

  const segments = url.pathname.split('/').slice(1);
  // A folder's URL ends with `/`: its path is the segments before it (empty: the login folder).
  if (folder && segments.at(-1) === '') segments.pop();
  let last = segments.pop() ?? '';
  const typecode = /;type=([a-z])$/i.exec(last);
  if (typecode !== null) {
    if (typecode[1]?.toLowerCase() !== 'i') {
      throw new UsageError(ErrorCodes.INVALID_URL, `Only binary (;type=i) FTP transfers are supported, not ${typecode[0]}`);
    }
    last = last.slice(0, -typecode[0].length);
  }
  if (last === '' && !(folder && segments.length === 0)) {
    throw new UsageError(ErrorCodes.INVALID_URL, `The FTP URL ${shown.href} names a directory, not a file`);
  }
  const fileName = decode(last, 'path');
  const path = [...segments.map((s) => decode(s, 'path')), ...(last === '' ? [] : [fileName])].join('/');
  if (/[\r\n\0]/.test(path)) {
    throw new UsageError(ErrorCodes.INVALID_URL, 'The FTP URL path contains CR, LF or NUL, which would inject commands');
  }

  let user = ANONYMOUS_USER;
  let password = ANONYMOUS_PASSWORD;
  let anonymous = true;
  if (credentials !== undefined) {
    if (!('username' in credentials)) {
      throw new UsageError(ErrorCodes.INVALID_OPTION, 'FTP logins need a user name and password, not a bearer token');
    }
    user = credentials.username;
    password = credentials.password;
    anonymous = false;
  } else if (url.username !== '') {
    user = decode(url.username, 'user name');
    password = decode(url.password, 'password');
    anonymous = false;
  }
  if (/[\r\n\0]/.test(user) || /[\r\n\0]/.test(password)) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, 'FTP credentials cannot contain CR, LF or NUL');
  }
  const secretDigest = createHash('sha256').update(`${user}\0${password}`).digest('hex').slice(0, 32);
  const poolKey = `${security}|${host}|${port}|${secretDigest}`;
  return { host, port, security, path, fileName, user, password, anonymous, url: shown, poolKey };
}
