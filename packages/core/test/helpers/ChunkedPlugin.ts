import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { DownloadError, ErrorCodes, ProtocolPlugin, releaseBuffer } from '../../src/index.js';
import type { ByteSource, Job, RangeRequest, RemoteInfo } from '../../src/index.js';

/** Size of each chunk a {@link ChunkedPlugin} body yields. */
export const CHUNK = 64 * 1024;

export interface ChunkedPluginOptions {
  /** URL scheme it serves (with the colon). Default `mem:`. */
  scheme?: string;
  /**
   * Its sources' `ByteSource.written`: `count` records each write's bytes in `writes`, `release`
   * also frees the chunks written (`releaseBuffer`); without it the sources have none.
   */
  written?: 'count' | 'release';
  /** Keeps every chunk yielded in `yielded`, to look at later. */
  keep?: boolean;
  /** Its sources' `ByteSource.gatherBytes`. */
  gatherBytes?: number;
}

/**
 * One file served from memory in {@link CHUNK} chunks, each a copy in an ArrayBuffer of its own (as
 * socket reads are), one event-loop turn apart. `failAt` makes the body of a request that starts at
 * 0 fail (a connection reset) after that many bytes; `slowAfter` slows it to 30 ms a chunk after
 * that many bytes.
 */
export class ChunkedPlugin extends ProtocolPlugin {
  readonly name = 'ChunkedPlugin';
  readonly schemes: string[];
  /** Bytes of each write the engine reported (with `written`). */
  readonly writes: number[] = [];
  /** Every chunk yielded (with `keep`). */
  readonly yielded: Uint8Array[] = [];
  /** Bytes yielded, by every request. */
  served = 0;
  failAt: number | undefined;
  slowAfter: number | undefined;
  readonly #options: ChunkedPluginOptions;

  constructor(
    private readonly data: Buffer,
    options: ChunkedPluginOptions = {},
  ) {
    super();
    this.schemes = [options.scheme ?? 'mem:'];
    this.#options = options;
  }

  async probe(job: Job): Promise<RemoteInfo> {
    const size = this.data.length;
    return { url: new URL(job.url.href), size, ranges: true, validators: { etag: '"1"', size }, digests: [] };
  }

  async fetchRange(req: RangeRequest): Promise<ByteSource> {
    const end = req.end ?? this.data.length - 1;
    const { data } = this;
    const failAt = req.start === 0 ? this.failAt : undefined;
    const slowAfter = req.start === 0 ? this.slowAfter : undefined;
    const yielded = (chunk: Uint8Array): void => {
      this.served += chunk.byteLength;
      if (this.#options.keep === true) this.yielded.push(chunk);
    };
    async function* body(): AsyncGenerator<Uint8Array> {
      for (let at = req.start; at <= end; at += CHUNK) {
        await yieldToLoop();
        if (failAt !== undefined && at - req.start >= failAt) throw new DownloadError(ErrorCodes.CONNECTION_RESET, 'connection reset');
        if (slowAfter !== undefined && at - req.start >= slowAfter) await sleep(30, undefined, { signal: req.signal });
        const chunk = new Uint8Array(data.subarray(at, Math.min(end + 1, at + CHUNK)));
        yielded(chunk);
        yield chunk;
      }
    }
    const mode = this.#options.written;
    const written = (chunks: readonly Uint8Array[]): void => {
      this.writes.push(chunks.reduce((n, c) => n + c.byteLength, 0));
      if (mode === 'release') for (const c of chunks) releaseBuffer(c);
    };
    const gatherBytes = this.#options.gatherBytes;
    return {
      start: req.start,
      end,
      body: body(),
      cancel: () => undefined,
      ...(mode !== undefined ? { written } : {}),
      ...(gatherBytes !== undefined ? { gatherBytes } : {}),
    };
  }
}
