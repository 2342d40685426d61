import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

/** Options of {@link startLatencyRelay}. */
export interface LatencyRelayOptions {
  /** Where every accepted connection is relayed to. */
  readonly target: { readonly host: string; readonly port: number };
  /** Delay added to every byte, in each direction (a round trip gains twice this). */
  readonly delayMs: number;
  /** Listening address. Default 127.0.0.1. */
  readonly host?: string;
  /** Bytes held in flight per direction before the sender is paused (a bandwidth-delay product). Default 16 MiB. */
  readonly bufferBytes?: number;
}

/** A running relay; see {@link startLatencyRelay}. */
export interface LatencyRelay {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  connectionsAccepted(): number;
  /**
   * Writes a receiving side refused so far (its buffer was full: it reads slower than the sender
   * sends); each time the relay stops reading the sender until the receiver drains.
   */
  writesRefused(): number;
  /** Stops listening and destroys every relayed connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * A TCP relay on a loopback port that forwards each connection to `target` and delays every chunk
 * by `delayMs` in each direction, keeping order: a stand-in for a distant server (a 20 ms round trip
 * with `delayMs: 10`) where the kernel's netem qdisc is not available. The bandwidth is whatever
 * loopback and this process give. Ends and errors travel through (an end after the data before it).
 */
export async function startLatencyRelay(options: LatencyRelayOptions): Promise<LatencyRelay> {
  const delayMs = options.delayMs;
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`delayMs must be >= 0, got ${delayMs}`);
  const bufferBytes = options.bufferBytes ?? 16 * 1024 * 1024;
  const sockets = new Set<Socket>();
  let accepted = 0;
  const counters = { refused: 0 };
  // Half-open: one side's end must not end the other before the delayed bytes have gone through.
  const server = createServer({ allowHalfOpen: true }, (client) => {
    accepted++;
    const upstream = createConnection({ host: options.target.host, port: options.target.port, allowHalfOpen: true });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => sockets.delete(socket));
      // One side failing ends the pair, as a broken path would.
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    relay(client, upstream, delayMs, bufferBytes, counters);
    relay(upstream, client, delayMs, bufferBytes, counters);
  });
  server.listen(0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('The relay has no TCP address');
  let closing: Promise<void> | undefined;
  return {
    host: address.address,
    port: address.port,
    connectionsAccepted: () => accepted,
    writesRefused: () => counters.refused,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      })),
  };
}

/** Copies `from` to `to`, each chunk `delayMs` later, pausing `from` while too much is held. */
function relay(from: Socket, to: Socket, delayMs: number, bufferBytes: number, counters: { refused: number }): void {
  let held = 0;
  let waitingDrain = false;
  const maybeResume = (): void => {
    if (held < bufferBytes && !waitingDrain && from.isPaused()) from.resume();
  };
  to.on('drain', () => {
    waitingDrain = false;
    maybeResume();
  });
  from.on('data', (chunk: Buffer) => {
    held += chunk.length;
    if (held >= bufferBytes) from.pause();
    // Timers of the same duration fire in the order they were set: the byte order is kept.
    setTimeout(() => {
      held -= chunk.length;
      if (!to.destroyed && !to.write(chunk)) {
        waitingDrain = true;
        counters.refused++;
      }
      maybeResume();
    }, delayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), delayMs));
}
