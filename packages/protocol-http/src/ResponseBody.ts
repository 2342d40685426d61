import { slabHandedOn, slabPinned, slabReleased } from '@multiget/core';
import type { Dispatcher } from 'undici';

/**
 * Bytes buffered per response before undici is asked to stop reading its socket. Large enough that
 * the socket keeps being read while the engine writes a batch (256 KiB) to disk, so reads and writes
 * overlap; small enough that the 64 connections of `-j 8 -c 8` hold at most 32 MiB of body between
 * them (1 MiB here put 30-50 MiB on the peak RSS of the bench's `many` profile).
 */
export const BODY_HIGH_WATER = 512 * 1024;

/** Waiting reader: woken when a chunk, the end or an error arrives. */
interface Waiter {
  resolve(): void;
}

/**
 * A response body fed by an undici dispatch handler: the chunks undici parses (views of the socket's
 * own read buffers, never copied) go into a queue the reader takes from, with no stream, event or
 * async-generator layer in between. At `highWater` buffered bytes it pauses undici (which stops
 * reading the socket, so TCP pushes back on the server); below half of it, it resumes.
 *
 * One reader. The producer side (`push`, `end`, `fail`) is called by the handler only.
 */
export class ResponseBody {
  readonly #chunks: Uint8Array[] = [];
  /** Index of the next chunk to hand out (the queue is compacted when it drains). */
  #head = 0;
  #buffered = 0;
  #ended = false;
  #error: unknown;
  #hasError = false;
  #waiter: Waiter | undefined;
  #controller: Dispatcher.DispatchController | undefined;
  #discarding = false;
  #discarded = 0;
  #discardLimit = 0;
  readonly #highWater: number;
  readonly #onSettled: () => void;
  /** What may be freed once written (see {@link Frees}). */
  readonly frees: Frees;
  /** True until the first chunk with bytes arrives, if that chunk may be freed with the head before it (see {@link isHeadTail}). */
  #headFree: boolean;
  /** The first chunk, when it is the rest of the socket read that held the response's head. */
  #headTail: Uint8Array | undefined;

  /**
   * @param highWater - Buffered bytes at which undici is paused.
   * @param onSettled - Called once when the body ends, fails or is canceled (to drop the abort listener).
   * @param frees - What of the socket's reads may be freed once written: less when something besides
   *   this body may still read them (see {@link Frees}).
   */
  constructor(highWater: number, onSettled: () => void, frees: Frees = 'all') {
    this.#highWater = highWater;
    this.#onSettled = onSettled;
    this.frees = frees;
    this.#headFree = frees === 'all';
  }

  /**
   * True once for the body's first chunk when that chunk is the rest of the socket read that began
   * with the response's head: the bytes before it in its buffer are the status line and headers,
   * which undici has parsed into strings, so the chunk may be freed with them once written
   * (`releaseBuffer(chunk, { unusedBefore: true })`). Without this, every response left one socket
   * read (up to 64 KiB) to the garbage collector: for a list of small files, most of their bytes.
   *
   * No other response's bytes can share that buffer: with one request at a time per connection
   * (`pipelining: 1`), undici destroys a connection whose read holds the next response's head in the
   * same read as the end of the last one, so a read that begins with a head belongs to that response
   * alone. The chunk must also run to the end of its buffer (no later bytes of this body in it).
   */
  isHeadTail(chunk: Uint8Array): boolean {
    if (chunk !== this.#headTail) return false;
    this.#headTail = undefined;
    return true;
  }

  /** True once every byte was received (the reader may not have taken them all yet). */
  get ended(): boolean {
    return this.#ended;
  }

  /** True once the body failed or was canceled. */
  get failed(): boolean {
    return this.#hasError;
  }

  /** Handler side: the controller that pauses, resumes and aborts this response. */
  attach(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
  }

  /** Handler side: a chunk arrived. */
  push(chunk: Uint8Array): void {
    if (this.#hasError) return;
    if (this.#discarding) {
      this.#discarded += chunk.byteLength;
      if (this.#discarded > this.#discardLimit) this.cancel();
      return;
    }
    // A slab holds several reads, maybe of several responses: it is freed by its own count of the
    // bytes handed on and written, never with a head (see `connectSlabSocket`).
    const slab = this.frees === 'all' ? slabHandedOn(chunk) : slabPinned(chunk);
    if (slab) {
      this.#headFree = false;
    } else if (this.#headFree && chunk.byteLength > 0) {
      this.#headFree = false;
      if (followsHead(chunk)) this.#headTail = chunk;
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    if (this.#buffered >= this.#highWater) this.#controller?.pause();
    this.#wake();
  }

  /** Handler side: the body is complete. */
  end(): void {
    if (this.#ended || this.#hasError) return;
    this.#ended = true;
    this.#onSettled();
    this.#wake();
  }

  /** Handler side: the response failed (network error, abort). */
  fail(error: unknown): void {
    if (this.#ended || this.#hasError) return;
    this.#hasError = true;
    this.#error = error;
    this.#onSettled();
    this.#wake();
  }

  /**
   * The next chunk if one is buffered; `null` at the end of the body; `undefined` when the reader has
   * to wait (see {@link wait}). Throws the body's error once the buffered chunks are taken.
   */
  take(): Uint8Array | null | undefined {
    if (this.#head < this.#chunks.length) {
      const chunk = this.#chunks[this.#head]!;
      this.#chunks[this.#head] = EMPTY; // drop the reference: the reader owns it now
      this.#head++;
      this.#buffered -= chunk.byteLength;
      if (this.#head === this.#chunks.length) {
        this.#chunks.length = 0;
        this.#head = 0;
      }
      const controller = this.#controller;
      if (controller?.paused === true && this.#buffered <= this.#highWater / 2 && !this.#ended) controller.resume();
      return chunk;
    }
    if (this.#hasError) throw this.#error;
    if (this.#ended) return null;
    return undefined;
  }

  /** Resolves when {@link take} has something to say (a chunk, the end or an error). */
  wait(): Promise<void> {
    if (this.#head < this.#chunks.length || this.#ended || this.#hasError) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#waiter = { resolve };
    });
  }

  /**
   * Stops the response: undici closes its connection rather than return it to the pool with unread
   * bytes. Buffered chunks are dropped. Safe to call more than once, and after the end.
   */
  cancel(reason?: unknown): void {
    if (this.#ended || this.#hasError) {
      this.#dropBuffered();
      return;
    }
    const error = new BodyCanceledError(reason);
    this.#hasError = true;
    this.#error = error;
    this.#dropBuffered();
    this.#controller?.abort(error);
    this.#onSettled();
    this.#wake();
  }

  /**
   * Throws the body away: one of at most `limit` bytes is read to its end so that its connection can
   * be reused; a longer one is canceled (its connection closed).
   */
  discard(limit: number): void {
    if (this.#ended || this.#hasError) {
      this.#dropBuffered();
      return;
    }
    this.#discarding = true;
    this.#discardLimit = limit;
    this.#discarded = this.#buffered;
    this.#dropBuffered();
    if (this.#discarded > limit) {
      this.cancel();
      return;
    }
    if (this.#controller?.paused === true) this.#controller.resume();
  }

  #dropBuffered(): void {
    // Handed-on slab bytes nobody will take: released, so that their slab can be freed.
    if (this.frees === 'all') for (let i = this.#head; i < this.#chunks.length; i++) slabReleased(this.#chunks[i]!);
    this.#headTail = undefined;
    this.#chunks.length = 0;
    this.#head = 0;
    this.#buffered = 0;
  }

  #wake(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    this.#waiter = undefined;
    waiter.resolve();
  }
}

const EMPTY = new Uint8Array(0);

/**
 * What of a response's socket reads its source may free once written:
 * - `all`: its chunks, and the read that held the head with the first chunk;
 * - `chunks`: its chunks only (a subscriber of undici's `undici:request:headers` diagnostics
 *   channel got views of the raw head);
 * - `none` (a subscriber of `undici:request:bodyChunkReceived` got every chunk).
 */
export type Frees = 'all' | 'chunks' | 'none';

/** "HTTP/", the start of a response's status line. */
const STATUS_LINE_START = [0x48, 0x54, 0x54, 0x50, 0x2f];

/** Whether `chunk` runs to the end of a buffer that begins with an HTTP response's status line. */
function followsHead(chunk: Uint8Array): boolean {
  const buffer = chunk.buffer;
  if (!(buffer instanceof ArrayBuffer) || chunk.byteOffset < STATUS_LINE_START.length || chunk.byteOffset + chunk.byteLength !== buffer.byteLength) return false;
  const start = new Uint8Array(buffer, 0, STATUS_LINE_START.length);
  return STATUS_LINE_START.every((byte, i) => start[i] === byte);
}

/** The error a canceled body ends with; the caller's reason (if any) is its cause. */
export class BodyCanceledError extends Error {
  readonly code = 'MG_BODY_CANCELED';
  constructor(reason: unknown) {
    super('The response body was canceled', reason === undefined ? undefined : { cause: reason });
    this.name = 'BodyCanceledError';
  }
}
