// A protocol plugin for `tcpfile://host:port/path`, a toy line protocol over TCP (see README.md):
//   client: `STAT <path>\n` or `GET <path> <first> <last>\n` (byte offsets, inclusive)
//   server: `OK <size> <mtime>\n` and, for GET, the bytes, then it closes; or `ERR <code> <text>\n`.
import { connect } from 'node:net';
import { posix } from 'node:path';
import { DownloadError, ErrorCodes, ProtocolPlugin, isDownloadError } from '@multiget/core';
import type { ByteSource, Job, RangeRequest, RemoteInfo } from '@multiget/core';

/** Sends one request line and reads the answer's head; the bytes after it stay in `rest`. */
async function ask(url: URL, line: string, signal: AbortSignal) {
  const socket = connect({ host: url.hostname, port: Number(url.port), signal });
  socket.write(`${line}\n`);
  const chunks: AsyncIterator<Buffer> = socket[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  try {
    while (!head.includes(0x0a)) {
      const next = await chunks.next();
      if (next.done === true) throw new Error('closed before answering');
      head = Buffer.concat([head, next.value]);
    }
  } catch (err) {
    socket.destroy();
    throw failure(err, signal);
  }
  const at = head.indexOf(0x0a);
  const [status = '', a = '', b = ''] = head.subarray(0, at).toString('latin1').split(' ');
  if (status !== 'OK') {
    socket.destroy();
    const code = a === '404' ? ErrorCodes.NOT_FOUND : ErrorCodes.PROTOCOL;
    throw new DownloadError(code, `tcpfile server: ${head.subarray(0, at).toString('latin1')}`, { url: url.href });
  }
  return { socket, chunks, size: Number(a), mtime: Number(b), rest: head.subarray(at + 1) };
}

/** What a broken connection means: the caller's abort, or a reset (retried by the engine). */
function failure(err: unknown, signal: AbortSignal): DownloadError {
  if (isDownloadError(signal.reason)) return signal.reason;
  if (isDownloadError(err)) return err;
  const code = signal.aborted ? ErrorCodes.ABORTED : ErrorCodes.CONNECTION_RESET;
  return new DownloadError(code, `tcpfile connection: ${String(err)}`, { cause: err });
}

/** Serves `tcpfile:` URLs: probes with STAT, reads ranges with GET. */
export class TcpFilePlugin extends ProtocolPlugin {
  readonly name = 'TcpFilePlugin';
  readonly schemes = ['tcpfile:'];

  async probe(job: Job): Promise<RemoteInfo> {
    const { socket, size, mtime } = await ask(job.url, `STAT ${job.url.pathname}`, job.signal);
    socket.destroy();
    const fileName = posix.basename(decodeURIComponent(job.url.pathname));
    return { url: job.url, size, ranges: true, validators: { size, mtime }, fileName, digests: [] };
  }

  async fetchRange(req: RangeRequest, job: Job): Promise<ByteSource> {
    const last = req.end ?? (req.size ?? 0) - 1;
    const { socket, chunks, size, mtime, rest } = await ask(job.url, `GET ${job.url.pathname} ${req.start} ${last}`, req.signal);
    if (size !== req.size || mtime !== req.validators.mtime) {
      socket.destroy();
      throw new DownloadError(ErrorCodes.REMOTE_CHANGED, 'tcpfile: the file changed', { url: job.url.href });
    }
    async function* body(): AsyncGenerator<Uint8Array> {
      let got = rest.length;
      try {
        if (got > 0) yield rest;
        for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) {
          got += next.value.length;
          yield next.value;
        }
      } catch (err) {
        throw failure(err, req.signal);
      } finally {
        socket.destroy();
      }
      if (got < last - req.start + 1) throw new DownloadError(ErrorCodes.SHORT_BODY, `tcpfile: ${got} bytes of ${last - req.start + 1}`);
    }
    return { start: req.start, end: last, body: body(), cancel: () => socket.destroy() };
  }
}
