import type { HookHost, Plugin, ProtocolDriver } from '../engine/hooks.js';
import type { Job } from '../engine/Job.js';
import type { ByteSource, RangeRequest, RemoteInfo } from '../types.js';

/**
 * Base class for protocol plugins. A subclass names its URL schemes and implements `probe` and
 * `fetchRange`; `apply` taps `resolve`, `probe` (stage -100, so it runs before other probe taps) and
 * `fetchRange` for jobs whose driver it is.
 *
 * @example
 * class GopherPlugin extends ProtocolPlugin {
 *   readonly name = 'GopherPlugin';
 *   readonly schemes = ['gopher:'];
 *   async probe(job) { ... }
 *   async fetchRange(req, job) { ... }
 * }
 */
export abstract class ProtocolPlugin implements Plugin, ProtocolDriver {
  abstract readonly name: string;
  /** URL schemes served, with the colon as `URL.protocol` has it: `['http:', 'https:']`. */
  abstract readonly schemes: readonly string[];
  abstract probe(job: Job): Promise<RemoteInfo>;
  abstract fetchRange(req: RangeRequest, job: Job): Promise<ByteSource>;

  apply(engine: HookHost): void {
    engine.hooks.resolve.tapPromise(this.name, async (url) => (this.schemes.includes(url.protocol) ? this : undefined));
    engine.hooks.probe.tapPromise({ name: this.name, stage: -100 }, async (info, job) =>
      job.driver === this ? this.probe(job) : info,
    );
    engine.hooks.fetchRange.tapPromise(this.name, async (req, job) =>
      job.driver === this ? this.fetchRange(req, job) : undefined,
    );
  }

  /** Releases pooled connections. Called by `Multiget.close()`. */
  async close(): Promise<void> {}
}
