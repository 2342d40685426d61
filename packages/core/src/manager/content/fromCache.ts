import { parseChecksum } from '../../util/checksum.js';
import { fileNameFromUrl, sanitizeFileName } from '../../util/fileName.js';
import type { Multiget } from '../../engine/Multiget.js';
import type { AddOptions } from '../../options/types.js';
import { redactUrl } from '../../storage/StateFile.js';
import type { Credentials, DownloadResult } from '../../types.js';
import type { ContentRecord } from '../store/ManagerStore.js';
import { type ContentStore, sameVersion } from './ContentStore.js';
import { copyFromStore } from './copyFromStore.js';

/** What the lookup needs of a download. */
export interface CacheRequest {
  url: URL;
  options: AddOptions;
  /** The manager's directory when the download gives neither output nor dir. */
  dir: string;
  headers: Record<string, string>;
  credentials: Credentials | undefined;
}

/**
 * Tries to satisfy a download from the content store. With a checksum, any stored file with that
 * digest serves (no request at all); otherwise stored files of the same URL serve when a probe
 * shows the server still has that version (same validators and size). A candidate is used only if
 * it still exists and its copy hashes to the recorded digest; a candidate that does not is
 * forgotten. Resolves with the result and the record copied, or undefined when the download must run as usual (no candidate, a probe failed:
 * the download then reports the failure with its retries).
 */
export async function fromCache(
  engine: Multiget,
  content: ContentStore,
  req: CacheRequest,
  signal: AbortSignal,
): Promise<{ result: DownloadResult; record: ContentRecord } | undefined> {
  const started = performance.now();
  const o = req.options;
  let candidates;
  let name: string;
  let url = req.url;
  if (o.checksum !== undefined) {
    const digest = parseChecksum(o.checksum);
    candidates = await content.byDigest(digest.algorithm, digest.hex);
    name = sanitizeFileName(fileNameFromUrl(req.url));
  } else {
    candidates = await content.byUrl(req.url);
    if (candidates.length === 0) return undefined;
    let remote;
    try {
      remote = await engine.probe(req.url, {
        headers: req.headers,
        ...(req.credentials ? { credentials: req.credentials } : {}),
        ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
        ...(o.stallTimeoutMs !== undefined ? { stallTimeoutMs: o.stallTimeoutMs } : {}),
        signal,
      });
    } catch {
      return undefined;
    }
    candidates = candidates.filter((r) => sameVersion(r.validators, remote.validators) && (remote.size === undefined || remote.size === r.size));
    name = sanitizeFileName(remote.fileName ?? fileNameFromUrl(remote.url) ?? fileNameFromUrl(req.url));
    url = remote.url;
  }
  for (const record of candidates) {
    if (signal.aborted) return undefined;
    const outcome = await copyFromStore(record, {
      output: o.output,
      dir: o.dir ?? req.dir,
      name,
      existing: o.existing ?? (o.output !== undefined ? 'fail' : 'rename'),
      lockDetail: redactUrl(req.url),
    });
    if (outcome.kind === 'stale') {
      await content.forget(record.file);
      continue;
    }
    if (outcome.kind === 'declined') return undefined;
    // The copy was proven against the recorded digest either way; the result names a digest only
    // when the caller gave it, as a download does.
    const digest = o.checksum !== undefined ? parseChecksum(o.checksum) : undefined;
    const result: DownloadResult = {
      file: outcome.file,
      size: record.size,
      url: redactUrl(url),
      ...(digest ? { digest } : {}),
      verified: digest !== undefined,
      resumed: false,
      restarts: 0,
      durationMs: Math.round(performance.now() - started),
      fromCache: { path: record.file },
    };
    return { result, record };
  }
  return undefined;
}
