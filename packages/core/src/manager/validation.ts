import { ErrorCodes, UsageError } from '../errors.js';
import type { Plugin } from '../engine/hooks.js';
import { redactUrl } from '../log/redact.js';

// The URLs the manager accepts: parsed once at its edge, against the schemes its plugins serve.
// (The options are checked in `src/options/`; the secrets among them are split off in `secrets.ts`.)

/** Schemes never downloaded, whatever plugins say: they name local or script content, not a remote file. */
const NEVER: ReadonlySet<string> = new Set(['file:', 'data:', 'javascript:', 'blob:', 'about:', 'vscode:', 'command:']);

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

/** URL schemes the protocol plugins among `plugins` serve (`['http:', 'https:', ...]`). */
export function schemesOf(plugins: readonly Plugin[]): string[] {
  const out = new Set<string>();
  // Duck-typed: a plugin from another copy of core counts too.
  for (const p of plugins) for (const s of p.schemes ?? []) out.add(s);
  return [...out];
}
