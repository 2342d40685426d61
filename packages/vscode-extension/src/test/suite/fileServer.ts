import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A file the in-host test server serves. */
export interface ServedFile {
  body: Buffer;
  /** Bytes per second per response (paced in 16 KiB slices), or none. */
  throttle?: number;
  /** Require HTTP Basic with these credentials. */
  basic?: { username: string; password: string };
}

/** A running server; always `close()` it. */
export interface FileServer {
  origin: string;
  url(path: string): string;
  add(path: string, file: ServedFile): void;
  close(): Promise<void>;
}

/** `size` random bytes and their sha256. */
export function randomFile(size: number): { body: Buffer; sha256: string } {
  const body = randomBytes(size);
  return { body, sha256: createHash('sha256').update(body).digest('hex') };
}

/**
 * A small HTTP server on 127.0.0.1 with single-range support, ETags, optional throttling and Basic
 * auth: enough for the service's probe and segmented fetches, started inside the extension host
 * (the suite cannot reach the repository's test servers from a packaged extension).
 */
export async function startFileServer(): Promise<FileServer> {
  const files = new Map<string, ServedFile>();
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const file = files.get((req.url ?? '/').split('?')[0]!);
    if (file === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    if (file.basic !== undefined) {
      const expected = `Basic ${Buffer.from(`${file.basic.username}:${file.basic.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' }).end('unauthorized');
        return;
      }
    }
    const size = file.body.length;
    const etag = `"${createHash('sha1').update(file.body).digest('hex').slice(0, 16)}"`;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && size > 0 && (req.headers['if-range'] === undefined || req.headers['if-range'] === etag)) {
      if (range[1] === '') {
        start = Math.max(0, size - Number(range[2]));
      } else {
        start = Number(range[1]);
        end = range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
      }
      if (start > end || start >= size) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
        return;
      }
      status = 206;
    }
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': 'application/octet-stream',
      'Content-Length': end - start + 1,
      'Accept-Ranges': 'bytes',
      ETag: etag,
      'Last-Modified': new Date(0).toUTCString(),
    };
    if (status === 206) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const slice = file.body.subarray(start, end + 1);
    if (file.throttle === undefined) {
      res.end(slice);
      return;
    }
    const chunk = 16 * 1024;
    const interval = Math.max(1, Math.round((chunk / file.throttle) * 1000));
    let offset = 0;
    const timer = setInterval(() => {
      if (res.destroyed) {
        clearInterval(timer);
        return;
      }
      const next = slice.subarray(offset, offset + chunk);
      offset += next.length;
      if (offset >= slice.length) {
        clearInterval(timer);
        res.end(next);
      } else {
        res.write(next);
      }
    }, interval);
    res.on('close', () => clearInterval(timer));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (p) => origin + p,
    add: (p, f) => void files.set(p, f),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
