import { setTimeout as sleep } from 'node:timers/promises';
import { toDownloadError } from '../errors.js';
import type { DownloadEvents, RemoteInfo } from '../types.js';
import type { EngineHooks } from './hooks.js';
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
