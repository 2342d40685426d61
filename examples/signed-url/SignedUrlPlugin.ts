// A URL resolver through the engine's `refreshUrl` hook: URLs of the hosts it signs for get an
// HMAC presigned query, `?exp=<unix seconds>&sig=<HMAC-SHA256 of "path:exp">`, before the first
// request, and a fresh one whenever the server refuses the link mid-download (401/403/410: the
// signature expired). The engine checks that the fresh link serves the same file (size and
// validators) and goes on with the bytes it has; the driver that serves http(s) does the rest.
import { createHmac } from 'node:crypto';
import type { HookHost, Plugin } from '@multiget/core';

const PLUGIN_NAME = 'SignedUrlPlugin';

/** What the signer needs: the shared secret, whose URLs to sign, and how long a signature lives. */
export interface SignedUrlOptions {
  /** The key the server checks signatures with. */
  secret: string;
  /** `host:port` of the servers that want signed URLs; other URLs are left alone. */
  hosts: readonly string[];
  /** Lifetime of a signature in seconds. Default 300. */
  ttlSeconds?: number;
  /** The signer's clock, in milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

/** The signature of `path` valid until `exp` (unix seconds): what a server checks. */
export function signature(secret: string, path: string, exp: number): string {
  return createHmac('sha256', secret).update(`${path}:${exp}`).digest('hex');
}

/** Signs the URLs of its hosts before the first request, and again when the server refuses them. */
export class SignedUrlPlugin implements Plugin {
  readonly name = PLUGIN_NAME;
  readonly #options: SignedUrlOptions;

  constructor(options: SignedUrlOptions) {
    this.#options = options;
  }

  /** `url` with a signature valid for the configured lifetime from now (an older one replaced). */
  sign(url: URL): URL {
    const signed = new URL(url.href);
    const exp = Math.floor((this.#options.clock ?? Date.now)() / 1000) + (this.#options.ttlSeconds ?? 300);
    signed.searchParams.set('exp', String(exp));
    signed.searchParams.set('sig', signature(this.#options.secret, signed.pathname, exp));
    return signed;
  }

  apply(engine: HookHost): void {
    // `reason` is 'start' before the first request and 'expired' after a refusal: sign either way.
    engine.hooks.refreshUrl.tapPromise(PLUGIN_NAME, async (url) => (this.#options.hosts.includes(url.host) ? this.sign(url) : undefined));
  }
}
