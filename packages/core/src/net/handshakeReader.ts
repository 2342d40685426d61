import type { Socket } from 'node:net';

/**
 * Reads a proxy handshake off a socket in paused mode, so that bytes past the handshake (a server
 * greeting that arrived in the same packet as the proxy's reply) stay in the socket's buffer for
 * whoever reads next. Once `release()` is called, the socket is left with no reader attached and
 * not flowing: the next `'data'` listener receives those bytes first.
 */
export class HandshakeReader {
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private ended = false;
  private readonly onReadable = (): void => this.notify();
  private readonly onEnd = (): void => {
    this.ended = true;
    this.notify();
  };
  private readonly onError = (err: Error): void => {
    this.failure ??= err;
    this.notify();
  };

  constructor(private readonly socket: Socket) {
    socket.on('readable', this.onReadable);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  /**
   * Exactly `n` bytes.
   *
   * @throws Error - the socket failed, or it ended first (`code` `ERR_PROXY_CLOSED`).
   */
  async read(n: number): Promise<Buffer> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const chunk = this.socket.read(n) as Buffer | null;
      if (chunk !== null) {
        if (chunk.length === n) return chunk;
        // The stream ended with fewer bytes: read(n) then hands over what is left.
        this.ended = true;
      }
      if (this.ended) throw Object.assign(new Error('The proxy closed the connection during the handshake'), { code: 'ERR_PROXY_CLOSED' });
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /**
   * Bytes up to and including the first `\r\n\r\n` (an HTTP response head), at most `limit`.
   *
   * @throws Error - the socket failed or ended first, or the head is longer than `limit`.
   */
  async readHead(limit: number): Promise<Buffer> {
    let head = Buffer.alloc(0);
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const chunk = this.socket.read() as Buffer | null;
      if (chunk !== null) {
        const searchFrom = Math.max(0, head.length - 3);
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n', searchFrom);
        if (end >= 0) {
          const rest = head.subarray(end + 4);
          if (rest.length > 0) this.socket.unshift(rest);
          return head.subarray(0, end + 4);
        }
        if (head.length > limit) throw new Error(`The proxy's response head is longer than ${limit} bytes`);
        continue;
      }
      if (this.ended) throw Object.assign(new Error('The proxy closed the connection during the handshake'), { code: 'ERR_PROXY_CLOSED' });
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Detaches the reader; the socket's buffered bytes stay for the next reader. */
  release(): void {
    this.socket.off('readable', this.onReadable);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
