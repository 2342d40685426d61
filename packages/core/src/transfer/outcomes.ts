import type { DownloadError } from '../errors.js';

/*
 * How a transfer ends short of its bytes in a way its download acts on (as opposed to a failure,
 * which the retry policy has already judged): the download starts over in one stream, or asks for
 * a fresh URL.
 */

/** Thrown by a transfer when ranges proved unreliable: the download starts over in one stream. */
export class RangesUnusable extends Error {
  constructor(readonly error: DownloadError) {
    super(error.message);
  }
}

/** Thrown by a transfer when the server refused the link mid-download (401, 403, 410): the URL needs refreshing. */
export class LinkRefused extends Error {
  constructor(readonly error: DownloadError) {
    super(error.message);
  }
}

/** True for a refusal of the link itself (an expired signature or token), as opposed to a failure of the transfer. */
export function isLinkRefusal(error: DownloadError): boolean {
  return error.statusCode === 401 || error.statusCode === 403 || error.statusCode === 410;
}

/**
 * Milliseconds after a connection let go of a response still running (the probe's open stream at
 * its segment's end, a split) during which a "busy" refusal from that server may be the server
 * still counting that response: the transfer tells the retry policy so (`afterAbandoned`), and the
 * mirror plugin learns no cap from it.
 */
export const ABANDONED_WINDOW_MS = 1000;
