import { readFile } from 'node:fs/promises';
import { ErrorCodes, UsageError, looksLikeMetalink, parseMetalink, strongestDigest, type MetalinkFile } from '@multiget/core';
import type { TaskSource } from '../runner/buildTasks.js';

/** Reads the text of a Metalink given by URL (bounded in size by the caller). */
export type MetalinkFetcher = (url: string, source: TaskSource) => Promise<string>;

/** True when `raw` parses as a URL with a scheme (as opposed to a local path). */
function isUrl(raw: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(raw) && URL.parse(raw) !== null;
}

/** Whether a source names a Metalink document, local or remote. */
export function isMetalinkSource(source: TaskSource): boolean {
  return looksLikeMetalink(source.url);
}

/** Whether a source names a Metalink that must be fetched. */
export function isRemoteMetalink(source: TaskSource): boolean {
  return isMetalinkSource(source) && isUrl(source.url);
}

function toSource(file: MetalinkFile, from: TaskSource): TaskSource {
  const digest = strongestDigest(file.hashes);
  const [first, ...rest] = file.urls;
  return {
    url: first!.url.href,
    headers: from.headers,
    // Under the entry's directory (or the working directory): a name with folders gets them created.
    dir: from.dir ?? '.',
    out: file.name,
    ...(rest.length > 0 ? { mirrors: rest.map((u) => u.url.href) } : {}),
    ...(digest !== undefined ? { checksum: `${digest.algorithm}=${digest.hex}` } : {}),
    ...(file.pieces !== undefined ? { pieces: file.pieces } : {}),
    ...(from.connections !== undefined ? { connections: from.connections } : {}),
    ...(from.rateLimit !== undefined ? { rateLimit: from.rateLimit } : {}),
    ...(from.priority !== undefined ? { priority: from.priority } : {}),
    ...(from.where !== undefined ? { where: from.where } : {}),
  };
}

/**
 * Replaces every source that names a Metalink 4 document (`*.meta4`, a local file or a URL) with one
 * source per file it describes: its first URL, the others as mirrors, its strongest hash as the
 * checksum, its piece hashes, its name (folders included, never outside the directory) as `out`.
 */
export async function expandMetalinks(sources: readonly TaskSource[], fetchText: MetalinkFetcher): Promise<TaskSource[]> {
  const out: TaskSource[] = [];
  for (const source of sources) {
    if (!isMetalinkSource(source)) {
      out.push(source);
      continue;
    }
    if (source.mirrors !== undefined || source.out !== undefined) {
      throw new UsageError(ErrorCodes.INVALID_OPTION, `${source.where ?? source.url}: a Metalink names its own files and mirrors`);
    }
    let text: string;
    if (isUrl(source.url)) {
      text = await fetchText(source.url, source);
    } else {
      try {
        text = await readFile(source.url, 'utf8');
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code ?? String(err);
        throw new UsageError(ErrorCodes.INVALID_OPTION, `Cannot read the Metalink ${source.url} (${reason})`, { cause: err });
      }
    }
    out.push(...parseMetalink(text).map((file) => toSource(file, source)));
  }
  return out;
}
