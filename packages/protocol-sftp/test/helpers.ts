import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, isDownloadError, type ByteSource, type DownloadError, type JobOptions, type RangeRequest } from '@multiget/core';
import type { SftpPlugin } from '../src/index.js';

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
    connectTimeoutMs: 10_000,
    stallTimeoutMs: 30_000,
    rateLimit: undefined,
    userAgent: 'multiget-test/1.0',
  };
  return new Job(`job-${++nextId}`, new URL(url), { ...defaults, ...options }, signal);
}

/** Probes the way the engine does: the driver is set, then `remote` is what the probe returned. */
export async function probed(plugin: SftpPlugin, job: Job): Promise<Job> {
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
export function rangeOf(job: Job, start: number, end: number | undefined, signal: AbortSignal = new AbortController().signal): RangeRequest {
  const remote = job.remote;
  if (remote === undefined) throw new Error('probe first');
  return { start, end, validators: { ...remote.validators }, size: remote.size, signal };
}

/** A temporary home directory with an empty `.ssh` (mode 700), removed by `dispose`. */
export interface TempHome {
  readonly path: string;
  readonly ssh: string;
  /** Writes `~/.ssh/known_hosts` (replacing it). */
  knownHosts(...lines: string[]): Promise<string>;
  /** Writes a file under `~/.ssh` with mode 600. */
  sshFile(name: string, content: string): Promise<string>;
  dispose(): Promise<void>;
}

export async function tempHome(): Promise<TempHome> {
  const path = await mkdtemp(join(tmpdir(), 'mg-sftp-home-'));
  const ssh = join(path, '.ssh');
  await mkdir(ssh, { mode: 0o700 });
  return {
    path,
    ssh,
    async knownHosts(...lines: string[]) {
      const file = join(ssh, 'known_hosts');
      await writeFile(file, lines.map((l) => `${l}\n`).join(''));
      return file;
    },
    async sshFile(name: string, content: string) {
      const file = join(ssh, name);
      await writeFile(file, content, { mode: 0o600 });
      return file;
    },
    dispose: () => rm(path, { recursive: true, force: true }),
  };
}
