import { redactUrl, withoutUserinfo } from '../log/redact.js';

/*
 * The texts an entry's URL is written as, worked out once per URL object: the queue is written
 * after its changes and every change is shown to front-ends, and parsing and editing each entry's
 * URL again every time cost 650 ms of a service's 5 s of CPU in a batch of 1,020 downloads (the
 * stored form, at every write of the queue) and a URL parse per event of every download (the
 * shown form; `--cpu-prof`). An entry's URL object is never changed in place: a new link
 * (`updateUrl`) is a new object.
 */
const stored = new WeakMap<URL, string>();
const shown = new WeakMap<URL, string>();

function once(cache: WeakMap<URL, string>, url: URL, make: (url: URL) => string): string {
  let text = cache.get(url);
  if (text === undefined) {
    text = make(url);
    cache.set(url, text);
  }
  return text;
}

/** The URL as the store keeps it: without user name, password and fragment (`withoutUserinfo`). */
export function storedHref(url: URL): string {
  return once(stored, url, (u) => withoutUserinfo(u).href);
}

/** The URL as snapshots show it: credentials, fragment and secret query parameters redacted (`redactUrl`). */
export function shownHref(url: URL): string {
  return once(shown, url, redactUrl);
}
