import type { Readable } from 'node:stream';
import { AbstractMessageReader, type DataCallback, type Disposable, type Message, type MessageReader } from 'vscode-languageserver/node';

/**
 * Largest frame body accepted. `multiget/addMany` carries at most 1000 items whose URLs are each at
 * most 64 KiB, so a legitimate frame stays well below this; anything larger is a broken or hostile
 * client, and buffering it would only grow memory.
 */
export const MAX_FRAME_BYTES = 96 * 1024 * 1024;
/** Longest header block (all header lines and the blank line): LSP sends two short headers. */
const MAX_HEADER_BYTES = 8192;

/** A frame that breaks the LSP base protocol; the stream cannot be trusted past it. */
export class FramingError extends Error {
  /** The class name, for logs. */
  override readonly name = 'FramingError';
}

/**
 * Reads LSP-framed JSON-RPC messages (`Content-Length: N\r\n\r\n` + N bytes of JSON) from a stream,
 * strictly: every malformed frame is a {@link FramingError} on `onError`, after which the reader
 * reads nothing more, so its owner ends the stream in order.
 *
 * Why not vscode-jsonrpc's StreamMessageReader: it takes `Content-Length: -5` or `1e3` as a length
 * (`parseInt`) and then waits forever, lets a second Content-Length silently win, buffers a body
 * of any announced size, and drops a body that is not JSON while carrying on. Each of those leaves
 * a service alive but deaf, or out of step with its client. A frame is malformed when:
 *
 * - a header line is not `Name: value` with a token name, or the header block is longer than
 *   8 KiB or is not ASCII;
 * - Content-Length is missing, given twice, not a plain decimal, or larger than {@link MAX_FRAME_BYTES};
 * - Content-Type names a charset other than UTF-8;
 * - the body is not UTF-8 JSON, or is JSON but not an object (LSP has no batches).
 *
 * A JSON object that is not a valid JSON-RPC message is passed on: the connection answers or drops
 * it, as JSON-RPC asks, and the stream stays in step.
 */
export class StrictMessageReader extends AbstractMessageReader implements MessageReader {
  readonly #input: Readable;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Body length of the frame being read, once its headers are in. */
  #bodyLength: number | undefined;
  #failed = false;
  #callback: DataCallback | undefined;

  constructor(input: Readable) {
    super();
    this.#input = input;
  }

  /** Starts reading; `callback` gets each message (vscode-jsonrpc's MessageReader contract). */
  listen(callback: DataCallback): Disposable {
    this.#callback = callback;
    const onData = (chunk: Buffer): void => this.#onData(chunk);
    const onClose = (): void => this.fireClose();
    const onError = (err: Error): void => this.fireError(err);
    this.#input.on('data', onData);
    this.#input.on('close', onClose);
    this.#input.on('end', onClose);
    this.#input.on('error', onError);
    return {
      dispose: () => {
        this.#input.off('data', onData);
        this.#input.off('close', onClose);
        this.#input.off('end', onClose);
        this.#input.off('error', onError);
      },
    };
  }

  #fail(message: string): void {
    this.#failed = true;
    this.#chunks = [];
    this.#buffered = 0;
    this.fireError(new FramingError(message));
  }

  #onData(chunk: Buffer): void {
    if (this.#failed) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    while (!this.#failed) {
      if (this.#bodyLength === undefined) {
        if (!this.#readHeaders()) return;
      } else {
        if (this.#buffered < this.#bodyLength) return;
        const body = this.#take(this.#bodyLength);
        this.#bodyLength = undefined;
        const message = this.#parseBody(body);
        if (message === undefined) return;
        this.#callback?.(message);
      }
    }
  }

  /** Consumes the header block once it is complete; false while more bytes are needed. */
  #readHeaders(): boolean {
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks = [all];
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      if (all.length > MAX_HEADER_BYTES) this.#fail(`the header block is longer than ${MAX_HEADER_BYTES} bytes`);
      return false;
    }
    if (end + 4 > MAX_HEADER_BYTES) {
      this.#fail(`the header block is longer than ${MAX_HEADER_BYTES} bytes`);
      return false;
    }
    const block = all.subarray(0, end);
    this.#take(end + 4);
    if (block.some((b) => b > 0x7e || (b < 0x20 && b !== 0x0d && b !== 0x0a && b !== 0x09))) {
      this.#fail('a header holds a byte that is not printable ASCII');
      return false;
    }
    let length: number | undefined;
    for (const line of block.toString('latin1').split('\r\n')) {
      const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
      if (m === null) {
        this.#fail(`bad header line ${JSON.stringify(line.slice(0, 80))} (expected "Name: value")`);
        return false;
      }
      const name = m[1]!.toLowerCase();
      const value = m[2]!;
      if (name === 'content-length') {
        if (length !== undefined) {
          this.#fail('Content-Length is given twice');
          return false;
        }
        if (!/^\d{1,10}$/.test(value)) {
          this.#fail(`Content-Length ${JSON.stringify(value.slice(0, 40))} is not a decimal byte count`);
          return false;
        }
        length = Number(value);
        if (length > MAX_FRAME_BYTES) {
          this.#fail(`Content-Length ${length} is larger than the ${MAX_FRAME_BYTES} bytes a frame may have`);
          return false;
        }
      } else if (name === 'content-type') {
        const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(value)?.[1];
        if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
          this.#fail(`Content-Type charset ${charset} is not UTF-8`);
          return false;
        }
      }
    }
    if (length === undefined) {
      this.#fail('the frame has no Content-Length header');
      return false;
    }
    this.#bodyLength = length;
    return true;
  }

  /** The first `n` buffered bytes, removed from the buffer. */
  #take(n: number): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return out;
  }

  #parseBody(body: Buffer): Message | undefined {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      this.#fail('the body is not valid UTF-8');
      return undefined;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      this.#fail(`the body is not JSON (${err instanceof Error ? err.message : String(err)})`);
      return undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.#fail('the body is not a JSON object (JSON-RPC batches are not part of LSP)');
      return undefined;
    }
    return value as Message;
  }
}
