import type { DownloadFailure } from '@multiget/server/protocol';

/** What the user can do about a failure, offered as a button next to its message. */
export type FailureRemedy = 'setCredentials' | 'trustHostKey' | 'retry';

/** A download's failure in plain words. */
export interface FriendlyFailure {
  /** One plain sentence, without codes: `The server refused the connection.` */
  text: string;
  /** The codes that identify it, most specific first: `ECONNREFUSED · MG_ERR_CONNECT`. */
  codes: string;
  /** `text (codes)`: what a row and a notification show. */
  line: string;
  /** The engine's own message, for a tooltip or the log. */
  detail: string;
  /** Remedies that fit, best first. */
  remedies: FailureRemedy[];
}

// Node's and OpenSSL's codes as they appear inside the engine's messages.
const ERRNO = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNRESET|EPIPE|EACCES|EPERM|ENOSPC|EROFS)\b/;
const CERT_CODE = /\b(CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|CERT_[A-Z_]+|ERR_SSL_[A-Z_]+|ERR_TLS_[A-Z_]+)\b/;
const HTTP_STATUS = /\bHTTP (\d{3})\b/;
const FTP_REPLY = /\b(5[0-5]\d)\b/;

/** The host named in a URL, for sentences; the URL itself when it does not parse. */
function hostOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const host = new URL(url).host;
    return host === '' ? undefined : host;
  } catch {
    return undefined;
  }
}

function certText(cert: string, where: string): string {
  switch (cert) {
    case 'CERT_HAS_EXPIRED':
      return `The certificate of ${where} has expired.`;
    case 'CERT_NOT_YET_VALID':
      return `The certificate of ${where} is not valid yet (check this machine's clock).`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return `${where} uses a self-signed certificate that this machine does not trust.`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `The certificate of ${where} is signed by an authority this machine does not trust (a company proxy's own CA?).`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'HOSTNAME_MISMATCH':
      return `The certificate of ${where} is for a different host name.`;
    default:
      return `The secure connection to ${where} failed: its certificate was not accepted.`;
  }
}

/**
 * Words for a download's failure: what happened in plain language, with the system's own code
 * (errno, certificate code, HTTP status) and the engine's `MG_ERR_*` code beside it, and the
 * remedies that fit (credentials for 401/403, trusting an SFTP host key, else retry).
 *
 * @param failure - The failure as the service reports it.
 * @param url - The download's URL (without credentials), to name its host.
 */
export function describeFailure(failure: DownloadFailure, url?: string): FriendlyFailure {
  const { code, message } = failure;
  const where = hostOf(url) ?? 'the server';
  const errno = ERRNO.exec(message)?.[1];
  const cert = CERT_CODE.exec(message)?.[1];
  const status = HTTP_STATUS.exec(message)?.[1];
  let text: string;
  let specific: string | undefined;
  let remedies: FailureRemedy[] = ['retry'];
  switch (code) {
    case 'MG_ERR_CONNECT':
      specific = errno;
      text =
        errno === 'ECONNREFUSED' ? `${where} refused the connection: nothing is listening there (is the server running, is the port right?).`
        : errno === 'ENOTFOUND' || errno === 'EAI_AGAIN' ? `The host name ${where} could not be found (check the spelling, or the network/DNS).`
        : errno === 'EHOSTUNREACH' || errno === 'ENETUNREACH' ? `${where} cannot be reached from this machine (network down or blocked).`
        : /proxy/i.test(message) ? `The proxy could not connect to ${where}.`
        : `Could not connect to ${where}.`;
      break;
    case 'MG_ERR_CONNECT_TIMEOUT':
      specific = errno ?? 'ETIMEDOUT';
      text = `${where} did not answer in time (a firewall, or the server is overloaded).`;
      break;
    case 'MG_ERR_TIMEOUT':
    case 'MG_ERR_STALLED':
      specific = errno;
      text = `${where} stopped sending data.`;
      break;
    case 'MG_ERR_CONNECTION_RESET':
      specific = errno;
      text = `The connection to ${where} was lost.`;
      break;
    case 'MG_ERR_TLS':
      specific = cert;
      text = cert !== undefined ? certText(cert, where) : `The secure connection to ${where} failed.`;
      break;
    case 'MG_ERR_AUTH':
      specific = status !== undefined ? `HTTP ${status}` : undefined;
      text = status === '407' ? 'The proxy asks for credentials.' : `${where} asks for credentials, and none (or wrong ones) were given.`;
      remedies = status === '407' ? ['retry'] : ['setCredentials', 'retry'];
      break;
    case 'MG_ERR_FORBIDDEN':
      specific = status !== undefined ? `HTTP ${status}` : FTP_REPLY.exec(message)?.[1];
      text = `${where} refuses access to this file for these credentials.`;
      remedies = ['setCredentials', 'retry'];
      break;
    case 'MG_ERR_NOT_FOUND':
      specific = status !== undefined ? `HTTP ${status}` : undefined;
      text = status === '410' ? `The file is gone from ${where} for good.` : `The file was not found on ${where} (check the URL).`;
      break;
    case 'MG_ERR_SERVER_BUSY':
      specific = status !== undefined ? `HTTP ${status}` : undefined;
      text = `${where} is busy; try again later.`;
      break;
    case 'MG_ERR_SERVER':
      specific = status !== undefined ? `HTTP ${status}` : undefined;
      text = `${where} had an internal error.`;
      break;
    case 'MG_ERR_HOST_KEY_UNKNOWN':
      text = `The SSH host key of ${where} is not known yet, so the connection was refused.`;
      remedies = ['trustHostKey'];
      break;
    case 'MG_ERR_HOST_KEY_CHANGED':
      text = `The SSH host key of ${where} has CHANGED: this can be an attack; the connection was refused.`;
      remedies = [];
      break;
    case 'MG_ERR_CHECKSUM_MISMATCH':
      text = 'The file does not match the checksum given; it was not saved.';
      break;
    case 'MG_ERR_REMOTE_CHANGED':
      text = `The file changed on ${where} while it was being downloaded.`;
      break;
    case 'MG_ERR_NO_SPACE':
      specific = errno;
      text = 'The disk is full.';
      break;
    case 'MG_ERR_NOT_WRITABLE':
      specific = errno;
      text = 'The download folder cannot be written to.';
      break;
    default:
      specific = errno ?? cert;
      text = message;
  }
  const codes = specific !== undefined && specific !== code ? `${specific} · ${code}` : code;
  return { text, codes, line: `${text} (${codes})`, detail: message, remedies };
}

/** The fingerprint (`SHA256:…`) an SFTP host-key failure names, if any. */
export function hostKeyFingerprint(message: string): string | undefined {
  return /\bSHA256:[A-Za-z0-9+/]{43}=?/.exec(message)?.[0];
}
