import { AbortError, DownloadError, ErrorCodes, isDownloadError } from '../errors.js';
import { fileNameFromUrl } from '../util/fileName.js';
import type { HookHost, Plugin, ProtocolDriver } from '../engine/hooks.js';
import { Job } from '../engine/Job.js';
import { redactUrl } from '../storage/StateFile.js';
import type { Digest, DigestAlgorithm, RemoteInfo } from '../types.js';
import { findChecksum } from './parseChecksumFile.js';

const PLUGIN_NAME = 'ChecksumFiles';

/** A checksum file is never read past this many bytes (the largest SUMS files of distributions are well under). */
export const CHECKSUM_FILE_LIMIT = 1024 * 1024;

/** Where a checksum file may stand beside a file, in the order they are tried. */
export interface ChecksumCandidate {
  /** The name beside the file. */
  name: string;
  /** The algorithm its name announces. */
  algorithm: DigestAlgorithm;
  /** A single-file form (`NAME.sha256`), which may hold a bare hash. */
  single: boolean;
}

/**
 * The checksum files tried for a file named `fileName`, in order: the single-file forms first
 * (they speak of this file alone), SHA-256 before SHA-512 within each kind, then the folder's
 * SUMS files.
 */
export function checksumCandidates(fileName: string): ChecksumCandidate[] {
  return [
    { name: `${fileName}.sha256`, algorithm: 'sha256', single: true },
    { name: `${fileName}.sha256sum`, algorithm: 'sha256', single: true },
    { name: `${fileName}.sha512`, algorithm: 'sha512', single: true },
    { name: `${fileName}.sha512sum`, algorithm: 'sha512', single: true },
    { name: 'SHA256SUMS', algorithm: 'sha256', single: false },
    { name: 'SHA512SUMS', algorithm: 'sha512', single: false },
  ];
}

/**
 * `checksum: 'auto'`: after the driver's probe, looks beside the URL for a checksum file
 * (see {@link checksumCandidates}) and adds the digest of the first one that names the file to
 * `remote.digests` (`source: 'file'`, `url` the checksum file's URL), for the verifier to check
 * before the file is moved into place. Each candidate is fetched through the download's own
 * protocol driver with the download's credentials, headers and timeouts, and never more than
 * {@link CHECKSUM_FILE_LIMIT} bytes of it. Nothing found, or nothing usable: the download goes on
 * unverified and says so with an `MG_WARN_NO_CHECKSUM_FILE` warning.
 *
 * Looked for once per run, before the driver's own probe; the retries of a probe and the restarts
 * of a run (the remote changed) use what was found.
 */
export class ChecksumFiles implements Plugin {
  readonly name = PLUGIN_NAME;
  /** What was found for a job (null: nothing), so probe retries and restarts do not look again. */
  readonly #found = new WeakMap<Job, Digest | null>();

  apply(engine: HookHost): void {
    // Before the driver's probe (stage -100): a probe may leave a stream open at byte 0 (HTTP, FTP),
    // which must not wait while the checksum files are fetched.
    engine.hooks.probe.tapPromise({ name: PLUGIN_NAME, stage: -200 }, async (info, job) => {
      if (!job.options.checksumFiles || !job.driver || this.#found.has(job)) return info;
      this.#found.set(job, (await findChecksumFile(job.driver, job)) ?? null);
      return info;
    });
    // After it: the driver's tap answers a fresh RemoteInfo, so the digest is added to that one.
    engine.hooks.probe.tapPromise({ name: PLUGIN_NAME, stage: 100 }, async (info, job) => {
      const digest = this.#found.get(job);
      if (digest) info.digests = [...info.digests.filter((d) => d.source !== 'file'), digest];
      return info;
    });
  }
}

/** Tries each candidate in turn; resolves with the first digest found, or undefined (after a warning). */
async function findChecksumFile(driver: ProtocolDriver, job: Job): Promise<Digest | undefined> {
  const fileName = fileNameFromUrl(job.url);
  if (fileName === undefined) {
    job.warn('MG_WARN_NO_CHECKSUM_FILE', 'the URL names no file to look for a checksum file of; the download is not verified');
    return undefined;
  }
  const tried: string[] = [];
  for (const candidate of checksumCandidates(fileName)) {
    const url = besides(job.url, candidate.name);
    let text: string | undefined;
    try {
      text = await fetchSmall(driver, url, job);
    } catch (err) {
      if (job.signal.aborted) throw isDownloadError(err) ? err : new AbortError(undefined, { cause: err });
      const error = isDownloadError(err) ? err : new DownloadError(ErrorCodes.INTERNAL, String(err), { cause: err });
      // Missing is the common case; anything else is worth a word, but never stops the download.
      if (error.code !== ErrorCodes.NOT_FOUND && error.code !== ErrorCodes.FORBIDDEN) {
        tried.push(`${candidate.name} (${error.code})`);
      } else tried.push(candidate.name);
      continue;
    }
    if (text === undefined) {
      job.warn('MG_WARN_CHECKSUM_FILE_TOO_LARGE', `${redactUrl(url)} is larger than ${CHECKSUM_FILE_LIMIT} bytes; not reading it`);
      tried.push(candidate.name);
      continue;
    }
    const found = findChecksum(text, fileName, candidate.algorithm, candidate.single);
    if (found) return { algorithm: found.algorithm, hex: found.hex, source: 'file', url: redactUrl(url) };
    tried.push(`${candidate.name} (does not list ${fileName})`);
  }
  job.warn(
    'MG_WARN_NO_CHECKSUM_FILE',
    `no checksum file names ${fileName} (tried ${tried.join(', ')}); the download is not verified`,
  );
  return undefined;
}

/** The URL of `name` in the folder of `url`, with the same credentials, without query or fragment. */
function besides(url: URL, name: string): URL {
  const out = new URL(url.href);
  out.search = '';
  out.hash = '';
  const slash = out.pathname.lastIndexOf('/');
  out.pathname = `${out.pathname.slice(0, slash + 1)}${encodeURIComponent(name)}`;
  return out;
}

/**
 * The content of a small remote file as UTF-8, read through `driver` as a download of it would be
 * (its own probe, then its first stream). Resolves with undefined when it is larger than the limit.
 */
async function fetchSmall(driver: ProtocolDriver, url: URL, parent: Job): Promise<string | undefined> {
  const job = new Job(`${parent.id}:checksum`, url, parent.options, parent.signal, (w) => parent.warn(w.code, w.message));
  job.driver = driver;
  const info: RemoteInfo = await driver.probe(job);
  job.remote = info;
  if (info.size !== undefined && info.size > CHECKSUM_FILE_LIMIT) {
    info.initialSource?.cancel();
    return undefined;
  }
  if (info.size === 0) {
    info.initialSource?.cancel();
    return '';
  }
  const source =
    info.initialSource ??
    (await driver.fetchRange(
      { start: 0, end: info.size === undefined ? undefined : info.size - 1, validators: info.validators, size: info.size, signal: parent.signal },
      job,
    ));
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of source.body) {
      length += chunk.byteLength;
      if (length > CHECKSUM_FILE_LIMIT) return undefined;
      // A copy: a driver may reuse the memory of a chunk once the next one is asked for.
      chunks.push(Buffer.from(chunk));
      // A short file's source may end with its announced size rather than with the stream.
      if (info.size !== undefined && length >= info.size) break;
    }
  } finally {
    source.cancel();
  }
  return Buffer.concat(chunks).toString('utf8');
}
