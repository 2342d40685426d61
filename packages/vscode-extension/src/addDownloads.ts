import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { AddManyRequest, AddRequest, type AddParams, type DownloadCredentials } from '@multiget/server/protocol';
import type { DownloadRequest } from './downloadUrl';
import type { DownloadStore } from './model/DownloadStore';
import type { SkippedUrl } from './model/url';
import { answeredByService, describeRequestError } from './service/requests';
import type { ServiceConnection } from './service/ServiceConnection';

/** What {@link addDownloads} needs from the extension. */
export interface AddDeps {
  connection: Pick<ServiceConnection, 'request'>;
  /** The stored credentials for a URL's host, if any. */
  credentials: { forUrl(url: string): Promise<DownloadCredentials | undefined> };
  store: Pick<DownloadStore, 'changed'>;
  /** The configured download folder (absolute), used when the request names none. */
  defaultFolder: () => string;
  /** `multiget.checksum`: `auto` asks the service to verify against a checksum file beside the URL. */
  checksumMode?: () => 'auto' | 'off';
}

/** What became of a {@link DownloadRequest}. */
export interface AddOutcome {
  /** Ids of the downloads added, in the request's order. */
  ids: string[];
  /** URLs the service refused, with its reason (the request's own `skipped` are not repeated). */
  refused: SkippedUrl[];
}

/**
 * Adds the URLs of a request through the service, each with its host's stored credentials, and
 * feeds the list. Several URLs go as `multiget/addMany` batches, one write of the service's queue
 * each: one `multiget/add` per URL rewrote the growing queue for every URL (1,000 small files took
 * 4.3-4.8 s and 4.2-4.5 CPU s of the service to download, against 1.4-2.0 s and 1.6-2.2 with one
 * batch). The service refuses a batch as a whole when one of its items is bad (or, an older
 * service, does not know the method): that batch is then sent one URL at a time, so that a refusal
 * of one URL does not stop the others. Requests made while the service starts wait for it
 * (`ServiceConnection.whenReady`); a batch that cannot reach it is refused for each of its URLs.
 */
export async function addDownloads(deps: AddDeps, request: DownloadRequest): Promise<AddOutcome> {
  const dir = request.dir ?? deps.defaultFolder();
  await fs.mkdir(dir, { recursive: true }).catch(() => undefined);
  const outcome: AddOutcome = { ids: [], refused: [] };
  const items: AddParams[] = [];
  // Mirrors of one file are one download: the first URL names it, the others are read at once.
  const asOne = request.sameFile === true && request.urls.length > 1;
  const single = request.urls.length === 1 || asOne;
  for (const url of asOne ? request.urls.slice(0, 1) : request.urls) {
    // "Save as…": an exact target that must not exist yet (never overwrite unasked).
    const params: AddParams =
      request.fileName !== undefined && single ? { url, output: path.join(dir, request.fileName), existing: 'fail' } : { url, dir };
    if (asOne) params.mirrors = request.urls.slice(1);
    if (request.checksum !== undefined && single) params.checksum = request.checksum;
    else if (deps.checksumMode?.() === 'auto') params.checksum = 'auto';
    const credentials = await deps.credentials.forUrl(url);
    if (credentials !== undefined) params.credentials = credentials;
    items.push(params);
  }
  for (let i = 0; i < items.length; i += AddManyRequest.maxItems) {
    const batch = items.slice(i, i + AddManyRequest.maxItems);
    if (items.length > 1 && (await addBatch(deps, batch, outcome))) continue;
    for (const params of batch) {
      try {
        const { id, download } = await deps.connection.request(AddRequest.type, params);
        deps.store.changed(download);
        outcome.ids.push(id);
      } catch (err) {
        outcome.refused.push({ url: params.url, reason: describeRequestError(err) });
      }
    }
  }
  return outcome;
}

/**
 * Sends `batch` as one `multiget/addMany` into `outcome`. False when the service refused it as a
 * whole (the caller then sends its URLs one at a time); a batch that got no answer is refused for
 * each of its URLs.
 */
async function addBatch(deps: AddDeps, batch: AddParams[], outcome: AddOutcome): Promise<boolean> {
  try {
    const { ids } = await deps.connection.request(AddManyRequest.type, { items: batch });
    outcome.ids.push(...ids);
  } catch (err) {
    if (answeredByService(err)) return false;
    const reason = describeRequestError(err);
    for (const { url } of batch) outcome.refused.push({ url, reason });
  }
  return true;
}
