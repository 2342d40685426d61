import type { DownloadError } from '../errors.js';

/** HTTP statuses that, once a transfer is under way, mean the link stopped working (not the file). */
const LINK_REFUSED: ReadonlySet<number> = new Set([401, 403, 410]);
/** The engine's own code for it (ErrorCodes.LINK_EXPIRED where the engine declares it). */
const LINK_EXPIRED: string = 'MG_ERR_LINK_EXPIRED';

/**
 * Whether a download's failure is an expired link, whose bytes a new link of the same file can
 * continue: the engine's MG_ERR_LINK_EXPIRED, or (from an engine without it) a server refusing the
 * link with HTTP 401/403/410 once the transfer had started (the download has its target file: the
 * same link worked for the probe). The one rule the manager (pause with reason `linkExpired`) and
 * the CLI (how to continue) share.
 *
 * @param download - The failed download; only whether it had chosen its file is read.
 */
export function isLinkExpiry(error: DownloadError, download: { readonly file: string | undefined }): boolean {
  if (error.code === LINK_EXPIRED) return true;
  return download.file !== undefined && error.statusCode !== undefined && LINK_REFUSED.has(error.statusCode);
}
