/** Options of {@link startSocksServer}. */
export interface SocksServerOptions {
  /** Require user name/password authentication (RFC 1929) with these credentials; no other method is offered then. */
  auth?: { username: string; password: string };
  /**
   * Host names only this proxy can resolve, mapped to the address it connects to: a `socks5h://`
   * client reaches them, a client that resolves names itself cannot.
   */
  hosts?: Record<string, string>;
}

/** How a SOCKS5 request ended. */
export type SocksOutcome =
  /** The tunnel was opened. */
  | 'connected'
  /** The client offered no method the server accepts. */
  | 'no-method'
  /** User name or password did not match. */
  | 'auth-failed'
  /** A command other than CONNECT. */
  | 'unsupported'
  /** The destination could not be reached (refused, unresolvable). */
  | 'unreachable';

/** One client connection to the SOCKS5 server. */
export interface SocksConnectionRecord {
  /** The address type of the CONNECT request (`domain` for a name the proxy resolves). */
  addressType?: 'ipv4' | 'ipv6' | 'domain';
  /** The destination as requested: an address, or the name for `domain`. */
  host?: string;
  /** The destination port. */
  port?: number;
  /** The user name that authenticated (or tried to). */
  username?: string;
  /** How the request ended; undefined while the handshake is still running. */
  outcome?: SocksOutcome;
  /** Bytes relayed from the destination to the client so far. */
  bytesToClient: number;
}

/** A running SOCKS5 server; see {@link startSocksServer}. */
export interface SocksTestServer {
  /** `socks5://127.0.0.1:PORT` (no credentials). */
  readonly url: string;
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** Copies of the connection records, oldest first. */
  connections(): SocksConnectionRecord[];
  /** Stop listening and destroy every connection and tunnel. */
  close(): Promise<void>;
}
