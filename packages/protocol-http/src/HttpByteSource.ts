import { ErrorCodes, NetworkError, ProtocolError, releaseBuffer, slabReleased, type ByteSource, type DownloadError } from '@multiget/core';
import { abortError, displayUrl, transportError } from './httpErrors.js';
import { BodyCanceledError, type ResponseBody } from './ResponseBody.js';

/** Errors that mean "the peer went away", which with a known length is a short body. */
const CUT_OFF = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH']);

/**
 * A response body as a {@link ByteSource}: yields undici's chunks as they arrive (no copies), counts
 * them, and turns every way a body can go wrong into a DownloadError.
 *
 * - The stream ends before `end - start + 1` bytes (length known): MG_ERR_SHORT_BODY; so does a
 *   connection cut mid-body when the length is known.
 * - A connection cut with the length unknown (a chunked body without its terminator):
 *   MG_ERR_CONNECTION_RESET.
 * - More bytes than announced: MG_ERR_PROTOCOL for a whole body; MG_ERR_BAD_CONTENT_RANGE for the
 *   body of a 206, whose Content-Range then cannot be trusted (the engine falls back to one plain
 *   stream). The extra bytes are never yielded.
 * - The request's signal aborts: its reason if that is a DownloadError, else MG_ERR_ABORTED.
 *
 * The iterator is a plain object over the `ResponseBody` queue: a chunk already buffered is
 * handed out at once, with no stream or generator between the socket and the engine. Breaking out
 * of iteration or calling `cancel()` aborts the response, which makes undici close the connection
 * rather than return it to the pool with unread bytes.
 */
export class HttpByteSource implements ByteSource {
  /** Offset of the first byte. */
  readonly start: number;
  /** Inclusive offset of the last byte, or undefined when the length is unknown. */
  readonly end: number | undefined;
  /** The bytes; iterate once. */
  readonly body: AsyncIterable<Uint8Array>;
  private readonly response: ResponseBody;
  private readonly framing: 'range' | 'whole';

  /**
   * @param response - The response's body, not yet read (from the plugin's dispatch handler).
   * @param start - Offset of its first byte in the remote file.
   * @param end - Inclusive offset of its last byte, or undefined when unknown.
   * @param url - The URL it came from, for error messages.
   * @param signal - The request's signal, to tell an abort from a network failure.
   * @param framing - `'range'` for the body of a 206 (its length comes from Content-Range), `'whole'`
   *   (the default) for a 200.
   */
  constructor(response: ResponseBody, start: number, end: number | undefined, url: URL, signal: AbortSignal, framing: 'range' | 'whole' = 'whole') {
    this.response = response;
    this.framing = framing;
    this.start = start;
    this.end = end;
    const expected = end === undefined ? undefined : end - start + 1;
    this.body = { [Symbol.asyncIterator]: () => new BodyIterator(this, expected, url, signal) };
  }

  /**
   * The engine wrote these chunks, or dropped them: free their memory now. A chunk of a direct
   * http:// connection is a view of a slab, freed once all its chunks were released (`slabReleased`,
   * see `slabConnector`). Others (https://, proxies) are undici's views of Node's socket
   * reads, one ArrayBuffer per read, and undici keeps no reference to one after delivering it (a
   * pause puts back into the socket only the bytes after it). `releaseBuffer` never frees an empty
   * chunk: when undici resumes a paused body on an empty socket, it delivers an empty view of a
   * buffer it shares across connections. The first chunk, when it is the rest of the read that held
   * the response's head, is freed with that head (`ResponseBody.isHeadTail`). Nothing is freed while
   * a diagnostics subscriber may hold views of the reads (`ResponseBody.frees`).
   */
  written(chunks: readonly Uint8Array[]): void {
    if (this.response.frees === 'none') return;
    for (const c of chunks) if (!slabReleased(c) && !releaseBuffer(c) && this.response.isHeadTail(c)) releaseBuffer(c, { unusedBefore: true });
  }

  /** Aborts the response (and so its connection) without reading the rest. Safe to call more than once. */
  cancel(reason?: unknown): void {
    this.response.cancel(reason);
  }

  /** @internal The queue the iterator reads. */
  get source(): ResponseBody {
    return this.response;
  }

  /** @internal The error for more bytes than announced. */
  overrun(expected: number, url: URL): DownloadError {
    return new ProtocolError(
      this.framing === 'range' ? ErrorCodes.BAD_CONTENT_RANGE : ErrorCodes.PROTOCOL,
      this.framing === 'range'
        ? `The 206 body of ${displayUrl(url)} runs past the ${expected} bytes of its Content-Range`
        : `The body of ${displayUrl(url)} is longer than the ${expected} bytes announced`,
      { url: displayUrl(url) },
    );
  }
}

/** Iterates one {@link HttpByteSource}: counts bytes, checks framing, maps errors. */
class BodyIterator implements AsyncIterator<Uint8Array> {
  private received = 0;
  private finished = false;

  constructor(
    private readonly owner: HttpByteSource,
    private readonly expected: number | undefined,
    private readonly url: URL,
    private readonly signal: AbortSignal,
  ) {}

  async next(): Promise<IteratorResult<Uint8Array>> {
    if (this.finished) return { done: true, value: undefined };
    const body = this.owner.source;
    try {
      for (;;) {
        const chunk = body.take();
        if (chunk === undefined) {
          await body.wait();
          continue;
        }
        if (chunk === null) break;
        this.received += chunk.byteLength;
        if (this.expected !== undefined && this.received > this.expected) throw this.owner.overrun(this.expected, this.url);
        return { done: false, value: chunk };
      }
    } catch (err) {
      this.finish();
      throw bodyError(err, this.received, this.expected, this.url, this.signal);
    }
    this.finished = true;
    if (this.expected !== undefined && this.received < this.expected) {
      throw new NetworkError(
        ErrorCodes.SHORT_BODY,
        `The body of ${displayUrl(this.url)} ended after ${this.received} of ${this.expected} bytes`,
        { url: displayUrl(this.url) },
      );
    }
    return { done: true, value: undefined };
  }

  /** Breaking out of iteration: an unfinished body must not hold its socket. */
  async return(): Promise<IteratorResult<Uint8Array>> {
    this.finish();
    return { done: true, value: undefined };
  }

  private finish(): void {
    this.finished = true;
    if (!this.owner.source.ended) this.owner.cancel();
  }
}

function bodyError(err: unknown, received: number, expected: number | undefined, url: URL, signal: AbortSignal): DownloadError {
  // Canceled here (a break, cancel(), the signal): the reason given, if it is a DownloadError, else MG_ERR_ABORTED.
  if (err instanceof BodyCanceledError) return abortError(signal.aborted ? signal.reason : err.cause, url);
  const code = (err as { code?: unknown } | null)?.code;
  if (!signal.aborted && expected !== undefined && received < expected && typeof code === 'string' && CUT_OFF.has(code)) {
    return new NetworkError(
      ErrorCodes.SHORT_BODY,
      `The connection for ${displayUrl(url)} closed after ${received} of ${expected} bytes`,
      { cause: err, url: displayUrl(url), ...(/^E[A-Z]+$/.test(code) ? { errno: code } : {}) },
    );
  }
  return transportError(err, url, signal);
}
