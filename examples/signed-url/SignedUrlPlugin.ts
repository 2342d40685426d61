// A URL resolver: `signed+http://host/path` (or `signed+https:`) names a file behind a server that
// wants presigned URLs, `http://host/path?exp=<unix seconds>&sig=<HMAC-SHA256 of "path:exp">`.
// The plugin signs once per download, hands the signed URL to whichever driver serves http(s), and
// signs again when the server answers 403 (the signature expired), keeping the bytes it has.
import { createHmac } from 'node:crypto';
import { Job, isDownloadError } from '@multiget/core';
import type { ByteSource, HookHost, Plugin, ProtocolDriver, RemoteInfo } from '@multiget/core';

const PLUGIN_NAME = 'SignedUrlPlugin';
/** What the signer needs: the shared secret, and how long a signature lives. */
export interface SignedUrlOptions {
  secret: string;
  /** Lifetime of a signature in seconds. Default 300. */
  ttlSeconds?: number;
  /** The signer's clock, in milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

/** The signature of `path` valid until `exp` (unix seconds): what a server checks. */
export function signature(secret: string, path: string, exp: number): string {
  return createHmac('sha256', secret).update(`${path}:${exp}`).digest('hex');
}

/** Resolves `signed+http:` and `signed+https:` URLs to freshly signed ones, and re-signs on 403. */
export class SignedUrlPlugin implements Plugin {
  readonly name = PLUGIN_NAME;
  readonly #options: SignedUrlOptions;

  constructor(options: SignedUrlOptions) {
    this.#options = options;
  }
  /** `signed+http://h/p` → `http://h/p?exp=...&sig=...`, valid for the configured lifetime from now. */
  sign(url: URL): URL {
    const signed = new URL(url.href.replace(/^signed\+/, ''));
    const exp = Math.floor((this.#options.clock ?? Date.now)() / 1000) + (this.#options.ttlSeconds ?? 300);
    signed.searchParams.set('exp', String(exp));
    signed.searchParams.set('sig', signature(this.#options.secret, signed.pathname, exp));
    return signed;
  }

  apply(engine: HookHost): void {
    // The engine asks the hooks, not the driver, for probes and ranges: answer for our drivers.
    const ours = new WeakSet<ProtocolDriver>();
    const mine = (job: Job): ProtocolDriver | undefined => (job.driver !== undefined && ours.has(job.driver) ? job.driver : undefined);
    engine.hooks.probe.tapPromise({ name: PLUGIN_NAME, stage: -100 }, async (info, job) => (await mine(job)?.probe(job)) ?? info);
    engine.hooks.fetchRange.tapPromise(PLUGIN_NAME, async (req, job) => mine(job)?.fetchRange(req, job));
    engine.hooks.resolve.tapPromise(PLUGIN_NAME, async (url, job) => {
      if (url.protocol !== 'signed+http:' && url.protocol !== 'signed+https:') return undefined;
      let current = this.sign(url);
      const inner = await engine.hooks.resolve.promise(current, job);
      if (inner === undefined) return undefined;
      // The other driver sees a Job for the signed URL; warnings still reach the download.
      const innerJob = (outer: Job): Job => {
        const copy = new Job(outer.id, current, outer.options, outer.signal, (w) => outer.warn(w.code, w.message));
        copy.driver = inner;
        if (outer.remote !== undefined) copy.remote = { ...outer.remote, url: current };
        return copy;
      };
      // One fresh signature when the server says the one we hold is no longer good.
      const resigned = async <T>(outer: Job, call: (job: Job) => Promise<T>): Promise<T> => {
        try {
          return await call(innerJob(outer));
        } catch (err) {
          if (!isDownloadError(err) || err.statusCode !== 403) throw err;
          current = this.sign(url);
          return await call(innerJob(outer));
        }
      };
      const driver: ProtocolDriver = {
        name: `signed ${inner.name}`,
        // The download keeps the unsigned URL (state file, results); only requests carry a signature.
        probe: async (job): Promise<RemoteInfo> => ({ ...(await resigned(job, (j) => inner.probe(j))), url: job.url }),
        fetchRange: (req, job): Promise<ByteSource> => resigned(job, (j) => inner.fetchRange(req, j)),
      };
      ours.add(driver);
      return driver;
    });
  }
}
