import { ErrorCodes, UsageError } from '../errors.js';
import { redactUrl } from '../log/redact.js';
import { sameOrigin } from '../util/sameOrigin.js';
import type { Entry } from './Queue.js';
import { holdsSecrets } from './secrets.js';

// A download given a new URL (`Manager.updateUrl`: its link expired, or the file moved): what the
// entry keeps and what it forgets. The manager pauses it first and queues it after.

/** How many earlier URLs an entry remembers as its own (see {@link relink}). */
const PREVIOUS_URLS = 8;

/** Throws MG_ERR_INVALID_STATE unless `e` may take a new URL: a completed or cancelled download may not. */
export function checkRelinkable(e: Entry): void {
  if (e.state === 'completed' || e.state === 'canceled') {
    throw new UsageError(ErrorCodes.INVALID_STATE, `Download ${e.id} is ${e.state}; only unfinished or failed ones take a new URL`);
  }
}

/**
 * Moves `e` to `url` (already parsed and checked); its new target key is the queue's to set
 * (`Queue.rekey`), which files it. Its partial data
 * stays its own: the old URL (without credentials) joins `previousUrls`, which the storage accepts as
 * the same download's, and the engine still checks that the new URL serves the same file.
 * Credentials and secret headers held for the old URL go unless the new one has the same origin
 * (see `sameOrigin`); mirror URLs keep their userinfo. What the old run left (its error,
 * pause reason, Download, a wait for secrets) is forgotten.
 */
export function relink(e: Entry, url: URL): void {
  const before = redactUrl(e.url);
  // A mirror's userinfo stays: it goes to that mirror only, whose URL did not change.
  if (!sameOrigin(url, e.url)) e.secrets = { headers: {}, credentials: undefined, ...(e.secrets.mirrors ? { mirrors: e.secrets.mirrors } : {}) };
  e.previousUrls = [...e.previousUrls.filter((u) => u !== before), before].slice(-PREVIOUS_URLS);
  e.url = url;
  e.needsSecrets = holdsSecrets(url, e.secrets);
  e.awaitingSecrets = false;
  e.error = undefined;
  e.reason = undefined;
  e.download = undefined;
}
