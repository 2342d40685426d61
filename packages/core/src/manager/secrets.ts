import { withoutUserinfo } from '../log/redact.js';
import { normalizeHeaders } from '../options/normalizeOptions.js';
import type { AddOptions } from '../options/types.js';
import type { Entry } from './Queue.js';
import type { Secrets } from './types.js';

// What of a download is secret, and where it is held: credentials, secret headers and userinfo (of
// the URL and of mirror URLs) stay in the manager's memory, never in its store. The store keeps a
// flag only (`Entry.needsSecrets`), so that after a restart the download waits for a front-end to
// give them again rather than running without them.

/** Headers whose values are secrets: kept in memory only, never written to the state directory. */
export const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** Splits headers into those that may be persisted and the secret ones (memory only). Names lower-case. */
export function splitSecretHeaders(headers: Record<string, string> | undefined): { plain: Record<string, string>; secret: Record<string, string> } {
  const plain: Record<string, string> = {};
  const secret: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) (SECRET_HEADERS.has(k.toLowerCase()) ? secret : plain)[k.toLowerCase()] = v;
  return { plain, secret };
}

/**
 * Splits normalised options of a new download into those the store may keep and its secrets:
 * credentials, secret headers, and the full mirror URLs when one has userinfo (the kept mirror
 * list has none).
 */
export function splitSecrets(options: AddOptions): { kept: AddOptions; secrets: Entry['secrets'] } {
  const { plain, secret } = splitSecretHeaders(options.headers);
  const { credentials, headers: _h, mirrors, ...rest } = options;
  const savedMirrors = mirrors?.map((m) => withoutUserinfo(new URL(m)).href);
  const mirrorSecrets = mirrors?.some((m, i) => m !== savedMirrors![i]) === true;
  return {
    kept: { ...rest, ...(Object.keys(plain).length ? { headers: plain } : {}), ...(savedMirrors?.length ? { mirrors: savedMirrors } : {}) },
    secrets: { headers: secret, credentials, ...(mirrorSecrets ? { mirrors: [...mirrors!] } : {}) },
  };
}

/**
 * Whether a download of `url` holding `secrets` has something a restart loses (secrets live in
 * memory only): userinfo in its URL, credentials, secret headers, or mirror URLs with userinfo.
 * One rule for every place that sets `Entry.needsSecrets`, so none of them forgets a kind.
 */
export function holdsSecrets(url: URL, secrets: Entry['secrets']): boolean {
  return (
    url.username !== '' ||
    url.password !== '' ||
    secrets.credentials !== undefined ||
    Object.keys(secrets.headers).length > 0 ||
    (secrets.mirrors?.length ?? 0) > 0
  );
}

/** Gives `e` new secrets (memory only); only secret headers are taken from `secrets.headers`. */
export function applySecrets(e: Entry, secrets: Secrets | undefined): void {
  if (!secrets) return;
  if (secrets.credentials !== undefined) {
    e.secrets.credentials = secrets.credentials;
    e.needsSecrets = true;
  }
  if (secrets.headers === undefined) return;
  for (const [k, v] of Object.entries(normalizeHeaders(secrets.headers))) {
    if (!SECRET_HEADERS.has(k)) continue;
    e.secrets.headers[k] = v;
    e.needsSecrets = true;
  }
}
