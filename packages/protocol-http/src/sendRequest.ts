import { channel } from 'node:diagnostics_channel';
import type { Dispatcher } from 'undici';
import type { HeaderMap } from './headerValues.js';
import { BODY_HIGH_WATER, type Frees, ResponseBody } from './ResponseBody.js';

/** undici publishes each response's raw head, and each body chunk, here: views of the socket's reads that a subscriber may keep. */
const headersChannel = channel('undici:request:headers');
const bodyChunkChannel = channel('undici:request:bodyChunkReceived');

/** What a response's source may free once written, given who else was handed its reads. */
function freesNow(): Frees {
  if (bodyChunkChannel.hasSubscribers) return 'none';
  return headersChannel.hasSubscribers ? 'chunks' : 'all';
}

/** A response's head, and its body still arriving. */
export interface HttpResponse {
  /** The final status (informational 1xx responses are skipped). */
  statusCode: number;
  /** The status line's reason phrase, possibly empty. */
  statusText: string;
  /** Response headers: lower-case names, repeated ones as arrays. */
  headers: HeaderMap;
  /** The body: read it, discard it or cancel it. */
  body: ResponseBody;
}

/** What one GET needs. */
export interface RequestOptions {
  origin: string;
  path: string;
  headers: Record<string, string>;
  /** Milliseconds to wait for the response's headers. */
  headersTimeout: number;
  /** Aborts the request, before or during its body. */
  signal: AbortSignal;
  /** Buffered body bytes at which the socket stops being read. Default {@link BODY_HIGH_WATER}. */
  highWater?: number;
}

/**
 * Sends a GET through `dispatcher.dispatch` with a handler of our own, rather than
 * `dispatcher.request`: the body's chunks go straight into a {@link ResponseBody} queue instead of
 * through a Readable stream (whose 64 KiB buffer paused the socket whenever the engine was writing,
 * so reads and writes took turns) and an async generator on top of it.
 *
 * Resolves at the response's head; rejects with undici's error (or the signal's reason) when the
 * request fails before it. After the head, failures end up in the body.
 */
export function sendRequest(dispatcher: Dispatcher, options: RequestOptions): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    const { signal } = options;
    let controller: Dispatcher.DispatchController | undefined;
    let body: ResponseBody | undefined;
    let settled = false;
    const onAbort = (): void => {
      const reason = signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
      if (body !== undefined) body.cancel(reason);
      else if (controller !== undefined) controller.abort(reason);
      else fail(reason);
    };
    const cleanup = (): void => signal.removeEventListener('abort', onAbort);
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(error);
    };
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(ctl) {
        controller = ctl;
        if (signal.aborted) ctl.abort(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      },
      onResponseStart(ctl, statusCode, headers, statusMessage) {
        if (statusCode < 200) return; // 100 Continue, 103 Early Hints: the real answer follows
        body = new ResponseBody(options.highWater ?? BODY_HIGH_WATER, cleanup, freesNow());
        body.attach(ctl);
        settled = true;
        resolve({ statusCode, statusText: statusMessage ?? '', headers: headers as HeaderMap, body });
      },
      onResponseData(_ctl, chunk) {
        body?.push(chunk);
      },
      onResponseEnd() {
        body?.end();
      },
      onResponseError(_ctl, error) {
        if (body !== undefined) body.fail(error);
        else fail(error);
      },
    };
    try {
      dispatcher.dispatch(
        {
          origin: options.origin,
          path: options.path,
          method: 'GET',
          headers: options.headers,
          headersTimeout: options.headersTimeout,
        },
        handler,
      );
    } catch (err) {
      fail(err);
    }
  });
}
