import { ErrorCodes } from '../errors.js';
import type { HookHost, Plugin } from '../engine/hooks.js';

const PLUGIN_NAME = 'RetryPolicy';

/** System errors that say nothing is there to answer, as opposed to a transient failure. */
const NEVER_THERE: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND']);

/** Options of the built-in retry policy. */
export interface RetryPolicyOptions {
  /** First delay in milliseconds; doubles with every failure in a row. Default 500. */
  baseDelayMs?: number;
  /** Longest delay in milliseconds. Default 30000. */
  maxDelayMs?: number;
  /** Longest Retry-After honoured, in milliseconds. Default 300000. */
  maxRetryAfterMs?: number;
}

/**
 * Milliseconds before a connection refused as busy (503, 421) asks again, once, when it had just
 * let go of a response still running: long enough for the server to see that connection close.
 */
export const ABANDONED_RETRY_MS = 50;

/**
 * The built-in retry policy. Retries only retryable codes (connect failures, resets, timeouts,
 * stalls, short bodies, 5xx, 429/503), up to `job.options.retries` failures in a row without
 * progress, with exponential backoff and equal jitter, never sooner than the server's Retry-After.
 * A connection that received bytes before it failed retries at once: it was a drop, and backing
 * off would only idle a connection that works.
 * A host that never answered (connection refused, unknown name, on the first probe of this engine
 * to it) fails at once.
 * When the server says it is busy and other connections still work, the failing connection retires
 * and leaves its segment to them: the server asked for fewer connections. Unless the connection
 * had just let go of a response still running (`FailureContext.afterAbandoned`): the server may
 * still count that one, so it asks once more after `ABANDONED_RETRY_MS` (50 ms).
 */
export class RetryPolicy implements Plugin {
  readonly name = PLUGIN_NAME;
  private readonly base: number;
  private readonly max: number;
  private readonly maxRetryAfter: number;

  constructor(options: RetryPolicyOptions = {}) {
    this.base = options.baseDelayMs ?? 500;
    this.max = options.maxDelayMs ?? 30_000;
    this.maxRetryAfter = options.maxRetryAfterMs ?? 300_000;
  }

  apply(engine: HookHost): void {
    engine.hooks.failure.tapPromise(PLUGIN_NAME, async (error, context, job) => {
      if (!error.retryable) return { action: 'fail' };
      // Nothing has ever answered there: no server listens on that port (ECONNREFUSED) or the name
      // does not exist (ENOTFOUND). Backing off would only make the user wait for the same answer
      // (curl and aria2c fail at once). A host that answered before (a server restarting) keeps
      // the retries.
      if (context.phase === 'probe' && context.hostAnsweredBefore === false && NEVER_THERE.has(error.errno ?? '')) {
        return { action: 'fail' };
      }
      if (error.code === ErrorCodes.SERVER_BUSY && context.phase === 'range' && context.activeConnections > 0) {
        // Refused right after this connection let go of a response the server was still sending:
        // the server may not have seen that one close yet. Once, soon; a second refusal retires.
        if (context.afterAbandoned === true && context.attempt === 1) return { action: 'retry', delayMs: ABANDONED_RETRY_MS };
        return { action: 'retire' };
      }
      if (context.attempt > job.options.retries) return { action: 'fail' };
      // A connection that delivered bytes and then dropped is not a server in trouble: go again at once.
      if (context.progressed && error.retryAfterMs === undefined) return { action: 'retry', delayMs: 0 };
      return { action: 'retry', delayMs: this.delay(context.attempt, error.retryAfterMs) };
    });
  }

  /** The delay before retry number `attempt` (1-based). */
  delay(attempt: number, retryAfterMs?: number): number {
    const ceiling = Math.min(this.max, this.base * 2 ** Math.min(30, attempt - 1));
    const jittered = ceiling / 2 + Math.random() * (ceiling / 2);
    const floor = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, this.maxRetryAfter);
    return Math.round(Math.max(jittered, floor));
  }
}
