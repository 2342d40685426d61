import * as fs from 'node:fs/promises';
import { AddFolderRequest, type AddFolderParams, type AddFolderResult, type DownloadCredentials, type DownloadInfo } from '@multiget/server/protocol';

/** What "Download Folder…" produced: the remote folder and, when the user chose one, where to save it. */
export interface FolderRequest {
  /** The folder's URL (ftp, ftps, sftp), checked by `validateFolderUrl`. */
  url: string;
  /** Absolute folder the remote one is mirrored into (as a subfolder of its name); default the configured folder. */
  dir?: string;
}

/** What {@link addFolder} needs from the extension (the ServiceConnection, CredentialStore and DownloadStore fit). */
export interface AddFolderDeps {
  connection: { request(type: typeof AddFolderRequest.type, params: AddFolderParams): Promise<AddFolderResult> };
  credentials: { forUrl(url: string): Promise<DownloadCredentials | undefined> };
  store: { changed(download: DownloadInfo): void };
  /** The configured download folder (absolute), used when the request names none. */
  defaultFolder: () => string;
  /** `multiget.checksum`: `auto` has each file verified against a checksum file beside it. */
  checksumMode?: () => 'auto' | 'off';
}

/**
 * Sends one `multiget/addFolder` for a request, with the host's stored credentials (the listing and
 * every file need them), and feeds the list with the downloads it queued. The service lists the
 * folder before it answers, so a folder it cannot list (wrong login, unknown host key, not found)
 * rejects here with the service's error.
 */
export async function addFolder(deps: AddFolderDeps, request: FolderRequest): Promise<AddFolderResult> {
  const dir = request.dir ?? deps.defaultFolder();
  // The configured folder may not exist yet; the service resolves paths against existing folders.
  await fs.mkdir(dir, { recursive: true }).catch(() => undefined);
  const params: AddFolderParams = { url: request.url, dir };
  if (deps.checksumMode?.() === 'auto') params.checksum = 'auto';
  const credentials = await deps.credentials.forUrl(request.url);
  if (credentials !== undefined) params.credentials = credentials;
  const result = await deps.connection.request(AddFolderRequest.type, params);
  for (const download of result.downloads) deps.store.changed(download);
  return result;
}
