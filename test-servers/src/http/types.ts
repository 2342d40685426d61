/**
 * Public types of the test servers. Kept apart from the implementations so that a test can import
 * the shapes without pulling in `node:http` machinery, and so the docs live in one place.
 */
import type { FileContent } from '../content.js';
import type { TransferFaults } from '../faults.js';

/**
 * Named faults of one served file: the shared vocabulary ({@link TransferFaults}: throttle, drop,
 * cut, stall, replace, wrong length, status, failTimes, refuseRanges) and HTTP's own. Every field is
 * optional and independent; counters ("the first N requests", "the nth request") count the requests
 * that reached the file (after authentication) since the faults were last set with `addFile` or
 * `setFaults`.
 */
export interface HttpFaults extends TransferFaults {
  /** Milliseconds to wait before the status line of every response of this file. */
  latencyMs?: number;
  /** Answer Range requests with a 206 whose Content-Range (and bytes) are shifted from what was asked. */
  wrongContentRange?: boolean;
  /** No Content-Length, `Transfer-Encoding: chunked`, no Accept-Ranges, Range ignored. */
  chunked?: boolean;
  /** 503 with `Retry-After: 1` when more than N responses of this file would be open at once. */
  maxConnections?: number;
  /** The nth request (1-based) of this file is throttled to `bytesPerSec`: one slow connection among fast ones. */
  slowRequest?: { nth: number; bytesPerSec: number };
  /** Add this Content-Encoding header (the bytes are not encoded), to test that encoded ranges are refused. */
  contentEncoding?: string;
  /**
   * Answer every Range request whose first byte is not 0 with `416` and `Content-Range: bytes
   * *\/size` (a server whose ranges only work from the start); `bytes=0-...` is served normally.
   */
  rangeFromZeroOnly?: boolean;
  /**
   * Send every 206 without Content-Length (chunked) and with this many extra bytes after the range,
   * in the same write as its last bytes: a body longer than its Content-Range says.
   */
  trailingBytesAfterRange?: number;
  /**
   * Write the response head straight to the socket with this exact header line among its headers
   * (for bytes Node refuses to send: a NUL, a bare CR, a space in a name), then the whole body with
   * its Content-Length, then close the connection.
   */
  rawHeaderLine?: Buffer;
  /**
   * Links that expire, as presigned URLs do: a request must carry `?sig=TOKEN` with a token from
   * `signUrl`. A token is good for `afterBytes` body bytes in all, across every response under it:
   * each write takes what is left, a response is cut (its socket destroyed) where nothing is, and
   * then the token's requests get `status` (default 403).
   */
  signedLinks?: { afterBytes: number; status?: number };
}

/** How a file is served, beyond its bytes. */
export interface FileOptions {
  /**
   * Default: a strong ETag derived from the content and its version, changed by every replacement.
   * A string is sent verbatim and kept across replacements (to model servers whose validators lie);
   * `false` sends none.
   */
  etag?: string | false;
  /**
   * Default: an HTTP date, moved forward by at least a second on every replacement. A string is sent
   * verbatim and kept across replacements; `false` sends none.
   */
  lastModified?: string | false;
  /**
   * Sent verbatim, for hostile file name tests: a string goes on the wire as its raw UTF-8 bytes
   * (as many servers do, RFC or not); a Buffer as exactly its bytes (Latin-1, invalid UTF-8 ...).
   * Control characters are refused (Node cannot send them).
   */
  contentDisposition?: string | Buffer;
  /** Default `application/octet-stream`. */
  contentType?: string;
  /** `Link` header values sent on every response of the file (e.g. `<http://…>; rel=duplicate`). */
  links?: string[];
  /**
   * Integrity headers. `reprDigest` (RFC 9530 `sha-256=:base64:`) and `digest` (RFC 3230
   * `SHA-256=base64`) describe the whole representation, so they go on 200, 206 and HEAD;
   * `contentMd5` describes the body, so it goes only on full 200 responses (and their HEAD).
   * `wrong` sends digests of different bytes.
   */
  digest?: { reprDigest?: boolean; digest?: boolean; contentMd5?: boolean; wrong?: boolean };
  /**
   * A signed link: every request needs the `?expires=MS&sig=HEX` that `signUrl` makes, before its
   * deadline; other requests (unsigned, forged, expired) get 403.
   */
  signed?: boolean;
  /** 401 with `WWW-Authenticate` (Basic or Bearer) unless the request carries these credentials. */
  auth?: { username: string; password: string } | { bearer: string };
  /** Faults switched on from the start; replace them later with `setFaults`. */
  faults?: HttpFaults;
}

/** One request as the server saw it. */
export interface RequestRecord {
  /** Request method as sent (`GET`, `HEAD` ...). */
  method: string;
  /** The request target as sent (path and query). */
  path: string;
  /** Request headers with lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** Status sent, or 0 while the status line has not been written yet (latency, or a dropped socket). */
  status: number;
  /** Body bytes handed to the socket so far. */
  bytesSent: number;
  /** Which connection carried it: 1 for the first accepted connection, and so on. */
  connectionId: number;
  /** Names of the faults (`HttpFaults` keys) that shaped this response, e.g. `['dropAfterBytes']`. */
  faults: string[];
  /** True once the response ended or its socket closed. */
  done: boolean;
}

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  /** Serve HTTPS with a certificate generated at start; its PEM is `ca`. Default false. */
  tls?: boolean;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
}

/** A running HTTP(S) server with named faults; see {@link startHttpServer}. */
export interface HttpTestServer {
  /** `http://127.0.0.1:PORT` or `https://...` (IPv6 hosts in brackets). */
  readonly origin: string;
  /** The port the OS picked. */
  readonly port: number;
  /** PEM of the self-signed certificate a client must trust (TLS only), valid for 127.0.0.1, localhost and ::1. */
  readonly ca: string | undefined;
  /** `origin + path`; `path` starts with `/`. */
  url(path: string): string;
  /** Serve `content` at `path` (exact request target, or its path without the query). Throws if taken. */
  addFile(path: string, content: FileContent, options?: FileOptions): void;
  /**
   * New bytes at `path`: new version, so a new default ETag and a later Last-Modified. `options`
   * may replace the explicit validators too.
   */
  replaceFile(path: string, content: FileContent, options?: Pick<FileOptions, 'etag' | 'lastModified'>): void;
  /**
   * A signed URL of `path`. With `expiresAt` (a file added with `signed: true`): accepted until
   * then (milliseconds since the epoch), answered with 403 after it. Without: a fresh link
   * (`origin + path + '?sig=TOKEN'`) with a new token of the file's `signedLinks` fault, what a
   * client gets when it asks for a new presigned URL of the same file.
   */
  signUrl(path: string, expiresAt?: number): string;
  /** Replace the faults of a file at run time; resets its fault counters. */
  setFaults(path: string, faults: HttpFaults): void;
  /** The content `path` serves now (after any `replaceAfterRequests`). */
  fileContent(path: string): FileContent;
  /** Answer `path` with `status` (default 302) and `Location: location` (sent verbatim; may be relative). */
  addRedirect(path: string, location: string, status?: 301 | 302 | 303 | 307 | 308): void;
  /** Copies of the logged requests, oldest first; with `path`, only those for that path. */
  requests(path?: string): RequestRecord[];
  /** Highest number of simultaneously open responses seen (of `path`, or of the whole server). */
  maxConcurrentRequests(path?: string): number;
  /** Body bytes handed to the socket for `path` (or for every path), since start or `resetLog`. */
  bytesServed(path?: string): number;
  /** TCP (or, for TLS, handshaken) connections accepted since start. */
  connectionsOpened(): number;
  /** Forget logged requests, bytes served and the concurrency high-water marks (fault counters are kept). */
  resetLog(): void;
  /** Stop listening and destroy every socket, stalled or not, so tests never hang. */
  close(): Promise<void>;
}

/** One request that reached the proxy. */
export interface ProxyRequestRecord {
  /** `CONNECT` for tunnels, else the forwarded method. */
  method: string;
  /** The absolute URI, or `host:port` for CONNECT. */
  target: string;
  /** Request headers with lower-case names. */
  headers: Record<string, string>;
}

/** Options of {@link startProxyServer}. */
export interface ProxyServerOptions {
  /** Require `Proxy-Authorization: Basic` with these credentials; 407 otherwise. */
  auth?: { username: string; password: string };
  /** Speak TLS to clients (an `https://` proxy) with a self-signed certificate for 127.0.0.1; its PEM is `ca`. */
  tls?: boolean;
}

/** A running HTTP forward proxy; see {@link startProxyServer}. */
export interface ProxyTestServer {
  /** `http://127.0.0.1:PORT` (`https://` with `tls`), the value for a client's proxy setting. */
  readonly url: string;
  /** The certificate (PEM) to trust for an `https://` proxy; undefined without `tls`. */
  readonly ca: string | undefined;
  /** Copies of the requests seen, oldest first, including the ones refused with 407. */
  requests(): ProxyRequestRecord[];
  /** Stop listening and destroy every socket and tunnel. */
  close(): Promise<void>;
}
