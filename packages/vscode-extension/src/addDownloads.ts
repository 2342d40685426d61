import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { AddRequest, type AddParams } from '@multiget/server/protocol';
import type { CredentialStore } from './credentials';
import type { DownloadRequest } from './downloadUrl';
import type { DownloadStore } from './model/DownloadStore';
import type { SkippedUrl } from './model/url';
import { describeRequestError } from './service/requests';
import type { ServiceConnection } from './service/ServiceConnection';

/** What {@link addDownloads} needs from the extension. */
export interface AddDeps {
  connection: ServiceConnection;
  credentials: CredentialStore;
  store: DownloadStore;
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
 * Sends each URL of a request to the service as its own `multiget/add`, with the host's stored
 * credentials, and feeds the list. A refusal of one URL does not stop the others. Requests made
 * while the service starts wait for it (`ServiceConnection.whenReady`).
 */
export async function addDownloads(deps: AddDeps, request: DownloadRequest): Promise<AddOutcome> {
  const dir = request.dir ?? deps.defaultFolder();
  await fs.mkdir(dir, { recursive: true }).catch(() => undefined);
  const outcome: AddOutcome = { ids: [], refused: [] };
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
    try {
      const { id, download } = await deps.connection.request(AddRequest.type, params);
      deps.store.changed(download);
      outcome.ids.push(id);
    } catch (err) {
      outcome.refused.push({ url, reason: describeRequestError(err) });
    }
  }
  return outcome;
}
