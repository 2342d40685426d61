import type { Readable } from 'node:stream';
import { ErrorCodes, NetworkError, ProtocolError, type ByteSource, type DownloadError } from '@multiget/core';
import { displayUrl, transportError } from './httpErrors.js';

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
 * Breaking out of iteration or calling `cancel()` destroys the stream, which makes undici close the
 * connection rather than return it to the pool with unread bytes.
 */
export class HttpByteSource implements ByteSource {
  /** Offset of the first byte. */
  readonly start: number;
  /** Inclusive offset of the last byte, or undefined when the length is unknown. */
  readonly end: number | undefined;
  /** The bytes; iterate once. */
  readonly body: AsyncIterable<Uint8Array>;
  private readonly stream: Readable;
  private readonly framing: 'range' | 'whole';
  private streamError: unknown;

  /**
   * @param stream - undici's response body, not yet read.
   * @param start - Offset of its first byte in the remote file.
   * @param end - Inclusive offset of its last byte, or undefined when unknown.
   * @param url - The URL it came from, for error messages.
   * @param signal - The request's signal, to tell an abort from a network failure.
   * @param framing - `'range'` for the body of a 206 (its length comes from Content-Range), `'whole'`
   *   (the default) for a 200.
   */
  constructor(stream: Readable, start: number, end: number | undefined, url: URL, signal: AbortSignal, framing: 'range' | 'whole' = 'whole') {
    this.stream = stream;
    this.framing = framing;
    this.start = start;
    this.end = end;
    // The engine may hold the source a while before reading it; an error in the meantime must not
    // become an uncaught 'error' event, and must still reach the reader.
    stream.on('error', (err: unknown) => {
      this.streamError ??= err;
    });
    const expected = end === undefined ? undefined : end - start + 1;
    this.body = { [Symbol.asyncIterator]: () => this.iterate(expected, url, signal) };
  }

  /** Destroys the body (and so its connection) without reading the rest. Safe to call more than once. */
  cancel(_reason?: unknown): void {
    if (!this.stream.destroyed) this.stream.destroy();
  }

  private async *iterate(expected: number | undefined, url: URL, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    let received = 0;
    try {
      for await (const chunk of this.stream as AsyncIterable<Uint8Array>) {
        received += chunk.byteLength;
        if (expected !== undefined && received > expected) {
          throw new ProtocolError(
            this.framing === 'range' ? ErrorCodes.BAD_CONTENT_RANGE : ErrorCodes.PROTOCOL,
            this.framing === 'range'
              ? `The 206 body of ${displayUrl(url)} runs past the ${expected} bytes of its Content-Range`
              : `The body of ${displayUrl(url)} is longer than the ${expected} bytes announced`,
            { url: displayUrl(url) },
          );
        }
        yield chunk;
      }
      if (this.streamError !== undefined) throw this.streamError;
    } catch (err) {
      throw this.bodyError(err, received, expected, url, signal);
    } finally {
      // Covers early exits (break, a thrown error): an unfinished body must not hold its socket.
      if (!this.stream.readableEnded) this.cancel();
    }
    if (expected !== undefined && received < expected) {
      throw new NetworkError(
        ErrorCodes.SHORT_BODY,
        `The body of ${displayUrl(url)} ended after ${received} of ${expected} bytes`,
        { url: displayUrl(url) },
      );
    }
  }

  private bodyError(
    err: unknown,
    received: number,
    expected: number | undefined,
    url: URL,
    signal: AbortSignal,
  ): DownloadError {
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
}
