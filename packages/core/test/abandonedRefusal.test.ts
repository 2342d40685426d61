// A server that counts its connections may still count a response the client let go of a moment
// ago (the probe's open stream at its segment's end, a split): a refusal right then is not a cap.
// The connection asks once more, soon, instead of being retired for the rest of the download.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DownloadError, ErrorCodes, Multiget, ProtocolPlugin, allAtOnce } from '../src/index.js';
import type { ByteSource, FailureContext, Job, RangeRequest, RemoteInfo } from '../src/index.js';
import { ABANDONED_RETRY_MS } from '../src/plugins/RetryPolicy.js';
import { pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 64 * KiB;

/**
 * Serves one file; its probe answers with an open stream of the whole file (as `Range: bytes=0-`
 * does), which the engine adopts for the first segment and lets go of at that segment's end. The
 * first request for another range trickles (so that the probe's connection finishes first and
 * splits it), and the first request made after the probe's stream was let go of is refused as busy.
 */
class CountingServer extends ProtocolPlugin {
  readonly name = 'CountingServer';
  readonly schemes = ['count:'];
  streamReleased = false;
  refused = 0;
  #trickled = false;

  constructor(private readonly data: Buffer) {
    super();
  }

  async probe(job: Job): Promise<RemoteInfo> {
    const size = this.data.length;
    const stream = this.#source({ start: 0, end: size - 1 }, false);
    const initialSource: ByteSource = {
      ...stream,
      cancel: () => {
        this.streamReleased = true;
      },
    };
    return { url: new URL(job.url.href), size, ranges: true, validators: { etag: '"1"', size }, digests: [], initialSource };
  }

  async fetchRange(req: RangeRequest): Promise<ByteSource> {
    if (this.streamReleased && this.refused === 0) {
      this.refused++;
      throw new DownloadError(ErrorCodes.SERVER_BUSY, 'busy: 503 Service Unavailable');
    }
    const trickle = !this.#trickled;
    this.#trickled = true;
    return this.#source({ start: req.start, end: req.end ?? this.data.length - 1 }, trickle);
  }

  #source(range: { start: number; end: number }, trickle: boolean): ByteSource {
    const { data } = this;
    async function* body(): AsyncGenerator<Uint8Array> {
      for (let at = range.start; at <= range.end; at += CHUNK) {
        await (trickle ? sleep(20) : yieldToLoop());
        yield new Uint8Array(data.subarray(at, Math.min(range.end + 1, at + CHUNK)));
      }
    }
    return { start: range.start, end: range.end, body: body(), cancel: () => undefined };
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-abandoned-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a refusal right after a response was let go of', () => {
  it('is asked again once, soon, instead of retiring the connection (regression: mirrors lost a connection for good)', async () => {
    const data = pseudoRandom(4 * MiB, 41);
    const server = new CountingServer(data);
    const mg = new Multiget({ plugins: [server], minSplitSize: 64 * KiB, connectionPolicy: allAtOnce });
    const contexts: FailureContext[] = [];
    mg.hooks.failure.tapPromise({ name: 'spy', stage: -100 }, async (error, context) => {
      if (error.code === ErrorCodes.SERVER_BUSY) contexts.push({ ...context });
      return undefined;
    });
    const d = mg.download('count://h/file.bin', { dir, connections: 2 });
    const reasons: string[] = [];
    const retries: number[] = [];
    d.on('connections', (c) => reasons.push(c.reason));
    d.on('retry', (r) => retries.push(r.delayMs));
    await d.done;
    await mg.close();
    expect(sha256(await readFile(join(dir, 'file.bin')))).toBe(sha256(data));
    // The probe's connection let go of its stream, split the trickling segment and was refused.
    expect(server.refused).toBe(1);
    expect(contexts).toHaveLength(1);
    expect(contexts[0]).toMatchObject({ phase: 'range', attempt: 1, afterAbandoned: true });
    expect(retries).toEqual([ABANDONED_RETRY_MS]);
    expect(reasons).not.toContain('refused');
  });
});
