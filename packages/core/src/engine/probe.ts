import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, UsageError, toDownloadError } from '../errors.js';
import type { DownloadEvents, RemoteInfo } from '../types.js';
import type { EngineHooks, ProtocolDriver } from './hooks.js';
import type { Job } from './Job.js';

/**
 * Probes `job.url` through the `probe` hook, retrying as the retry policy (`failure`, phase
 * `probe`) decides. `answeredHosts` records every host that answered, so that the policy can tell
 * a host that never answered (a wrong port) from one restarting.
 */
export async function probeWithRetries(
  job: Job,
  hooks: Pick<EngineHooks, 'probe' | 'failure'>,
  answeredHosts: Set<string>,
  emitRetry: (...args: DownloadEvents['retry']) => void,
): Promise<RemoteInfo> {
  for (let attempt = 1; ; attempt++) {
    const host = `${job.url.protocol}//${job.url.host}`;
    try {
      const answer = await hooks.probe.promise({ url: job.url, size: undefined, ranges: false, validators: {}, digests: [] }, job);
      answeredHosts.add(host);
      return answer;
    } catch (err) {
      const error = toDownloadError(err, job.signal);
      if (job.signal.aborted) throw error;
      const decision = await hooks.failure.promise(
        error,
        { phase: 'probe', attempt, activeConnections: 0, hostAnsweredBefore: answeredHosts.has(host) },
        job,
      );
      if (!decision || decision.action !== 'retry') throw error;
      emitRetry({ error, attempt, delayMs: decision.delayMs });
      await sleep(decision.delayMs, undefined, { signal: job.signal }).catch(() => {
        throw toDownloadError(job.signal.reason);
      });
    }
  }
}

/**
 * The driver that serves `job.url`, through the `resolve` hook. Throws MG_ERR_UNSUPPORTED_PROTOCOL
 * when no protocol plugin handles its scheme (`shownUrl`: the URL without credentials, for the error).
 */
export async function resolveDriver(hooks: Pick<EngineHooks, 'resolve'>, job: Job, shownUrl: string): Promise<ProtocolDriver> {
  const driver = await hooks.resolve.promise(job.url, job);
  if (!driver) throw new UsageError(ErrorCodes.UNSUPPORTED_PROTOCOL, `No protocol plugin handles "${job.url.protocol}" URLs (${shownUrl})`);
  return driver;
}

/**
 * Makes a probe's answer say "one stream" after byte ranges proved unusable. The probe's body came
 * from a range request too (HTTP asks for bytes=0-): a server that broke ranges may break that one
 * the same way, so it is dropped and the single stream is a fresh request.
 */
export function asSingleStream(remote: RemoteInfo): void {
  remote.ranges = false;
  remote.initialSource?.cancel();
  delete remote.initialSource;
}
