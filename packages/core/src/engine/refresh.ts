import { DownloadError, ErrorCodes, RemoteChangedError } from '../errors.js';
import type { DownloadEvents, RemoteInfo } from '../types.js';
import { versionProblem } from '../util/validators.js';
import type { EngineHooks } from './hooks.js';
import type { Job } from './Job.js';

/** Refreshes of a refused link in a row that bring no byte before the download fails with MG_ERR_LINK_EXPIRED. */
const MAX_REFRESHES = 3;

/**
 * Re-resolves the URL of one download through the `refreshUrl` hook after the server refused the
 * link (401/403/410). Counts the refreshes that bring no byte, so a plugin whose fresh links are
 * refused too cannot keep the download going round.
 */
export class UrlRefresher {
  #inARow = 0;
  #bytesAtLast = -1;

  constructor(
    private readonly hooks: Pick<EngineHooks, 'refreshUrl'>,
    private readonly emitWarning: (...args: DownloadEvents['warning']) => void,
  ) {}

  /**
   * Sets `job.url` to a fresh URL. Without one (or after {@link MAX_REFRESHES} refreshes in a row
   * that brought no byte), throws MG_ERR_LINK_EXPIRED: not retryable with the same link; the
   * partial data and its state are kept for a resume with a fresh one.
   *
   * @param shownUrl - The download's URL without credentials, for the error.
   */
  async refresh(job: Job, refusal: DownloadError, shownUrl: string): Promise<void> {
    const done = job.bytesDone;
    this.#inARow = done > this.#bytesAtLast ? 1 : this.#inARow + 1;
    this.#bytesAtLast = done;
    const fresh =
      this.#inARow <= MAX_REFRESHES ? await this.hooks.refreshUrl.promise(job.url, { reason: 'expired', error: refusal }, job) : undefined;
    const status = refusal.statusCode === undefined ? refusal.code : `HTTP ${refusal.statusCode}`;
    if (!fresh) {
      throw new DownloadError(
        ErrorCodes.LINK_EXPIRED,
        `The server refused the link (${status}) after ${done} bytes and no plugin could refresh it; ` +
          'the partial data is kept: the same download with a fresh link resumes it',
        { cause: refusal, ...(refusal.statusCode === undefined ? {} : { statusCode: refusal.statusCode }), url: shownUrl },
      );
    }
    job.url = fresh;
    this.emitWarning({ code: 'MG_WARN_URL_REFRESHED', message: `the link was refused (${status}); continuing with a fresh one` });
  }
}

/**
 * After a refreshed link, before the run continues the bytes it has: throws MG_ERR_REMOTE_CHANGED
 * when `now` (the probe of the fresh link) serves another version than `was` (the file those bytes
 * are of). Never two versions in one file: the partial data is dropped first (its state forgotten,
 * the probe's body cancelled).
 */
export async function checkSameFile(was: RemoteInfo, now: RemoteInfo, job: Job): Promise<void> {
  const problem = versionProblem(was, now);
  if (!problem) return;
  now.initialSource?.cancel();
  await job.storage?.forget();
  throw new RemoteChangedError(`The refreshed link serves another file: ${problem}; the bytes of the old one are not used`);
}
