// The example protocol plugin passes the conformance battery, run with node:test against a small
// tcpfile server that speaks test-servers' fault vocabulary through its shared building blocks.
import { once } from 'node:events';
import net, { type AddressInfo, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { describeProtocolConformance } from '@multiget/core/testing';
import {
  FaultState,
  SocketTracker,
  TokenBucket,
  TransferCounters,
  alteredContent,
  contentSize,
  readContent,
  sha256,
  type FileContent,
  type TransferFaults,
} from '@multiget/test-servers';
import { TcpFilePlugin } from './TcpFilePlugin.ts';

interface ServedFile {
  content: FileContent;
  mtime: number;
  readonly faults: FaultState<TransferFaults>;
}

/** A tcpfile server on 127.0.0.1 with the shared faults: throttle, drop, cut, stall, wrong length ... */
class TcpFileServer {
  readonly files = new Map<string, ServedFile>();
  readonly sockets = new SocketTracker();
  readonly counters = new TransferCounters();
  private readonly server = net.createServer((socket) => void this.serve(socket));

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `tcpfile://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  add(path: string, content: FileContent): ServedFile {
    const file = { content, mtime: 1_700_000_000, faults: new FaultState<TransferFaults>({}) };
    this.files.set(path, file);
    return file;
  }

  close(): Promise<void> {
    this.sockets.destroyAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async serve(socket: Socket): Promise<void> {
    this.sockets.connection(socket);
    socket.on('error', () => undefined);
    // Not `for await`: leaving that loop early would destroy the socket.
    const line = await new Promise<string>((resolve) => {
      let text = '';
      const onData = (chunk: Buffer): void => {
        text += chunk.toString('latin1');
        if (!text.includes('\n')) return;
        socket.off('data', onData);
        resolve(text);
      };
      socket.on('data', onData);
      socket.once('close', () => resolve(''));
    });
    const [verb, path = '', first = '0', last = '0'] = line.slice(0, line.indexOf('\n')).split(' ');
    const file = this.files.get(path);
    if (file === undefined) return void socket.end('ERR 404 no such file\n');
    const faults = file.faults.faults;
    const announced = contentSize(file.content) + (faults.wrongLength ?? 0);
    if (verb === 'STAT') return void socket.end(`OK ${announced} ${file.mtime}\n`);
    const { refuse, replace } = file.faults.admit();
    if (refuse !== undefined) return void socket.end(`ERR ${refuse.code} refused\n`);
    if (replace) this.replace(file, alteredContent(file.content));
    const { content, mtime } = file;
    const start = Number(first);
    let end = Math.min(Number(last) + 1, announced);
    socket.write(`OK ${announced} ${mtime}\n`);
    const drop = file.faults.take('drop', end - start);
    const cut = drop === undefined ? file.faults.take('cut', end - start) : undefined;
    const stall = drop === undefined && cut === undefined ? file.faults.take('stall', end - start) : undefined;
    const limit = drop ?? cut ?? stall;
    if (limit !== undefined) end = start + limit;
    end = Math.min(end, contentSize(content));
    const rate = faults.throttleBytesPerSec;
    const bucket = rate === undefined ? undefined : new TokenBucket(rate, 64 * 1024);
    const gone = new AbortController();
    socket.once('close', () => gone.abort());
    this.counters.started(path);
    try {
      for (let at = start; at < end;) {
        const n = Math.min(bucket?.maxWrite ?? 64 * 1024, end - at);
        await bucket?.take(n, gone.signal);
        const fits = socket.write(readContent(content, at, at + n));
        this.counters.sent(path, n);
        at += n;
        if (!fits) await once(socket, 'drain', { signal: gone.signal });
      }
      if (stall !== undefined) await once(socket, 'close');
      else if (drop !== undefined) socket.resetAndDestroy();
      else socket.end();
    } catch {
      socket.destroy();
    } finally {
      this.counters.ended(path);
    }
  }

  replace(file: ServedFile, content: FileContent): void {
    file.content = content;
    file.mtime += 1;
  }
}

describeProtocolConformance('tcpfile (example)', async () => {
  const server = new TcpFileServer();
  const origin = await server.listen();
  let counter = 0;
  return {
    plugins: () => [new TcpFilePlugin()],
    serve(size) {
      const path = `/f${++counter}.bin`;
      const file = server.add(path, { size, seed: counter });
      return {
        url: origin + path,
        setFaults: (faults) => file.faults.set(faults),
        replace: (next = size) => server.replace(file, { size: next, seed: 1000 + counter }),
        sha256: () => sha256(file.content),
        bytesServed: () => server.counters.bytes(path),
        maxConcurrentTransfers: () => server.counters.maxConcurrent(path),
      };
    },
    missingUrl: () => `${origin}/missing.bin`,
    close: () => server.close(),
  };
}, { runner: { describe, it, after } });
