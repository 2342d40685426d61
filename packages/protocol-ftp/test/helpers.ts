import { Job, isDownloadError, type ByteSource, type DownloadError, type JobOptions, type RangeRequest } from '@multiget/core';
import type { FtpPlugin } from '../src/index.js';

let nextId = 0;

/** A Job as the engine would build it, with the engine's usual defaults. */
export function makeJob(url: string, options: Partial<JobOptions> = {}, signal: AbortSignal = new AbortController().signal): Job {
  const defaults: JobOptions = {
    output: undefined,
    dir: '.',
    connections: 4,
    maxConnectionsPerHost: 8,
    minSplitSize: 1024 * 1024,
    headers: {},
    credentials: undefined,
    checksum: undefined,
    existing: 'fail',
    retries: 3,
    connectTimeoutMs: 5_000,
    stallTimeoutMs: 30_000,
    rateLimit: undefined,
    userAgent: 'multiget-test/1.0',
  };
  return new Job(`job-${++nextId}`, new URL(url), { ...defaults, ...options }, signal);
}

/** Probes the way the engine does: the driver is set, then `remote` is what the probe returned. */
export async function probed(plugin: FtpPlugin, job: Job): Promise<Job> {
  job.driver = plugin;
  job.remote = await plugin.probe(job);
  return job;
}

/** Reads a source to the end. */
export async function readAll(source: ByteSource): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source.body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Reads `n` bytes of a source, then stops reading (as the engine does at a segment's end). */
export async function readSome(source: ByteSource, n: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let got = 0;
  for await (const chunk of source.body) {
    const piece = chunk.subarray(0, n - got);
    chunks.push(piece);
    got += piece.byteLength;
    if (got >= n) break;
  }
  return Buffer.concat(chunks);
}

/** The DownloadError a promise rejects with (fails the test when it resolves or throws something else). */
export async function rejection(promise: Promise<unknown>): Promise<DownloadError> {
  try {
    await promise;
  } catch (err) {
    if (isDownloadError(err)) return err;
    throw new Error(`expected a DownloadError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a rejection');
}

/** A RangeRequest for `job`, with the validators and size the probe learned. */
export function rangeOf(
  job: Job,
  start: number,
  end: number | undefined,
  signal: AbortSignal = new AbortController().signal,
): RangeRequest {
  const remote = job.remote;
  if (remote === undefined) throw new Error('probe first');
  return { start, end, validators: { ...remote.validators }, size: remote.size, signal };
}

/** Polls `condition` every 5 ms until it holds (the test timeout bounds the wait). */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** The subset of Multiget this file needs (kept structural so the helper stays engine-agnostic). */
interface Downloader {
  download(
    url: string,
    options: { dir: string; connections?: number; signal?: AbortSignal; credentials?: JobOptions['credentials'] },
  ): {
    on(event: 'progress', listener: (p: { bytesDone: number }) => void): unknown;
    done: Promise<unknown>;
  };
}

/**
 * Starts a download, aborts its signal once `atLeast` bytes are on disk, and returns the error the
 * download ended with (MG_ERR_ABORTED, partial data kept).
 */
export async function abortMidway(
  mg: Downloader,
  url: string,
  options: { dir: string; connections?: number; credentials?: JobOptions['credentials'] },
  atLeast: number,
): Promise<DownloadError> {
  const controller = new AbortController();
  const dl = mg.download(url, { ...options, signal: controller.signal });
  dl.on('progress', (p) => {
    if (p.bytesDone >= atLeast) controller.abort();
  });
  return await rejection(dl.done);
}
