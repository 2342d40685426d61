import { lstat } from 'node:fs/promises';
import { parseChecksum } from '../../util/checksum.js';
import { fileNameFromUrl, sanitizeFileName } from '../../util/fileName.js';
import type { Multiget } from '../../engine/Multiget.js';
import type { AddOptions } from '../../options/types.js';
import { redactUrl } from '../../storage/StateFile.js';
import type { Credentials, DownloadResult, RemoteInfo } from '../../types.js';
import type { ContentRecord } from '../store/ManagerStore.js';
import { type ContentStore, sameVersion } from './ContentStore.js';
import { copyFromStore, proveInPlace } from './copyFromStore.js';

/** What the lookup needs of a download. */
export interface CacheRequest {
  url: URL;
  options: AddOptions;
  /** The manager's directory when the download gives neither output nor dir. */
  dir: string;
  headers: Record<string, string>;
  credentials: Credentials | undefined;
  /** The target an earlier start of this download opened (`Entry.file` once `targetChosen`), if any. */
  ownFile?: string | undefined;
}

/**
 * Tries to satisfy a download from the content store.
 *
 * With a checksum (`ALGO=HEX`), a stored file recorded with that digest serves without any
 * request (a file verified against it, or hashed with it by an earlier version). Otherwise, and
 * without a checksum, stored files of the same URL serve when a probe shows the server still has
 * that version (same validators and size); with a checksum such a copy must also hash to it, so a
 * wrong checksum is never served. The probe is made only when a record of the URL still has its
 * file, of its size (an `lstat` each): records whose file is gone are forgotten first. A candidate
 * is used only if its copy proves the recorded digest; a candidate that does not is forgotten.
 * `checksum: 'auto'` (a checksum file beside the URL) is left to the download, which fetches it.
 *
 * First, a download that an earlier start took to its end (its file at `ownFile`, recorded with
 * its URL) but whose completion never reached the queue (the process was killed in between) is
 * complete where it is, once a probe shows the server still has the recorded version and the file
 * proves the recorded digest (see {@link proveInPlace}): no transfer, no copy, `inPlace` true, and
 * no `fromCache` in the result.
 *
 * Resolves with the result and the record copied, or undefined when the download must run as
 * usual (no candidate, a probe failed: the download then reports the failure with its retries).
 */
export async function fromCache(
  engine: Multiget,
  content: ContentStore,
  req: CacheRequest,
  signal: AbortSignal,
): Promise<{ result: DownloadResult; record: ContentRecord; inPlace?: true } | undefined> {
  const started = performance.now();
  const o = req.options;
  const checksum = o.checksum !== undefined && o.checksum !== 'auto' ? parseChecksum(o.checksum) : undefined;
  /** The server's current version of the URL, asked for once, when a record needs it; undefined when the probe failed. */
  let probed: Promise<RemoteInfo | undefined> | undefined;
  const remoteNow = (): Promise<RemoteInfo | undefined> =>
    (probed ??= engine
      .probe(req.url, {
        headers: req.headers,
        ...(req.credentials ? { credentials: req.credentials } : {}),
        ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
        ...(o.stallTimeoutMs !== undefined ? { stallTimeoutMs: o.stallTimeoutMs } : {}),
        signal,
      })
      .catch(() => undefined));
  const isCurrent = (r: ContentRecord, remote: RemoteInfo): boolean => sameVersion(r.validators, remote.validators) && (remote.size === undefined || remote.size === r.size);
  /**
   * The result for `record`'s bytes at `file`: a copy (`fromCache` names the stored file) or the
   * download's own file found complete. It names a digest only when the caller gave one, as a
   * download does.
   */
  const resultOf = (record: ContentRecord, file: string, url: URL, copied: boolean): DownloadResult => ({
    file,
    size: record.size,
    url: redactUrl(url),
    ...(checksum ? { digest: checksum } : {}),
    verified: checksum !== undefined,
    resumed: !copied,
    restarts: 0,
    durationMs: Math.round(performance.now() - started),
    ...(copied ? { fromCache: { path: record.file } } : {}),
  });

  if (req.ownFile !== undefined) {
    // The server must still have the version recorded: the file may also be an older download's,
    // left at a target that this one was to replace (`existing: 'overwrite'`) before it failed.
    const own = (await content.byUrl(req.url)).filter((r) => r.file === req.ownFile);
    const remote = own.length > 0 ? await remoteNow() : undefined;
    for (const record of own) {
      if (signal.aborted || !remote) return undefined;
      if (!isCurrent(record, remote)) continue;
      const outcome = await proveInPlace(record, req.ownFile, redactUrl(req.url), checksum);
      if (outcome === 'stale') await content.forget(record.file);
      if (outcome === 'proven') return { result: resultOf(record, record.file, req.url, false), record, inPlace: true };
    }
  }
  if (o.checksum === 'auto') return undefined;
  const tried = new Set<string>();

  /** Copies the first candidate that proves; `false`: stop looking (the target is the engine's to decide). */
  const serve = async (candidates: readonly ContentRecord[], name: string, url: URL): Promise<{ result: DownloadResult; record: ContentRecord } | false | undefined> => {
    for (const record of candidates) {
      if (signal.aborted) return false;
      tried.add(record.file);
      const outcome = await copyFromStore(record, {
        output: o.output,
        dir: o.dir ?? req.dir,
        name,
        existing: o.existing ?? (o.output !== undefined ? 'fail' : 'rename'),
        lockDetail: redactUrl(req.url),
        checksum,
      });
      if (outcome.kind === 'stale') {
        await content.forget(record.file);
        continue;
      }
      if (outcome.kind === 'unwanted') continue;
      if (outcome.kind === 'declined') return false;
      // The copy was proven against the recorded digest (and the caller's checksum).
      return { result: resultOf(record, outcome.file, url, true), record };
    }
    return undefined;
  };

  if (checksum) {
    const found = await serve(await content.byDigest(checksum.algorithm, checksum.hex), sanitizeFileName(fileNameFromUrl(req.url)), req.url);
    if (found !== undefined) return found || undefined;
  }
  const candidates = await stillThere(
    content,
    (await content.byUrl(req.url)).filter((r) => !tried.has(r.file)),
  );
  if (candidates.length === 0 || signal.aborted) return undefined;
  const remote = await remoteNow();
  if (!remote) return undefined;
  const current = candidates.filter((r) => isCurrent(r, remote));
  const name = sanitizeFileName(remote.fileName ?? fileNameFromUrl(remote.url) ?? fileNameFromUrl(req.url));
  return (await serve(current, name, remote.url)) || undefined;
}

/**
 * The records whose file is still a regular file of the recorded size (an `lstat` each, no read);
 * the others are forgotten, so a deleted download costs no probe of its URL.
 */
async function stillThere(content: ContentStore, records: readonly ContentRecord[]): Promise<ContentRecord[]> {
  const kept: ContentRecord[] = [];
  for (const record of records) {
    const st = await lstat(record.file).catch(() => undefined);
    if (st?.isFile() && st.size === record.size) kept.push(record);
    else await content.forget(record.file);
  }
  return kept;
}
