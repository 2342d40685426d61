import { describe, expect, it } from 'vitest';
import { DownloadError, ErrorCodes } from '../src/errors.js';
import { Job, type JobOptions } from '../src/engine/Job.js';
import { Multiget } from '../src/engine/Multiget.js';
import { ABANDONED_RETRY_MS, RetryPolicy } from '../src/plugins/RetryPolicy.js';
import type { FailureContext } from '../src/types.js';

const options = { retries: 3 } as JobOptions;
const job = new Job('j', new URL('http://h/f'), options, new AbortController().signal);

async function decide(code: (typeof ErrorCodes)[keyof typeof ErrorCodes], ctx: Partial<FailureContext>, retryAfterMs?: number) {
  const mg = new Multiget({ defaultPlugins: () => [new RetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000 })] });
  const err = new DownloadError(code, 'x', retryAfterMs === undefined ? {} : { retryAfterMs });
  return mg.hooks.failure.promise(err, { phase: 'range', attempt: 1, activeConnections: 0, ...ctx }, job);
}

describe('RetryPolicy', () => {
  it('fails at once on codes that retrying cannot fix', async () => {
    for (const code of [ErrorCodes.NOT_FOUND, ErrorCodes.AUTH, ErrorCodes.FORBIDDEN, ErrorCodes.CHECKSUM_MISMATCH]) {
      expect(await decide(code, {})).toEqual({ action: 'fail' });
    }
  });

  it('retries retryable codes until the limit of failures in a row', async () => {
    expect((await decide(ErrorCodes.CONNECTION_RESET, { attempt: 3 }))?.action).toBe('retry');
    expect(await decide(ErrorCodes.CONNECTION_RESET, { attempt: 4 })).toEqual({ action: 'fail' });
  });

  it('backs off exponentially with jitter, capped', () => {
    const p = new RetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000 });
    for (let i = 0; i < 50; i++) {
      expect(p.delay(1)).toBeGreaterThanOrEqual(50);
      expect(p.delay(1)).toBeLessThanOrEqual(100);
      expect(p.delay(3)).toBeGreaterThanOrEqual(200);
      expect(p.delay(3)).toBeLessThanOrEqual(400);
      expect(p.delay(20)).toBeLessThanOrEqual(1000);
    }
  });

  it('fails at once when nothing ever answered at that host, and keeps retrying a host that did', async () => {
    const mg = new Multiget({ defaultPlugins: () => [new RetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000 })] });
    const decideErrno = (errno: string, ctx: Partial<FailureContext>) =>
      mg.hooks.failure.promise(new DownloadError(ErrorCodes.CONNECT, 'x', { errno }), { phase: 'probe', attempt: 1, activeConnections: 0, ...ctx }, job);
    expect(await decideErrno('ECONNREFUSED', { hostAnsweredBefore: false })).toEqual({ action: 'fail' });
    expect(await decideErrno('ENOTFOUND', { hostAnsweredBefore: false })).toEqual({ action: 'fail' });
    // Transient: a network that is down now may be up in a second.
    expect((await decideErrno('ENETUNREACH', { hostAnsweredBefore: false }))?.action).toBe('retry');
    expect((await decideErrno('ECONNREFUSED', { hostAnsweredBefore: true }))?.action).toBe('retry');
    expect((await decideErrno('ECONNREFUSED', { phase: 'range' }))?.action).toBe('retry');
  });

  it('waits at least as long as Retry-After', async () => {
    const d = await decide(ErrorCodes.SERVER_BUSY, { phase: 'probe' }, 5000);
    expect(d).toMatchObject({ action: 'retry' });
    expect((d as { delayMs: number }).delayMs).toBeGreaterThanOrEqual(5000);
  });

  it('retires a connection the server refuses while others still work', async () => {
    expect(await decide(ErrorCodes.SERVER_BUSY, { activeConnections: 2 })).toEqual({ action: 'retire' });
    expect((await decide(ErrorCodes.SERVER_BUSY, { activeConnections: 0 }))?.action).toBe('retry');
  });

  it('asks once more, soon, when the refused connection had just let go of a running response', async () => {
    // The server may still count that response; its Retry-After is about real load.
    expect(await decide(ErrorCodes.SERVER_BUSY, { activeConnections: 2, afterAbandoned: true }, 1000)).toEqual({ action: 'retry', delayMs: ABANDONED_RETRY_MS });
    // Refused again: the server means it.
    expect(await decide(ErrorCodes.SERVER_BUSY, { activeConnections: 2, afterAbandoned: true, attempt: 2 })).toEqual({ action: 'retire' });
  });
});

describe('RetryPolicy after progress', () => {
  it('retries at once when the connection had delivered bytes (regression: drops waited a backoff)', async () => {
    expect(await decide(ErrorCodes.SHORT_BODY, { attempt: 1, progressed: true })).toEqual({ action: 'retry', delayMs: 0 });
    expect((await decide(ErrorCodes.SHORT_BODY, { attempt: 1, progressed: false }))?.action).toBe('retry');
  });
});
