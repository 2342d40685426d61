// Driver-level helpers: build a Job as the engine would, probe the way it does, ask for ranges with
// the probe's validators, read sources.
import { isDownloadError, type DownloadError } from '../errors.js';
import type { ProtocolDriver } from '../engine/hooks.js';
import { Job, type JobOptions } from '../engine/Job.js';
import type { ByteSource, RangeRequest } from '../types.js';

let nextId = 0;

/**
 * A Job as the engine would build it, with the engine's usual defaults (overridable).
 *
 * @param onWarning - Receives what the driver reports with `job.warn` (the download's `warning` event).
 */
export function createJob(
  url: string,
  options: Partial<JobOptions> = {},
  signal: AbortSignal = new AbortController().signal,
  onWarning?: (info: { code: string; message: string }) => void,
): Job {
  const defaults: JobOptions = {
    output: undefined,
    dir: '.',
    connections: 4,
    maxConnectionsPerHost: 8,
    minSplitSize: 1024 * 1024,
    headers: {},
    credentials: undefined,
    checksum: undefined,
    checksumFiles: false,
    existing: 'fail',
    retries: 3,
    connectTimeoutMs: 5_000,
    stallTimeoutMs: 30_000,
    lowestSpeed: 1024,
    lowestSpeedTimeMs: 30_000,
    rateLimit: undefined,
    userAgent: 'multiget-test/1.0',
    mirrors: [],
    pieces: undefined,
    previousUrls: [],
  };
  return new Job(`job-${++nextId}`, new URL(url), { ...defaults, ...options }, signal, onWarning);
}

/** Probes the way the engine does: the driver is set, then `remote` is what the probe returned. */
export async function probeWith(driver: ProtocolDriver, job: Job): Promise<Job> {
  job.driver = driver;
  job.remote = await driver.probe(job);
  return job;
}

/** A RangeRequest for `job`, with the validators and size its probe learned. */
export function rangeRequest(job: Job, start: number, end: number | undefined, signal: AbortSignal = new AbortController().signal): RangeRequest {
  const remote = job.remote;
  if (remote === undefined) throw new Error('probe first');
  return { start, end, validators: { ...remote.validators }, size: remote.size, signal };
}

/** Reads a source to its end. */
export async function readSource(source: ByteSource): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source.body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The DownloadError a promise rejects with; throws when it resolves or rejects with something else. */
export async function rejectionOf(promise: Promise<unknown>): Promise<DownloadError> {
  try {
    await promise;
  } catch (err) {
    if (isDownloadError(err)) return err;
    throw new Error(`expected a DownloadError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a rejection');
}
