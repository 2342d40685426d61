import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { DownloadError, ErrorCodes, ProtocolPlugin, RemoteChangedError } from '../../src/index.js';
import type { ByteSource, ErrorCode, Job, RangeRequest, RemoteInfo } from '../../src/index.js';

interface MemFile {
  data: Buffer;
  version: number;
  /** Per-fetch behaviour, decided by the fetch's ordinal (1-based) or start offset. */
  failFetches?: { count: number; code: ErrorCode };
  slowStartOffsets?: Set<number>;
  noRanges?: boolean;
  unknownSize?: boolean;
  digest?: string;
  /** Delay before each 64 KiB chunk, so a test can act mid-transfer. */
  chunkDelayMs?: number;
}

/**
 * A protocol plugin for `mem://` URLs that serves buffers from memory in 64 KiB chunks, yielding to
 * the event loop between chunks. A real third-party-style plugin, used to test the engine's logic
 * (splitting, resume, retries) without a network.
 */
export class MemoryPlugin extends ProtocolPlugin {
  readonly name = 'MemoryPlugin';
  readonly schemes = ['mem:'];
  readonly files = new Map<string, MemFile>();
  readonly fetches: Array<{ start: number; end: number | undefined }> = [];
  /** Bytes handed to the engine, across all fetches. */
  bytesServed = 0;

  put(path: string, data: Buffer, extra: Partial<MemFile> = {}): void {
    const old = this.files.get(path);
    this.files.set(path, { ...old, ...extra, data, version: (old?.version ?? 0) + 1 });
  }

  async probe(job: Job): Promise<RemoteInfo> {
    const f = this.file(job.url);
    const digests = f.digest
      ? [{ algorithm: 'sha256' as const, hex: f.digest, source: 'server' as const }]
      : [];
    return {
      url: new URL(job.url.href),
      size: f.unknownSize ? undefined : f.data.length,
      ranges: !f.noRanges,
      validators: { etag: `"v${f.version}"`, ...(f.unknownSize ? {} : { size: f.data.length }) },
      fileName: job.url.pathname.split('/').pop() ?? undefined,
      digests,
    };
  }

  async fetchRange(req: RangeRequest, job: Job): Promise<ByteSource> {
    const f = this.file(job.url);
    this.fetches.push({ start: req.start, end: req.end });
    if (f.failFetches && f.failFetches.count > 0) {
      f.failFetches.count--;
      throw new DownloadError(f.failFetches.code, 'injected failure');
    }
    if (req.validators.etag !== undefined && req.validators.etag !== `"v${f.version}"`) {
      throw new RemoteChangedError('etag changed');
    }
    const start = f.noRanges ? 0 : req.start;
    const end = req.end ?? f.data.length - 1;
    const slow = f.slowStartOffsets?.has(start) ?? false;
    let cancelled = false;
    const body = async function* (this: MemoryPlugin): AsyncGenerator<Uint8Array> {
      for (let at = start; at <= end && !cancelled; at += 65536) {
        req.signal.throwIfAborted();
        await yieldToLoop();
        if (slow) await sleep(20, undefined, { signal: req.signal });
        if (f.chunkDelayMs) await sleep(f.chunkDelayMs, undefined, { signal: req.signal });
        // Like a server that notices its file was replaced under an open transfer.
        if (this.files.get(job.url.pathname) !== f) throw new RemoteChangedError('replaced mid-transfer');
        const chunk = f.data.subarray(at, Math.min(end + 1, at + 65536));
        this.bytesServed += chunk.length;
        yield chunk;
      }
    };
    return {
      start,
      end: f.unknownSize ? undefined : end,
      body: body.call(this),
      cancel: () => {
        cancelled = true;
      },
    };
  }

  private file(url: URL): MemFile {
    const f = this.files.get(url.pathname);
    if (!f) throw new DownloadError(ErrorCodes.NOT_FOUND, `no ${url.pathname}`, { url: url.href });
    return f;
  }
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function pseudoRandom(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
