/**
 * What a drop on the Downloads panel asks to download. Browsers and editors put a dragged link in
 * `text/uri-list` (RFC 2483: one URI a line, `#` lines are comments) and usually in `text/plain`
 * too; a dragged selection of text comes as `text/plain` only. Pure functions, unit tested.
 */
import { findUrl, validateDownloadUrl } from '../model/url';

/** Most downloads one drop adds; a longer list is surely not what the user meant to drop. */
export const MAX_DROP_URLS = 100;

/** One dropped item that is not a URL Multiget can download, with the reason. */
export interface RefusedDrop {
  item: string;
  reason: string;
}

/** The result of {@link urlsFromDrop}. */
export interface DroppedUrls {
  /** Downloadable URLs, in the order dropped, without duplicates, at most {@link MAX_DROP_URLS}. */
  urls: string[];
  /** Items that looked like links but cannot be downloaded (`file:` from the Explorer, ...). */
  refused: RefusedDrop[];
}

// A token with a scheme (`file:///x`, `vscode-file://…`, `mailto:`) is a link the user meant to drop.
const LOOKS_LIKE_LINK = /^[a-z][a-z0-9+.-]*:\S/i;

/**
 * Picks the downloadable URLs out of a drop: the `text/uri-list` entries when there are any, else
 * every URL in the `text/plain` (separated by white space, or inside running text). `served`
 * narrows the schemes to those the running service reports.
 */
export function urlsFromDrop(uriList: string, text: string, served?: readonly string[]): DroppedUrls {
  const listed = uriList
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const tokens = listed.length > 0 ? listed : text.split(/\s+/).filter((t) => t !== '');
  const urls: string[] = [];
  const refused: RefusedDrop[] = [];
  for (const raw of tokens) {
    // In running text a URL may end a sentence or sit in brackets: punctuation after it is not
    // part of it (findUrl takes it out of brackets); a uri-list entry is taken as it is.
    const token = listed.length > 0 ? raw : raw.replace(/[.,;:!?]+$/, '');
    const problem = validateDownloadUrl(token, served);
    const url = problem === undefined ? token : findUrl(token, served);
    if (url !== undefined) {
      if (!urls.includes(url) && urls.length < MAX_DROP_URLS) urls.push(url);
    } else if (problem !== undefined && (listed.length > 0 || LOOKS_LIKE_LINK.test(token))) {
      refused.push({ item: token.length > 200 ? `${token.slice(0, 200)}…` : token, reason: problem });
    }
  }
  return { urls, refused };
}
