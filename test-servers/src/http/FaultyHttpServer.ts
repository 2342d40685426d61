import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http, { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ifRangeMatches, parseRange, type RangeOutcome } from './byteRange.js';
import { testCertificate } from '../certificate.js';
import { digestHeaders } from './digests.js';
import { SocketTracker, TransferCounters } from '../counters.js';
import { contentSize, readContent } from '../generatedContent.js';
import { pumpBody, type BodyEnding } from './pumpBody.js';
import { ServedFile, type Representation } from './ServedFile.js';
import type { FileContent } from '../content.js';
import type {
  FileOptions,
  HttpFaults,
  HttpServerOptions,
  HttpTestServer,
  RequestRecord,
} from './types.js';

const EMPTY = Buffer.alloc(0);

interface LogEntry {
  /** The registered path the request resolved to (or its path without query when nothing matched). */
  readonly route: string;
  readonly record: RequestRecord;
}

interface Redirect {
  readonly location: string;
  readonly status: number;
}

/** Everything one request needs while it is being answered. */
interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly record: RequestRecord;
  /** Aborts when the response closes, which cancels timers and pending writes. */
  readonly signal: AbortSignal;
}

function pathOf(target: string): string {
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

function lowerCaseHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/**
 * A 206 that answers a neighbouring range: one byte later when the file allows, else one byte
 * earlier, else (the whole file was asked) one byte short. A one-byte file cannot be misanswered.
 */
function shiftRange(start: number, end: number, size: number): [number, number] {
  if (end + 1 < size) return [start + 1, end + 1];
  if (start > 0) return [start - 1, end - 1];
  if (end > start) return [start + 1, end];
  return [start, end];
}

/**
 * The HTTP(S) server behind {@link HttpTestServer}: files and redirects by path, faults per file, a
 * request log, and a `close()` that leaves no socket behind.
 */
export class FaultyHttpServer implements HttpTestServer {
  private readonly files = new Map<string, ServedFile>();
  private readonly redirects = new Map<string, Redirect>();
  private log: LogEntry[] = [];
  private readonly sockets = new SocketTracker();
  private readonly counters = new TransferCounters();
  private closing: Promise<void> | undefined;
  /** Signs the links of `signed` files (see signUrl); random per server, so a link of one server is forged for another. */
  private readonly signingKey = randomBytes(32);

  private constructor(
    private readonly server: http.Server,
    /** See {@link HttpTestServer.origin}. */
    readonly origin: string,
    /** See {@link HttpTestServer.port}. */
    readonly port: number,
    /** See {@link HttpTestServer.ca}. */
    readonly ca: string | undefined,
  ) {
    const tls = ca !== undefined;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
    // With TLS the raw socket is tracked (so close() ends handshakes) and the secure one counted.
    server.on('connection', (socket: Socket) => {
      if (tls) this.sockets.track(socket);
      else this.sockets.connection(socket);
    });
    if (tls) server.on('secureConnection', (socket: Socket) => this.sockets.connection(socket));
  }

  /** Creates the server and listens on port 0 of `host` (default 127.0.0.1). */
  static async listen(options: HttpServerOptions = {}): Promise<FaultyHttpServer> {
    const host = options.host ?? '127.0.0.1';
    // A larger socket buffer lets a few 256 KiB slices queue before backpressure, which keeps
    // loopback transfers near memory speed for the benchmark.
    const common = { highWaterMark: 1024 * 1024, keepAliveTimeout: 30_000 };
    let server: http.Server;
    let ca: string | undefined;
    if (options.tls === true) {
      const certificate = await testCertificate();
      ca = certificate.cert;
      server = https.createServer({ ...common, key: certificate.key, cert: certificate.cert });
    } else {
      server = http.createServer(common);
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const hostInUrl = host.includes(':') ? `[${host}]` : host;
    return new FaultyHttpServer(server, `${ca === undefined ? 'http' : 'https'}://${hostInUrl}:${port}`, port, ca);
  }

  /** {@inheritDoc HttpTestServer.url} */
  url(path: string): string {
    return this.origin + (path.startsWith('/') ? path : `/${path}`);
  }

  /** {@inheritDoc HttpTestServer.signUrl} */
  signUrl(path: string, expiresAt?: number): string {
    // Without a deadline: a token of the file's `signedLinks` fault (a byte budget).
    if (expiresAt === undefined) return `${this.url(path)}?sig=${this.file(path).signLink()}`;
    const p = path.startsWith('/') ? path : `/${path}`;
    const expires = String(Math.floor(expiresAt));
    return `${this.url(p)}?expires=${expires}&sig=${this.signature(p, expires)}`;
  }

  private signature(path: string, expires: string): string {
    return createHmac('sha256', this.signingKey).update(`${path}\n${expires}`).digest('hex');
  }

  /** True when a request target carries a signature of its path that has not expired. */
  private signedAndValid(target: string): boolean {
    const url = new URL(target, 'http://x');
    const expires = url.searchParams.get('expires') ?? '';
    const sig = url.searchParams.get('sig') ?? '';
    const want = this.signature(url.pathname, expires);
    return /^\d+$/.test(expires) && Number(expires) > Date.now() && sig.length === want.length && timingSafeEqual(Buffer.from(sig), Buffer.from(want));
  }

  /** {@inheritDoc HttpTestServer.addFile} */
  addFile(path: string, content: FileContent, options: FileOptions = {}): void {
    if (this.files.has(path) || this.redirects.has(path)) throw new Error(`${path} is already served`);
    this.files.set(path, new ServedFile(path, content, options));
  }

  /** {@inheritDoc HttpTestServer.replaceFile} */
  replaceFile(path: string, content: FileContent, options?: Pick<FileOptions, 'etag' | 'lastModified'>): void {
    this.file(path).replace(content, options);
  }

  /** {@inheritDoc HttpTestServer.setFaults} */
  setFaults(path: string, faults: HttpFaults): void {
    this.file(path).setFaults(faults);
  }

  /** {@inheritDoc HttpTestServer.fileContent} */
  fileContent(path: string): FileContent {
    return this.file(path).current.content;
  }

  /** {@inheritDoc HttpTestServer.addRedirect} */
  addRedirect(path: string, location: string, status: 301 | 302 | 303 | 307 | 308 = 302): void {
    if (this.files.has(path) || this.redirects.has(path)) throw new Error(`${path} is already served`);
    this.redirects.set(path, { location, status });
  }

  /** {@inheritDoc HttpTestServer.requests} */
  requests(path?: string): RequestRecord[] {
    return this.log
      .filter((entry) => path === undefined || entry.route === path || entry.record.path === path
        || pathOf(entry.record.path) === path)
      .map(({ record }) => ({ ...record, headers: { ...record.headers }, faults: [...record.faults] }));
  }

  /** {@inheritDoc HttpTestServer.maxConcurrentRequests} */
  maxConcurrentRequests(path?: string): number {
    return this.counters.maxConcurrent(path);
  }

  /** {@inheritDoc HttpTestServer.bytesServed} */
  bytesServed(path?: string): number {
    return this.counters.bytes(path);
  }

  /** {@inheritDoc HttpTestServer.connectionsOpened} */
  connectionsOpened(): number {
    return this.sockets.opened();
  }

  /** {@inheritDoc HttpTestServer.resetLog} */
  resetLog(): void {
    this.log = [];
    this.counters.reset();
  }

  /** {@inheritDoc HttpTestServer.close} */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      // closeAllConnections only knows sockets the HTTP parser adopted; a TLS handshake in
      // progress or a raw socket under a TLS one would otherwise keep close() waiting.
      this.sockets.destroyAll();
    });
    return this.closing;
  }

  private file(path: string): ServedFile {
    const file = this.files.get(path);
    if (file === undefined) throw new Error(`no file at ${path}`);
    return file;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const target = req.url ?? '/';
    const path = pathOf(target);
    const fileKey = this.files.has(target) ? target : this.files.has(path) ? path : undefined;
    const redirectKey = this.redirects.has(target) ? target : this.redirects.has(path) ? path : undefined;
    const route = fileKey ?? redirectKey ?? path;
    const record: RequestRecord = {
      method: req.method ?? 'GET',
      path: target,
      headers: lowerCaseHeaders(req),
      status: 0,
      bytesSent: 0,
      connectionId: this.sockets.id(req.socket),
      faults: [],
      done: false,
    };
    this.log.push({ route, record });
    this.counters.started(route);
    const aborter = new AbortController();
    res.once('close', () => {
      record.done = true;
      this.counters.ended(route);
      aborter.abort();
    });
    const exchange: Exchange = { req, res, record, signal: aborter.signal };

    if (fileKey !== undefined) {
      const file = this.file(fileKey);
      this.serveFile(file, exchange).catch((error: unknown) => this.failed(exchange, error));
      return;
    }
    const redirect = redirectKey === undefined ? undefined : this.redirects.get(redirectKey);
    if (redirect !== undefined) this.sendStatus(exchange, redirect.status, { location: redirect.location });
    else this.sendStatus(exchange, 404);
  }

  private failed({ res }: Exchange, error: unknown): void {
    if (isAbort(error) || res.destroyed) return;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const text = `test server error: ${error instanceof Error ? error.message : String(error)}\n`;
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(Buffer.from(text));
  }

  /** A short plain-text response (errors, redirects, injected statuses). */
  private sendStatus({ req, res, record }: Exchange, status: number, headers: OutgoingHttpHeaders = {}): void {
    const text = status === 204 || status === 304 ? '' : `${status} ${STATUS_CODES[status] ?? ''}\n`;
    record.status = status;
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    // A Buffer, never a string: with a string body Node writes the head as UTF-8 (see EMPTY).
    res.end(req.method === 'HEAD' ? undefined : Buffer.from(text));
  }

  /**
   * A 200 whose head is written to the socket by hand, with `line` (exact bytes) among its headers,
   * then the body and the end of the connection: Node's own writer refuses such bytes.
   */
  private sendRawHead({ req, res, record }: Exchange, line: Buffer, content: FileContent): void {
    const body = req.method === 'HEAD' ? EMPTY : readContent(content, 0, contentSize(content));
    const head = Buffer.concat([
      Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n`, 'latin1'),
      line,
      Buffer.from(`\r\ncontent-length: ${contentSize(content)}\r\nconnection: close\r\n\r\n`, 'latin1'),
    ]);
    record.status = 200;
    const socket = res.socket;
    if (socket === null) return;
    record.bytesSent += body.length;
    socket.end(Buffer.concat([head, body]), () => socket.destroy());
  }

  private async serveFile(file: ServedFile, exchange: Exchange): Promise<void> {
    const { req, record, signal } = exchange;
    const faults = file.faults;
    const latency = faults.latencyMs ?? 0;
    const wait = async (): Promise<void> => {
      if (latency > 0) {
        record.faults.push('latencyMs');
        await sleep(latency, undefined, { signal });
      }
    };

    if (file.options.signed === true && !this.signedAndValid(req.url ?? '/')) {
      // A signed link past its deadline (or forged): what object stores and CDNs answer.
      record.faults.push('signed');
      this.sendStatus(exchange, 403);
      return;
    }
    if (!file.authorized(req.headers.authorization)) {
      await wait();
      this.sendStatus(exchange, 401, { 'www-authenticate': file.challenge() });
      return;
    }
    const { nth, refuse, replace } = file.admit();
    if (replace) record.faults.push('replaceAfterRequests');
    let linkToken: string | undefined;
    if (faults.signedLinks !== undefined) {
      linkToken = new URLSearchParams(record.path.slice(pathOf(record.path).length)).get('sig') ?? '';
      if (file.linkLeft(linkToken) <= 0) {
        record.faults.push('signedLinks');
        await wait();
        this.sendStatus(exchange, faults.signedLinks.status ?? 403);
        return;
      }
    }
    if (refuse !== undefined) {
      record.faults.push(refuse.fault);
      await wait();
      const { code, retryAfter } = refuse;
      const size = file.current.size + (faults.wrongLength ?? 0);
      this.sendStatus(exchange, code, {
        ...(code === 416 ? { 'content-range': `bytes */${size}` } : {}),
        ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }),
      });
      return;
    }
    if (faults.maxConnections !== undefined && file.serving >= faults.maxConnections) {
      record.faults.push('maxConnections');
      await wait();
      this.sendStatus(exchange, 503, { 'retry-after': '1' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      await wait();
      this.sendStatus(exchange, 405, { allow: 'GET, HEAD' });
      return;
    }
    if (faults.rawHeaderLine !== undefined) {
      record.faults.push('rawHeaderLine');
      await wait();
      this.sendRawHead(exchange, faults.rawHeaderLine, file.current.content);
      return;
    }
    file.serving++;
    exchange.res.once('close', () => file.serving--);
    // The representation is fixed now: a replacement during the latency must not mix versions.
    const representation = file.current;
    await wait();
    await this.serveRepresentation(file, representation, nth, exchange, linkToken);
  }

  private rangeOutcome(file: ServedFile, representation: Representation, { req, record }: Exchange): RangeOutcome {
    const range = req.headers.range;
    if (range === undefined) return { kind: 'ignore' };
    if (file.faults.chunked === true) return { kind: 'ignore' };
    if (file.faults.refuseRanges === true) {
      record.faults.push('refuseRanges');
      return { kind: 'ignore' };
    }
    const outcome = parseRange(range, representation.size + (file.faults.wrongLength ?? 0));
    if (file.faults.rangeFromZeroOnly === true && outcome.kind === 'range' && outcome.start !== 0) {
      record.faults.push('rangeFromZeroOnly');
      return { kind: 'unsatisfiable' };
    }
    // Node types unknown headers as string | string[]; If-Range is single-valued.
    const raw = req.headers['if-range'];
    const ifRange = Array.isArray(raw) ? raw.join(', ') : raw;
    if (outcome.kind !== 'ignore' && ifRange !== undefined
      && !ifRangeMatches(ifRange, representation.etag, representation.lastModified)) {
      return { kind: 'ignore' };
    }
    return outcome;
  }

  private async serveRepresentation(
    file: ServedFile,
    representation: Representation,
    nth: number,
    exchange: Exchange,
    linkToken?: string,
  ): Promise<void> {
    const { req, res, record, signal } = exchange;
    const faults = file.faults;
    // The size announced; with wrongLength more than the bytes there are (served until they end).
    const size = representation.size + (faults.wrongLength ?? 0);
    if (faults.wrongLength !== undefined) record.faults.push('wrongLength');
    const chunked = faults.chunked === true;
    if (chunked) record.faults.push('chunked');

    const headers: OutgoingHttpHeaders = { 'content-type': file.contentType };
    if (representation.etag !== undefined) headers['etag'] = representation.etag;
    if (representation.lastModified !== undefined) headers['last-modified'] = representation.lastModified;
    if (file.contentDisposition !== undefined) headers['content-disposition'] = file.contentDisposition;
    if (file.options.links !== undefined) headers['link'] = file.options.links;
    if (!chunked) headers['accept-ranges'] = 'bytes';
    if (faults.contentEncoding !== undefined) {
      record.faults.push('contentEncoding');
      headers['content-encoding'] = faults.contentEncoding;
    }

    const outcome = this.rangeOutcome(file, representation, exchange);
    if (outcome.kind === 'unsatisfiable') {
      // The validators tell the client which version it was measured against; the type is ours.
      const { 'content-type': _fileType, ...validators } = headers;
      this.sendStatus(exchange, 416, { ...validators, 'content-range': `bytes */${size}` });
      return;
    }
    let status = 200;
    let start = 0;
    let end = size; // exclusive
    if (outcome.kind === 'range') {
      status = 206;
      [start, end] = [outcome.start, outcome.end + 1];
      if (faults.wrongContentRange === true) {
        const [shiftedStart, shiftedEnd] = shiftRange(outcome.start, outcome.end, size);
        if (shiftedStart !== outcome.start || shiftedEnd !== outcome.end) record.faults.push('wrongContentRange');
        [start, end] = [shiftedStart, shiftedEnd + 1];
      }
      headers['content-range'] = `bytes ${start}-${end - 1}/${size}`;
    }
    const digest = file.options.digest;
    if (digest !== undefined) {
      const digests = await representation.rawDigests(digest.wrong === true);
      signal.throwIfAborted();
      Object.assign(headers, digestHeaders(digests, digest, status === 200));
    }
    const trailing = status === 206 ? (faults.trailingBytesAfterRange ?? 0) : 0;
    if (trailing > 0) record.faults.push('trailingBytesAfterRange');
    // How the body ends, decided before the head: a cut body goes chunked so that it can end cleanly.
    const length = end - start;
    let ending: BodyEnding = 'end';
    const get = req.method !== 'HEAD';
    const drop = get ? file.faultState.take('drop', length) : undefined;
    const cut = get && drop === undefined ? file.faultState.take('cut', length) : undefined;
    const stall = get && drop === undefined && cut === undefined ? file.faultState.take('stall', length) : undefined;
    if (drop !== undefined) {
      record.faults.push('dropAfterBytes');
      ending = 'drop';
      end = start + drop;
    } else if (cut !== undefined) {
      record.faults.push('cutAfterBytes');
      end = start + cut;
    } else if (stall !== undefined) {
      record.faults.push('stallAfterBytes');
      ending = 'stall';
      end = start + stall;
    }
    // With wrongLength the bytes run out before the announced end: the connection closes there.
    if (end > representation.size && ending === 'end') {
      end = representation.size;
      ending = 'drop';
    }
    if (chunked || trailing > 0 || cut !== undefined) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = length;

    record.status = status;
    res.writeHead(status, headers);
    if (!get) {
      res.end();
      return;
    }

    let bytesPerSec = faults.throttleBytesPerSec;
    if (faults.slowRequest !== undefined && faults.slowRequest.nth === nth) {
      record.faults.push('slowRequest');
      bytesPerSec = faults.slowRequest.bytesPerSec;
    } else if (bytesPerSec !== undefined) {
      record.faults.push('throttleBytesPerSec');
    }
    // The status line goes out now, not with the first (possibly paced or withheld) body write.
    // An empty Buffer rather than flushHeaders(): Node sends the head as UTF-8 in that path, which
    // would re-encode the raw bytes of a hostile Content-Disposition.
    res.write(EMPTY);
    await pumpBody(res, {
      content: representation.content,
      start,
      end,
      bytesPerSec,
      ending,
      ...(trailing > 0 ? { trailer: Buffer.alloc(trailing, 0x2a) } : {}),
      onSent: (bytes) => {
        record.bytesSent += bytes;
        this.counters.sent(file.path, bytes);
        if (linkToken !== undefined) file.spendLink(linkToken, bytes);
      },
      ...(linkToken === undefined ? {} : {
        // The link expires when its bytes are spent, by this response or by others under way at
        // once: each write takes what is left, and the response is cut there.
        allowance: (wanted: number) => {
          const allowed = Math.min(wanted, file.linkLeft(linkToken));
          if (allowed < wanted && !record.faults.includes('signedLinks')) record.faults.push('signedLinks');
          return allowed;
        },
      }),
    }, signal);
  }
}
