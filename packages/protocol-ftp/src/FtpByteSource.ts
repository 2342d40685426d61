import {
  AbortError,
  ErrorCodes,
  NetworkError,
  RemoteChangedError,
  isDownloadError,
  releaseBuffer,
  type ByteSource,
  type DownloadError,
  type Validators,
} from '@multiget/core';
import { ftpFailure, replyError, type FtpFailureContext } from './ftpErrors.js';
import type { FtpSession } from './FtpSession.js';
import type { FtpTransfer } from './FtpTransfer.js';
import type { SessionPool } from './SessionPool.js';

/** What a source needs to read its transfer and hand its session back. */
export interface FtpByteSourceInit {
  readonly session: FtpSession;
  readonly transfer: FtpTransfer;
  readonly pool: SessionPool;
  /** Offset of the first byte (the REST offset). */
  readonly start: number;
  /** Inclusive offset of the last byte wanted, or undefined for "to the end of the file". */
  readonly end: number | undefined;
  /** The file size the probe saw, when known. */
  readonly size: number | undefined;
  /** The remote path, for the checks after the transfer. */
  readonly path: string;
  /** What the bytes must belong to: SIZE and MDTM are checked against them after the transfer. */
  readonly validators: Validators;
  readonly context: FtpFailureContext;
  /** Aborting it cancels the source with the signal's reason. */
  readonly signal: AbortSignal;
  /** Milliseconds to wait for the server's final reply after closing a transfer early. */
  readonly drainMs: number;
}

type State = 'open' | 'settling' | 'settled';

/**
 * A RETR as a {@link ByteSource}: yields exactly the bytes [start, end] and then ends the
 * transfer cleanly.
 *
 * - When the range stops before the end of the file (or the engine stops reading early), the data
 *   connection is closed and the server's final reply (426, or 226) awaited before the session
 *   goes back to the pool; a server that does not answer within `drainMs` costs its session.
 * - When the range runs to the end of the file, the end of the data and a 2xx reply are required:
 *   fewer bytes than expected are MG_ERR_SHORT_BODY; an unknown length ends only with a 2xx
 *   reply, never with the data connection merely closing (MG_ERR_CONNECTION_RESET otherwise).
 * - After the transfer, SIZE and MDTM are asked again: a file replaced while it was being read
 *   fails the source with MG_ERR_REMOTE_CHANGED (the engine then starts over), so two versions are
 *   never mixed. A server has no atomic "RETR if unchanged", so this check brackets the transfer
 *   with the one made before it.
 * - `cancel()` (or the signal) drops the transfer at once; the session is recovered in the
 *   background when the server answers in time.
 */
export class FtpByteSource implements ByteSource {
  /** Offset of the first byte. */
  readonly start: number;
  /** Inclusive offset of the last byte, or undefined when the length is unknown. */
  readonly end: number | undefined;
  /** The bytes; iterate once. */
  readonly body: AsyncIterable<Uint8Array>;
  private state: State = 'open';
  private received = 0;
  private readonly onAbort: () => void;

  constructor(private readonly init: FtpByteSourceInit) {
    this.start = init.start;
    this.end = init.end ?? (init.size === undefined ? undefined : init.size - 1);
    this.body = { [Symbol.asyncIterator]: () => this.iterate() };
    this.onAbort = () => this.cancel(init.signal.reason);
    if (init.signal.aborted) queueMicrotask(this.onAbort);
    else init.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /**
   * The engine wrote these chunks: free their memory now. They are the data connection's socket
   * reads, one ArrayBuffer each, which nothing else keeps once delivered (a paused socket keeps
   * only what it has not delivered yet).
   */
  written(chunks: readonly Uint8Array[]): void {
    for (const c of chunks) releaseBuffer(c);
  }

  /** Drops the transfer without reading the rest. Safe to call more than once, and after the end. */
  cancel(reason?: unknown): void {
    if (this.state === 'settled') return;
    const interrupted = this.state === 'settling';
    this.state = 'settled';
    this.init.signal.removeEventListener('abort', this.onAbort);
    const { transfer, session, pool, drainMs } = this.init;
    const error = isDownloadError(reason)
      ? reason
      : new AbortError(`The transfer of ${this.init.context.where} was cancelled`, { cause: reason, url: this.init.context.where });
    transfer.abort(error);
    if (interrupted) {
      // The final checks were under way; their outcome no longer matters.
      pool.discard(session);
      return;
    }
    void transfer.drain(drainMs).then((synced) => (synced ? pool.release(session) : pool.discard(session)));
  }

  /** Bytes yielded so far. */
  get bytesRead(): number {
    return this.received;
  }

  private get expected(): number | undefined {
    return this.end === undefined ? undefined : this.end - this.start + 1;
  }

  /** True when the last byte wanted is the last byte of the file (or the length is unknown). */
  private get toEndOfFile(): boolean {
    return this.end === undefined || (this.init.size !== undefined && this.end === this.init.size - 1);
  }

  private async *iterate(): AsyncGenerator<Uint8Array> {
    const expected = this.expected;
    let completed = false;
    try {
      while (expected === undefined || this.received < expected) {
        const chunk = await this.next();
        if (chunk === null) break;
        let piece = chunk;
        if (expected !== undefined && this.received + chunk.byteLength > expected) {
          if (this.toEndOfFile) throw this.grew();
          piece = chunk.subarray(0, expected - this.received);
        }
        this.received += piece.byteLength;
        yield piece;
      }
      if (this.toEndOfFile) await this.confirmEnd();
      completed = true;
    } finally {
      await this.settle(completed);
    }
  }

  /** The next chunk from the transfer, with its failures mapped. */
  private async next(): Promise<Buffer | null> {
    try {
      return await this.init.transfer.read();
    } catch (err) {
      throw this.failure(err);
    }
  }

  /**
   * At the end of the file. With every byte of a known length in, the data must end with nothing
   * more (a longer file is another version); the count is the proof of completeness. Short of it,
   * or with the length unknown, RETR must get a 2xx reply: the data connection merely closing
   * proves nothing.
   */
  private async confirmEnd(): Promise<void> {
    const { transfer, context } = this.init;
    const expected = this.expected;
    if (expected !== undefined && this.received === expected) {
      if (transfer.reachedEnd) return;
      let extra: Buffer | null;
      try {
        extra = await this.next();
      } catch {
        // Every byte is in: a failure after them costs nothing but the session.
        return;
      }
      if (extra !== null && extra.byteLength > 0) throw this.grew();
      return;
    }
    const ending = await transfer.ending();
    if (ending.kind === 'lost') throw this.failure(ending.error);
    if (ending.code >= 300) throw this.failure(replyError(ending.code, ending.message, { ...context, step: 'transfer' }));
    if (expected !== undefined) {
      throw new NetworkError(
        ErrorCodes.SHORT_BODY,
        `The transfer of ${context.where} ended after ${this.received} of ${expected} bytes (FTP ${ending.code})`,
        { ftpCode: ending.code, url: context.where },
      );
    }
  }

  private grew(): DownloadError {
    return new RemoteChangedError(`${this.init.context.where} sent more bytes than its SIZE of ${this.init.size ?? '?'}`, {
      url: this.init.context.where,
    });
  }

  /**
   * Maps a failure of the transfer: a cut with the length known is MG_ERR_SHORT_BODY (retryable,
   * from where it stopped); the FTP reply code travels in `ftpCode`.
   */
  private failure(err: unknown): DownloadError {
    const { context, signal } = this.init;
    const mapped = isDownloadError(err) ? err : ftpFailure(err, { ...context, step: 'transfer' }, signal);
    const expected = this.expected;
    if (mapped.code === ErrorCodes.CONNECTION_RESET && expected !== undefined && this.received < expected) {
      return new NetworkError(
        ErrorCodes.SHORT_BODY,
        `The transfer of ${context.where} broke off after ${this.received} of ${expected} bytes: ${mapped.message}`,
        {
          cause: err,
          url: context.where,
          ...(mapped.ftpCode === undefined ? {} : { ftpCode: mapped.ftpCode }),
          ...(mapped.errno === undefined ? {} : { errno: mapped.errno }),
        },
      );
    }
    return mapped;
  }

  /**
   * Ends the transfer and hands the session back: waits until the server's final reply is in
   * (closing the data connection first when bytes are left), then checks that the file did not
   * change underneath. Throws only MG_ERR_REMOTE_CHANGED; every other problem costs the session,
   * not the bytes already delivered.
   */
  private async settle(completed: boolean): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'settling';
    this.init.signal.removeEventListener('abort', this.onAbort);
    const { transfer, session, pool, drainMs, validators, path, context } = this.init;
    try {
      if (!transfer.synced && !transfer.lost) {
        const allIn = this.expected !== undefined && this.received === this.expected;
        // The tail of a file ends by itself; anything else is cut short by closing the data.
        const endsByItself = this.toEndOfFile && (completed || allIn);
        if (!endsByItself) transfer.closeData();
        if (!(await transfer.drain(drainMs)) && endsByItself) {
          transfer.closeData();
          await transfer.drain(drainMs);
        }
      }
      if ((this.state as State) !== 'settling' || !transfer.synced) {
        pool.discard(session);
        return;
      }
      if (this.received > 0 && (validators.mtime !== undefined || validators.size !== undefined)) {
        let change: string | undefined;
        try {
          change = await session.changedSince(path, validators, this.init.size);
        } catch {
          pool.discard(session);
          return;
        }
        if (change !== undefined) {
          pool.release(session);
          throw new RemoteChangedError(`${context.where} changed while it was being read: ${change}`, { url: context.where });
        }
      }
      pool.release(session);
    } finally {
      this.state = 'settled';
    }
  }
}
