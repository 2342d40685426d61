import http, { type Agent, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

/** What a client got: the head, the body bytes that arrived, and how the body ended. */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Set when the body broke off (dropped or destroyed connection) instead of completing. */
  error: Error | undefined;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** PEM to trust for https URLs. */
  ca?: string;
  /** Host name to verify the certificate against (and send as SNI). */
  servername?: string;
  /** Default: a fresh connection per request (`agent: false`), so tests never share sockets. */
  agent?: Agent;
  /** Use this already-open socket (a CONNECT tunnel, for instance). */
  createConnection?: () => Socket;
  /** Send the request to this forward proxy (`http://host:port`), with `url` as absolute-form target. */
  proxy?: string;
  /** Called with each body chunk as it arrives. */
  onData?: (chunk: Buffer, received: number, response: IncomingMessage) => void;
}

/** One request through node:http(s); resolves with a broken body rather than rejecting after the head. */
export function request(url: string, options: RequestOptions = {}): Promise<Reply> {
  const proxy = options.proxy === undefined ? undefined : new URL(options.proxy);
  const target = proxy ?? new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise<Reply>((resolve, reject) => {
    const req = transport.request(target, {
      ...(proxy === undefined ? {} : { path: url }),
      method: options.method ?? 'GET',
      headers: options.headers ?? {},
      agent: options.agent ?? false,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.servername === undefined ? {} : { servername: options.servername }),
      ...(options.createConnection === undefined ? {} : { createConnection: options.createConnection }),
    }, (res) => {
      const chunks: Buffer[] = [];
      let received = 0;
      let error: Error | undefined;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        options.onData?.(chunk, received, res);
      });
      res.on('error', (cause: Error) => {
        error = cause;
      });
      res.on('close', () => {
        if (!res.complete) error ??= new Error('body ended early');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), error });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Keep-alive agent with one socket, to observe connection reuse. */
export function singleSocketAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: 1 });
}

/** Polls `condition` every 5 ms until it holds (the test timeout bounds the wait). */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
