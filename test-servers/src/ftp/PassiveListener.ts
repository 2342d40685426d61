import net, { type AddressInfo, type Socket } from 'node:net';

/** Strips the IPv4-mapped prefix so `::ffff:127.0.0.1` and `127.0.0.1` compare equal. */
export function plainAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/i, '');
}

/**
 * The listener of one passive-mode data connection (PASV or EPSV): a port on the control
 * connection's local address that accepts exactly one connection, and only from the control
 * connection's peer, so nobody else can steal the data (RFC 2577 §5).
 */
export class PassiveListener {
  private accepted: Socket | undefined;
  private handedOut = false;
  private waiter: ((socket: Socket | undefined) => void) | undefined;
  private closed = false;

  private constructor(
    private readonly server: net.Server,
    /** The port the OS picked. */
    readonly port: number,
    private readonly peer: string,
    private readonly track: (socket: Socket) => void,
  ) {
    server.on('connection', (socket: Socket) => this.onConnection(socket));
  }

  /** Listens on `host` port 0 for a connection from `peer`. */
  static async open(host: string, peer: string, track: (socket: Socket) => void): Promise<PassiveListener> {
    const server = net.createServer({ highWaterMark: 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new PassiveListener(server, (server.address() as AddressInfo).port, plainAddress(peer), track);
  }

  /**
   * The data connection: at once if it already arrived, else when it does. Resolves undefined
   * after `timeoutMs` or when the listener is closed first.
   */
  async accept(timeoutMs: number): Promise<Socket | undefined> {
    if (this.accepted !== undefined) {
      this.handedOut = true;
      return this.accepted;
    }
    if (this.closed) return undefined;
    return await new Promise<Socket | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        this.close();
        resolve(undefined);
      }, timeoutMs);
      this.waiter = (socket) => {
        clearTimeout(timer);
        this.waiter = undefined;
        if (socket !== undefined) this.handedOut = true;
        resolve(socket);
      };
    });
  }

  /** Stops listening; a connection not yet handed out is destroyed. */
  close(): void {
    if (!this.closed) {
      this.closed = true;
      this.server.close();
    }
    this.waiter?.(undefined);
    if (this.accepted !== undefined && !this.handedOut) this.accepted.destroy();
  }

  /** Stops listening and destroys the connection even if it was handed out. */
  destroy(): void {
    this.close();
    this.accepted?.destroy();
  }

  private onConnection(socket: Socket): void {
    this.track(socket);
    if (this.accepted !== undefined || this.closed || plainAddress(socket.remoteAddress) !== this.peer) {
      socket.destroy();
      return;
    }
    this.accepted = socket;
    // One connection per listener: stop listening at once so the port cannot be raced.
    this.server.close();
    this.waiter?.(socket);
  }
}
