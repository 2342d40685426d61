import {
  AbortError,
  ErrorCodes,
  ProtocolError,
  ProtocolPlugin,
  ProxyResolver,
  RemoteChangedError,
  UsageError,
  redactHeaders,
  redactUrl,
  withoutUserinfo,
  type ByteSource,
  type Job,
  type RangeRequest,
  type RemoteInfo,
  type Validators,
  validatorMismatch,
  sameOrigin,
} from '@multiget/core';
import { parseContentDisposition } from './contentDisposition.js';
import { parseContentRange } from './contentRange.js';
import { createDispatcher, type Transport } from './createDispatcher.js';
import { parseDigestHeaders } from './digestHeaders.js';
import { firstHeader, isEncoded, parseLength, type HeaderMap } from './headerValues.js';
import { HttpByteSource } from './HttpByteSource.js';
import { duplicatesOf } from './linkHeader.js';
import { displayUrl, statusError, transportError } from './httpErrors.js';
import { carriesUserData, requestHeaders } from './requestHeaders.js';
import type { ResponseBody } from './ResponseBody.js';
import { sendRequest, type HttpResponse } from './sendRequest.js';

const PLUGIN_NAME = 'HttpPlugin';

/** Statuses whose Location is followed (RFC 9110 §15.4). 300, 304, 305 and 306 are not redirects to follow. */
const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Rejected bodies up to this size are read to the end so their connection can be reused. */
const DUMP_LIMIT = 64 * 1024;

/** Connect timeout when a job's value is unusable (undici's own default). */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Options of {@link HttpPlugin}. */
export interface HttpPluginOptions {
  /**
   * Proxy URL for every request: `http://`, `https://`, `socks5://` (names resolved here) or
   * `socks5h://` (names resolved by the proxy), with optional `user:password@` (Basic
   * Proxy-Authorization, or SOCKS5 user name/password). Overrides the environment's proxy variables.
   */
  proxy?: string;
  /**
   * Hosts reached without the proxy (NO_PROXY syntax: domains and their subdomains, `*.suffix`,
   * IP addresses, CIDR ranges, `:PORT`, `*`). Default: NO_PROXY from the environment.
   */
  noProxy?: string;
  /**
   * Honour HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY (lower-case forms first). Default true.
   * The variables are read when the plugin is constructed.
   */
  useEnvProxy?: boolean;
  /** Extra trusted CA certificates (PEM), in addition to the default trust store. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Skip TLS certificate verification. Off by default; only when explicitly asked. */
  insecure?: boolean;
  /** Redirects followed per request before MG_ERR_TOO_MANY_REDIRECTS. Default 10. */
  maxRedirects?: number;
  /**
   * Send the caller's headers and credentials to every origin a redirect leads to (curl's
   * `--location-trusted`). Default false: they go only to the origin of the URL given, and a
   * redirect elsewhere is followed without them. Either way, a redirect from HTTPS to plain HTTP is
   * refused (MG_ERR_BAD_REDIRECT) when the request carries credentials or headers of the caller.
   */
  trustRedirects?: boolean;
  /**
   * Milliseconds to wait for a response's headers before MG_ERR_TIMEOUT. Default: the download's
   * stall timeout (`stallTimeoutMs`), so a server that never answers counts as stalled, probe included.
   */
  headersTimeoutMs?: number;
}

/** A response and the URL it answered (the last one after redirects). */
interface Exchange {
  url: URL;
  response: HttpResponse;
}

/**
 * HTTP/1.1 and HTTPS through undici.
 *
 * `probe` sends one `GET` with `Range: bytes=0-` (a HEAD is not trustworthy), follows redirects
 * itself, and learns size, range support, validators, file name and digests; the probe's body is
 * handed over as `initialSource`. `fetchRange` asks for `bytes=start-end` with If-Range and checks
 * that the answer is exactly that range of the same version.
 *
 * Redirects: the caller's headers and credentials (from `credentials`, the URL's userinfo, or
 * `headers`) are sent only to the origin of the URL the caller gave, never to another origin reached
 * by a redirect, unless `trustRedirects`. A redirect from HTTPS to plain HTTP is refused
 * (MG_ERR_BAD_REDIRECT) when the request carries any of them, and otherwise followed with a
 * `MG_WARN_INSECURE_REDIRECT` warning.
 *
 * @example
 * const http = new HttpPlugin({ ca: fs.readFileSync('corp-root.pem') });
 * engine.use(http);
 * // ...
 * await http.close();
 */
export class HttpPlugin extends ProtocolPlugin {
  /** Plugin name, used for every tap. */
  readonly name = PLUGIN_NAME;
  /** URL schemes served. */
  readonly schemes: readonly string[] = ['http:', 'https:'];
  private readonly proxies: ProxyResolver;
  private readonly ca: string | Buffer | Array<string | Buffer> | undefined;
  private readonly insecure: boolean;
  private readonly maxRedirects: number;
  private readonly trustRedirects: boolean;
  private readonly headersTimeoutMs: number | undefined;
  /** One dispatcher per route and connect timeout: undici fixes both per dispatcher, not per request. */
  private readonly transports = new Map<string, Promise<Transport>>();
  private closed = false;

  /**
   * @param options - Proxy, TLS trust, redirect and timeout settings; see {@link HttpPluginOptions}.
   * @throws UsageError (MG_ERR_INVALID_OPTION) for a proxy URL that cannot be parsed or a negative limit.
   */
  constructor(options: HttpPluginOptions = {}) {
    super();
    // Read once, so every connection of this instance routes the same way.
    this.proxies = new ProxyResolver({
      ...(options.proxy === undefined ? {} : { proxy: options.proxy }),
      ...(options.noProxy === undefined ? {} : { noProxy: options.noProxy }),
      useEnv: options.useEnvProxy !== false,
    });
    const maxRedirects = options.maxRedirects ?? 10;
    if (!Number.isInteger(maxRedirects) || maxRedirects < 0) {
      throw new UsageError(ErrorCodes.INVALID_OPTION, `maxRedirects must be a non-negative integer, got ${maxRedirects}`);
    }
    const headersTimeoutMs = options.headersTimeoutMs;
    if (headersTimeoutMs !== undefined && (!Number.isFinite(headersTimeoutMs) || headersTimeoutMs < 0)) {
      throw new UsageError(ErrorCodes.INVALID_OPTION, `headersTimeoutMs must be a non-negative number, got ${headersTimeoutMs}`);
    }
    this.ca = options.ca;
    this.insecure = options.insecure === true;
    this.maxRedirects = maxRedirects;
    this.trustRedirects = options.trustRedirects === true;
    this.headersTimeoutMs = headersTimeoutMs;
  }

  /**
   * Learns what `job.url` serves: one GET with `Range: bytes=0-`, following redirects.
   *
   * - 206 `bytes 0-(N-1)/N`: ranges true (false when the body is content-encoded), size N, and the
   *   body as `initialSource`.
   * - 206 `bytes 0-M/N` with M < N-1 (a server that caps range lengths): ranges true, size N, no
   *   initialSource.
   * - 206 with any other Content-Range: ranges false, size unknown, no initialSource.
   * - 200: ranges false, size from Content-Length, the body as `initialSource`.
   * - 416 with `bytes *` `/0`: an empty file (size 0, ranges true); other 416: MG_ERR_RANGE_NOT_SATISFIABLE.
   * - Anything else: the status's DownloadError.
   */
  async probe(job: Job): Promise<RemoteInfo> {
    const signal = job.signal;
    const { url, response } = await this.follow(withoutUserinfo(job.url), job, { range: 'bytes=0-' }, signal);
    const { statusCode, headers, body } = response;
    const info: RemoteInfo = {
      url,
      size: undefined,
      ranges: false,
      validators: validatorsOf(headers),
      digests: parseDigestHeaders(headers, statusCode),
    };
    const fileName = fileNameOf(headers, url);
    if (fileName !== undefined) info.fileName = fileName;
    const contentType = firstHeader(headers, 'content-type');
    if (contentType !== undefined) info.contentType = contentType;
    const duplicates = duplicatesOf(headers, url);
    if (duplicates.length > 0) info.duplicates = duplicates;

    if (statusCode === 206) {
      const range = parseContentRange(firstHeader(headers, 'content-range'));
      const length = parseLength(firstHeader(headers, 'content-length'));
      const usable =
        range?.kind === 'range' &&
        range.start === 0 &&
        range.size !== undefined &&
        (length === undefined || length === range.end - range.start + 1);
      if (!usable || range.size === undefined) {
        // A server that mislabels ranges cannot be trusted with any of them: one plain stream.
        job.log.info('ranges unusable: one stream', () => ({ reason: 'bad Content-Range', contentRange: firstHeader(headers, 'content-range') }));
        discard(body);
        return info;
      }
      info.size = range.size;
      info.validators.size = range.size;
      if (isEncoded(headers)) job.log.info('ranges unusable: one stream', () => ({ reason: 'Content-Encoding', encoding: firstHeader(headers, 'content-encoding') }));
      if (range.end === range.size - 1) {
        // Offsets of an encoded body are offsets into the encoding: fine for one stream, not for ranges.
        info.ranges = !isEncoded(headers);
        info.initialSource = new HttpByteSource(body, 0, range.end, url, signal, 'range');
      } else {
        info.ranges = !isEncoded(headers);
        discard(body);
      }
      return info;
    }

    if (statusCode === 200) {
      const size = parseLength(firstHeader(headers, 'content-length'));
      job.log.info('no ranges (HTTP 200 to a range request): one stream', () => ({ size }));
      info.size = size;
      if (size !== undefined) info.validators.size = size;
      if (size === 0) {
        discard(body);
      } else {
        info.initialSource = new HttpByteSource(body, 0, size === undefined ? undefined : size - 1, url, signal);
      }
      return info;
    }

    discard(body);
    if (statusCode === 416) {
      const range = parseContentRange(firstHeader(headers, 'content-range'));
      if (range?.kind === 'unsatisfied' && range.size === 0) {
        info.size = 0;
        info.ranges = true;
        info.validators.size = 0;
        return info;
      }
      throw new ProtocolError(
        ErrorCodes.RANGE_NOT_SATISFIABLE,
        `HTTP 416 Range Not Satisfiable for ${displayUrl(url)} when asking from byte 0`,
        { statusCode, url: displayUrl(url) },
      );
    }
    throw statusError(statusCode, response.statusText, url, headers);
  }

  /**
   * Opens the bytes [req.start, req.end] of `job.remote.url`.
   *
   * When the remote does not serve ranges, or the whole file of unknown size is asked for, this is a
   * plain GET (no Range header). Otherwise `Range: bytes=start-end` with If-Range (the strong ETag,
   * else Last-Modified), and the answer must be a 206 with exactly that Content-Range, the expected
   * total, the same ETag and no Content-Encoding.
   *
   * A 416 for a range inside the file (same size) and a 206 body longer than its Content-Range
   * mean the server's ranges are broken: MG_ERR_RANGE_IGNORED and MG_ERR_BAD_CONTENT_RANGE, on which
   * the engine starts over in one plain stream.
   *
   * @throws DownloadError - MG_ERR_REMOTE_CHANGED, MG_ERR_RANGE_IGNORED, MG_ERR_BAD_CONTENT_RANGE,
   *   MG_ERR_ENCODED_RANGE, MG_ERR_RANGE_NOT_SATISFIABLE, the status codes' errors, network errors.
   */
  async fetchRange(req: RangeRequest, job: Job): Promise<ByteSource> {
    const url = job.remote?.url ?? withoutUserinfo(job.url);
    const ranges = job.remote?.ranges ?? true;
    const signal = req.signal === job.signal ? req.signal : AbortSignal.any([req.signal, job.signal]);
    const whole = req.start === 0 && req.end === undefined && req.size === undefined;
    if (!ranges || whole) {
      if (req.start !== 0 || (req.end !== undefined && req.size !== undefined && req.end !== req.size - 1)) {
        throw new ProtocolError(
          ErrorCodes.RANGE_IGNORED,
          `${displayUrl(url)} does not serve byte ranges; cannot fetch bytes ${req.start}-${req.end ?? ''}`,
          { url: displayUrl(url) },
        );
      }
      return this.fetchWhole(req, job, url, signal);
    }

    const extra: Record<string, string> = { range: `bytes=${req.start}-${req.end ?? ''}` };
    const { etag, lastModified } = req.validators;
    if (etag !== undefined && !etag.startsWith('W/')) extra['if-range'] = etag;
    else if (lastModified !== undefined) extra['if-range'] = lastModified;

    const exchange = await this.follow(url, job, extra, signal);
    const { statusCode, headers, body } = exchange.response;
    const where = displayUrl(exchange.url);
    const details = { statusCode, url: where };
    try {
      if (statusCode === 206) {
        if (isEncoded(headers)) {
          throw new ProtocolError(
            ErrorCodes.ENCODED_RANGE,
            `${where} answered a range with Content-Encoding ${firstHeader(headers, 'content-encoding') ?? ''}`,
            details,
          );
        }
        const contentRange = firstHeader(headers, 'content-range');
        const range = parseContentRange(contentRange);
        if (range?.kind !== 'range') {
          throw new ProtocolError(ErrorCodes.BAD_CONTENT_RANGE, `${where} sent a 206 with Content-Range ${contentRange ?? '(none)'}`, details);
        }
        const changed = changedReason(headers, req.validators, range.size, req.size ?? req.validators.size);
        if (changed !== undefined) throw new RemoteChangedError(`${where} changed: ${changed}`, details);
        const size = req.size ?? range.size;
        const expectedEnd = req.end ?? (size === undefined ? range.end : size - 1);
        const length = parseLength(firstHeader(headers, 'content-length'));
        if (range.start !== req.start || range.end !== expectedEnd || (length !== undefined && length !== range.end - range.start + 1)) {
          throw new ProtocolError(
            ErrorCodes.BAD_CONTENT_RANGE,
            `${where} sent Content-Range ${contentRange ?? ''} for bytes ${req.start}-${expectedEnd}`,
            details,
          );
        }
        return new HttpByteSource(body, range.start, range.end, exchange.url, signal, 'range');
      }
      if (statusCode === 200) {
        const length = parseLength(firstHeader(headers, 'content-length'));
        const changed = changedReason(headers, req.validators, length, req.size ?? req.validators.size);
        if (changed !== undefined) throw new RemoteChangedError(`${where} changed: ${changed}`, details);
        throw new ProtocolError(ErrorCodes.RANGE_IGNORED, `${where} answered a range request with the whole file`, details);
      }
      if (statusCode === 416) {
        const range = parseContentRange(firstHeader(headers, 'content-range'));
        const size = req.size ?? req.validators.size;
        if (range?.kind === 'unsatisfied' && size !== undefined && range.size !== size) {
          throw new RemoteChangedError(`${where} changed: its size is now ${range.size}, was ${size}`, details);
        }
        if (size !== undefined && req.start < size) {
          // The range lies inside the file as this very version describes it: the server refuses
          // ranges it should serve (some only serve them from byte 0). One plain stream will do.
          throw new ProtocolError(
            ErrorCodes.RANGE_IGNORED,
            `${where} refused bytes ${req.start}-${req.end ?? ''} of its ${size}-byte file (HTTP 416); its byte ranges cannot be used`,
            details,
          );
        }
        throw new ProtocolError(
          ErrorCodes.RANGE_NOT_SATISFIABLE,
          `HTTP 416 Range Not Satisfiable for ${where} (bytes ${req.start}-${req.end ?? ''})`,
          details,
        );
      }
      throw statusError(statusCode, exchange.response.statusText, exchange.url, headers);
    } catch (err) {
      discard(body);
      throw err;
    }
  }

  /**
   * Closes every connection of this plugin. Requests still in flight are aborted (their bodies end
   * with MG_ERR_ABORTED): a graceful close would wait for bodies that may never be read. Later
   * requests fail with MG_ERR_ABORTED.
   */
  override async close(): Promise<void> {
    this.closed = true;
    const transports = [...this.transports.values()];
    this.transports.clear();
    // A route that failed to build has nothing to close.
    const built = await Promise.allSettled(transports);
    await Promise.all(built.flatMap((t) => (t.status === 'fulfilled' ? [t.value.dispatcher.destroy()] : [])));
  }

  /** The whole body with no Range header, checked against what the probe saw. */
  private async fetchWhole(req: RangeRequest, job: Job, url: URL, signal: AbortSignal): Promise<ByteSource> {
    const exchange = await this.follow(url, job, {}, signal);
    const { statusCode, headers, body } = exchange.response;
    const where = displayUrl(exchange.url);
    const details = { statusCode, url: where };
    try {
      if (statusCode === 200) {
        const length = parseLength(firstHeader(headers, 'content-length'));
        const size = req.size ?? req.validators.size;
        const changed = changedReason(headers, req.validators, length, size);
        if (changed !== undefined) throw new RemoteChangedError(`${where} changed: ${changed}`, details);
        const total = length ?? size;
        return new HttpByteSource(body, 0, total === undefined ? undefined : total - 1, exchange.url, signal);
      }
      if (statusCode === 206) {
        throw new ProtocolError(ErrorCodes.BAD_CONTENT_RANGE, `${where} sent a 206 to a request without Range`, details);
      }
      throw statusError(statusCode, exchange.response.statusText, exchange.url, headers);
    } catch (err) {
      discard(body);
      throw err;
    }
  }

  /**
   * Sends the GET and follows redirects (at most `maxRedirects`), resolving relative Locations.
   * Headers are rebuilt for every hop, so the caller's headers and credentials stop at the first
   * cross-origin one (unless trusted). HTTPS to plain HTTP is refused when the request carries
   * them (even trusted, even dropped: the user asked for a secure exchange with them), and
   * otherwise followed with a warning.
   */
  private async follow(start: URL, job: Job, extra: Readonly<Record<string, string>>, signal: AbortSignal): Promise<Exchange> {
    let url = start;
    for (let redirects = 0; ; redirects++) {
      const response = await this.send(url, job, extra, signal);
      if (!REDIRECTS.has(response.statusCode)) return { url, response };
      discard(response.body);
      const where = displayUrl(url);
      const details = { statusCode: response.statusCode, url: where };
      if (redirects >= this.maxRedirects) {
        throw new ProtocolError(ErrorCodes.TOO_MANY_REDIRECTS, `More than ${this.maxRedirects} redirects from ${displayUrl(start)}`, details);
      }
      const location = firstHeader(response.headers, 'location');
      if (location === undefined || location.trim() === '') {
        throw new ProtocolError(ErrorCodes.BAD_REDIRECT, `HTTP ${response.statusCode} without a Location from ${where}`, details);
      }
      let next: URL;
      try {
        next = new URL(location.trim(), url);
      } catch {
        throw new ProtocolError(ErrorCodes.BAD_REDIRECT, `${where} redirects to an unusable Location`, details);
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new ProtocolError(ErrorCodes.BAD_REDIRECT, `${where} redirects to a ${next.protocol} URL`, details);
      }
      job.log.debug('redirect', () => ({
        status: response.statusCode,
        from: where,
        to: redactUrl(next),
        // Which of the caller's headers and credentials go on (see requestHeaders).
        userData: this.trustRedirects || sameOrigin(next, job.url) ? 'sent' : 'withheld',
      }));
      if (url.protocol === 'https:' && next.protocol === 'http:') {
        // Back to the origin the caller named in plain HTTP is no news: they sent it all there in clear.
        if (!sameOrigin(next, job.url) && carriesUserData(job)) {
          throw new ProtocolError(
            ErrorCodes.BAD_REDIRECT,
            `${where} redirects to plain HTTP (${redactUrl(next)}); not following it with credentials or request headers`,
            details,
          );
        }
        job.warn('MG_WARN_INSECURE_REDIRECT', `${where} redirects to plain HTTP: ${redactUrl(next)} (not encrypted)`);
      }
      // Userinfo in a Location is never used: credentials come only from the caller.
      url = withoutUserinfo(next);
    }
  }

  private async send(
    url: URL,
    job: Job,
    extra: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<HttpResponse> {
    if (signal.aborted) throw transportError(signal.reason, url, signal);
    if (this.closed) throw new AbortError('The HTTP plugin is closed', { url: displayUrl(url) });
    let transport: Transport;
    try {
      transport = await this.transportFor(job, url);
    } catch (err) {
      throw transportError(err, url, signal);
    }
    const { dispatcher, proxied } = transport;
    const headers = requestHeaders(url, job, extra, proxied, this.trustRedirects);
    job.log.trace('request', () => ({ method: 'GET', url: redactUrl(url), host: url.host, proxied, headers: redactHeaders(headers) }));
    try {
      const response = await sendRequest(dispatcher, {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        headers,
        signal,
        headersTimeout: this.headersTimeoutMs ?? job.options.stallTimeoutMs,
      });
      job.log.trace('response', () => ({ status: response.statusCode, url: redactUrl(url), headers: redactHeaders(response.headers) }));
      return response;
    } catch (err) {
      const error = transportError(err, url, signal);
      job.log.debug('request failed', () => ({ url: redactUrl(url), host: url.host, code: error.code, reason: error.message }));
      throw error;
    }
  }

  /** The dispatcher for `url`'s route (direct, or its proxy) and the job's connect timeout. */
  private async transportFor(job: Job, url: URL): Promise<Transport> {
    const wanted = job.options.connectTimeoutMs;
    const connectTimeoutMs = Number.isFinite(wanted) && wanted >= 0 ? wanted : DEFAULT_CONNECT_TIMEOUT_MS;
    const proxy = this.proxies.proxyFor(url);
    const key = `${proxy?.href ?? 'direct'} ${connectTimeoutMs}`;
    let transport = this.transports.get(key);
    if (transport !== undefined) {
      job.log.trace('connection pool reused', () => ({ host: url.host, route: proxy ? redactUrl(proxy.href) : 'direct' }));
    } else {
      job.log.debug('connection pool opened', () => ({
        host: url.host,
        route: proxy ? redactUrl(proxy.href) : 'direct',
        connectTimeoutMs,
        tls: this.insecure ? 'certificates not checked (insecure)' : this.ca !== undefined ? 'extra CA certificates trusted' : 'system CA certificates',
      }));
      if (this.insecure) job.log.warn('TLS certificate checks are off (insecure)', () => ({ host: url.host }));
      // The promise is kept (not its value), so that concurrent first requests share one pool.
      transport = createDispatcher({
        proxy,
        ca: this.ca,
        insecure: this.insecure,
        connectTimeoutMs,
      });
      this.transports.set(key, transport);
    }
    try {
      return await transport;
    } catch (err) {
      // A route that could not be built is tried afresh by the next request.
      if (this.transports.get(key) === transport) this.transports.delete(key);
      throw err;
    }
  }
}

/** Throws a rejected body away: small ones are read so the connection is reused, big ones destroyed. */
function discard(body: ResponseBody): void {
  body.discard(DUMP_LIMIT);
}

function validatorsOf(headers: HeaderMap): Validators {
  const validators: Validators = {};
  const etag = firstHeader(headers, 'etag');
  if (etag !== undefined) validators.etag = etag;
  const lastModified = firstHeader(headers, 'last-modified');
  if (lastModified !== undefined) validators.lastModified = lastModified;
  return validators;
}

/** Why a response is not the version `validators` describe, or undefined when nothing says so (core's one comparison). */
function changedReason(
  headers: HeaderMap,
  validators: Validators,
  size: number | undefined,
  expectedSize: number | undefined,
): string | undefined {
  return validatorMismatch(
    { etag: validators.etag, lastModified: validators.lastModified, size: expectedSize },
    { etag: firstHeader(headers, 'etag'), lastModified: firstHeader(headers, 'last-modified'), size },
  );
}

/** The server's suggested name, else the last non-empty path segment of the final URL. */
function fileNameOf(headers: HeaderMap, url: URL): string | undefined {
  const disposition = firstHeader(headers, 'content-disposition');
  const fromHeader = disposition === undefined ? undefined : parseContentDisposition(disposition);
  if (fromHeader !== undefined) return fromHeader;
  const segment = url.pathname.split('/').filter((part) => part !== '').pop();
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
