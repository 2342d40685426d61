/**
 * The example of docs/plugins.md: a protocol plugin for `data:` URLs (RFC 2397), which carry their
 * bytes in the URL itself, so it needs no network. Compiled by `npm run docs` (docs/examples/
 * tsconfig.json) and run by docs/examples/dataUrlExample.ts, so the page cannot drift from the API.
 */
import { ErrorCodes, ProtocolPlugin, RemoteChangedError, UsageError } from '@multiget/core';
import type { ByteSource, Job, RangeRequest, RemoteInfo } from '@multiget/core';

/** The name every tap of this plugin uses (and `Multiget.unuse` would match). */
const PLUGIN_NAME = 'DataUrlPlugin';

/** Bytes handed out per chunk: a real driver yields what its socket gives; this one slices. */
const CHUNK = 16 * 1024;

/** Serves `data:[<media type>][;base64],<data>` URLs, with ranges, from memory. */
export class DataUrlPlugin extends ProtocolPlugin {
  /** The plugin's name, used for every tap. */
  readonly name = PLUGIN_NAME;
  /** URL schemes served, with the colon, as `URL.protocol` spells them. */
  readonly schemes = ['data:'];

  /** Decodes the URL once to learn the size; a data: URL always "supports" ranges. */
  async probe(job: Job): Promise<RemoteInfo> {
    const { bytes, mediaType } = decodeDataUrl(job.url);
    return {
      url: job.url,
      size: bytes.length,
      ranges: true,
      // What identifies this version of the "remote" file; compared again on resume.
      validators: { size: bytes.length },
      fileName: 'data.bin',
      digests: [],
      contentType: mediaType,
    };
  }

  /** Yields exactly the bytes [req.start, req.end] and stops when the engine aborts `req.signal`. */
  async fetchRange(req: RangeRequest, job: Job): Promise<ByteSource> {
    const { bytes } = decodeDataUrl(job.url);
    // Checked against what the probe saw: partial data of another version must never be mixed in.
    if (req.size !== undefined && req.size !== bytes.length) {
      throw new RemoteChangedError(`size is ${bytes.length}, expected ${req.size}`);
    }
    const end = req.end ?? bytes.length - 1;
    let cancelled = false;
    async function* body(): AsyncGenerator<Uint8Array> {
      for (let at = req.start; at <= end && !cancelled; at += CHUNK) {
        req.signal.throwIfAborted();
        yield bytes.subarray(at, Math.min(end + 1, at + CHUNK));
      }
    }
    return {
      start: req.start,
      end,
      body: body(),
      cancel: () => {
        cancelled = true;
      },
    };
  }
}

/** Splits a data: URL into its bytes and media type; a malformed one is a usage error with a code. */
export function decodeDataUrl(url: URL): { bytes: Buffer; mediaType: string } {
  const comma = url.pathname.indexOf(',');
  if (comma < 0) throw new UsageError(ErrorCodes.INVALID_URL, 'a data: URL needs a comma before its data');
  const meta = url.pathname.slice(0, comma);
  const payload = url.pathname.slice(comma + 1) + url.search;
  const base64 = meta.endsWith(';base64');
  const mediaType = (base64 ? meta.slice(0, -';base64'.length) : meta) || 'text/plain;charset=US-ASCII';
  const bytes = base64 ? Buffer.from(decodeURIComponent(payload), 'base64') : Buffer.from(decodeURIComponent(payload), 'latin1');
  return { bytes, mediaType };
}
