import type { Socket } from 'node:net';

/**
 * Per-path figures every server reports the same way: requests, bytes sent, transfers open now and
 * the most open at once. `reset` forgets the logged figures but restarts the high-water marks from
 * what is open now, so they stay true.
 */
export class TransferCounters {
  private openTotal = 0;
  private maxTotal = 0;
  private readonly openBy = new Map<string, number>();
  private maxBy = new Map<string, number>();
  private bytesBy = new Map<string, number>();

  /** A transfer of `key` began. */
  started(key: string): void {
    this.openTotal++;
    this.maxTotal = Math.max(this.maxTotal, this.openTotal);
    const open = (this.openBy.get(key) ?? 0) + 1;
    this.openBy.set(key, open);
    this.maxBy.set(key, Math.max(this.maxBy.get(key) ?? 0, open));
  }

  /** A transfer of `key` ended (however). */
  ended(key: string): void {
    this.openTotal--;
    this.openBy.set(key, (this.openBy.get(key) ?? 1) - 1);
  }

  /** `bytes` more of `key` were handed to the socket. */
  sent(key: string, bytes: number): void {
    this.bytesBy.set(key, (this.bytesBy.get(key) ?? 0) + bytes);
  }

  /** Most transfers open at once (of `key`, or of all). */
  maxConcurrent(key?: string): number {
    return key === undefined ? this.maxTotal : (this.maxBy.get(key) ?? 0);
  }

  /** Bytes sent (of `key`, or of all). */
  bytes(key?: string): number {
    if (key !== undefined) return this.bytesBy.get(key) ?? 0;
    let total = 0;
    for (const n of this.bytesBy.values()) total += n;
    return total;
  }

  /** Forget bytes; high-water marks restart from what is open now. */
  reset(): void {
    this.bytesBy = new Map();
    this.maxTotal = this.openTotal;
    this.maxBy = new Map(this.openBy);
  }
}

/**
 * The sockets of a server, so that `close()` leaves none behind (stalled or mid-handshake ones
 * included), and its connections: numbered from 1 in the order they were accepted, counted open now
 * and at most.
 */
export class SocketTracker {
  private readonly sockets = new Set<Socket>();
  private readonly ids = new WeakMap<Socket, number>();
  private accepted = 0;
  private openNow = 0;
  private peak = 0;
  private closing = false;

  /**
   * Keeps `socket` until it closes so that {@link destroyAll} reaches it. Once the server is closing,
   * destroys it at once and returns false.
   */
  track(socket: Socket): boolean {
    if (this.closing) {
      socket.destroy();
      return false;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return true;
  }

  /** Tracks `socket` as a new connection and returns its number (1 for the first). */
  connection(socket: Socket): number {
    this.track(socket);
    const id = ++this.accepted;
    this.ids.set(socket, id);
    this.openNow++;
    this.peak = Math.max(this.peak, this.openNow);
    socket.once('close', () => this.openNow--);
    return id;
  }

  /** The number {@link connection} gave `socket`, or 0. */
  id(socket: Socket): number {
    return this.ids.get(socket) ?? 0;
  }

  /** Connections accepted since start. */
  opened(): number {
    return this.accepted;
  }

  /** Connections open now. */
  open(): number {
    return this.openNow;
  }

  /** Most connections open at once since start or {@link resetPeak}. */
  maxOpen(): number {
    return this.peak;
  }

  /** The high-water mark restarts from what is open now. */
  resetPeak(): void {
    this.peak = this.openNow;
  }

  /** Destroys every tracked socket (a connection loss for every client), still accepting new ones. */
  dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Destroys every tracked socket; sockets tracked later are destroyed at once. */
  destroyAll(): void {
    this.closing = true;
    this.dropAll();
  }
}
