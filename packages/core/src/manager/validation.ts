import { ErrorCodes, UsageError } from '../errors.js';
import type { Plugin } from '../engine/hooks.js';
import { normalizeHeaders } from '../options/normalizeOptions.js';
import { redactUrl } from '../log/redact.js';
import type { Entry } from './Queue.js';
import type { Secrets } from './types.js';

/** Schemes never downloaded, whatever plugins say: they name local or script content, not a remote file. */
const NEVER: ReadonlySet<string> = new Set(['file:', 'data:', 'javascript:', 'blob:', 'about:', 'vscode:', 'command:']);

/** Headers whose values are secrets: kept in memory only, never written to the state directory. */
export const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'proxy-authorization']);

/**
 * Parses a URL a front-end submitted, refusing malformed ones and schemes that no installed
 * protocol plugin serves (so `file:`, `data:` and `javascript:` are refused up front). A `URL`
 * object (a front-end parsed it already) is checked, not parsed again.
 */
export function parseDownloadUrl(url: string | URL, schemes: readonly string[]): URL {
  let parsed: URL;
  if (url instanceof URL) {
    parsed = url;
  } else {
    try {
      parsed = new URL(url);
    } catch (err) {
      throw new UsageError(ErrorCodes.INVALID_URL, `Invalid URL "${redactUrl(url)}"`, { cause: err });
    }
  }
  if (NEVER.has(parsed.protocol) || !schemes.includes(parsed.protocol)) {
    throw new UsageError(
      ErrorCodes.UNSUPPORTED_PROTOCOL,
      `Unsupported URL scheme "${parsed.protocol}" (supported: ${schemes.map((s) => s.slice(0, -1)).join(', ') || 'none'})`,
    );
  }
  if (!parsed.hostname) throw new UsageError(ErrorCodes.INVALID_URL, `URL has no host: "${redactUrl(parsed)}"`);
  return parsed;
}

/** Splits headers into those that may be persisted and the secret ones (memory only). Names lower-case. */
export function splitSecretHeaders(headers: Record<string, string> | undefined): { plain: Record<string, string>; secret: Record<string, string> } {
  const plain: Record<string, string> = {};
  const secret: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) (SECRET_HEADERS.has(k.toLowerCase()) ? secret : plain)[k.toLowerCase()] = v;
  return { plain, secret };
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

/** URL schemes the protocol plugins among `plugins` serve (`['http:', 'https:', ...]`). */
export function schemesOf(plugins: readonly Plugin[]): string[] {
  const out = new Set<string>();
  // Duck-typed: a plugin from another copy of core counts too.
  for (const p of plugins) for (const s of p.schemes ?? []) out.add(s);
  return [...out];
}
