import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import assert from 'node:assert/strict';
import { hashFile } from '../util/checksum.js';
import { ErrorCodes, isDownloadError } from '../errors.js';
import type { Plugin } from '../engine/hooks.js';
import { Multiget, type DownloadOptions, type MultigetOptions } from '../engine/Multiget.js';
import type { DownloadResult } from '../types.js';
import { createJob, probeWith, rangeRequest } from './driver.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The faults the kit switches, named as in `@multiget/test-servers`' one fault vocabulary
 * (`TransferFaults`), so a test-servers file takes them as they are. A server of your own only needs
 * these (see `docs/plugins.md` for what each must do).
 */
export interface ConformanceFaults {
  /** Each transfer paced to this many bytes per second. */
  throttleBytesPerSec?: number;
  /** Connection lost after this many bytes of a longer transfer ... */
  dropAfterBytes?: number;
  /** ... for the first N transfers (default: every one). */
  dropTimes?: number;
  /** The transfer ends, reported complete, after this many bytes of a longer one ... */
  cutAfterBytes?: number;
  /** ... for the first N transfers (default 1). */
  cutTimes?: number;
  /** Nothing more after this many bytes of a longer transfer, connection kept open ... */
  stallAfterBytes?: number;
  /** ... for the first N transfers (default 1). */
  stallTimes?: number;
  /** The size announced is this many bytes more than the server has. */
  wrongLength?: number;
  /**
   * After N requests the content is replaced once (same size, new bytes, new validators), just
   * before the next request is served; transfers under way keep the old bytes.
   */
  replaceAfterRequests?: number;
}

/** A file the server under test serves, with its fault switches and counters. */
export interface ConformanceFile {
  /** The URL a download of it uses (credentials included if the protocol needs them). */
  readonly url: string;
  /** Replaces the file's faults (and restarts their "first N" counters); `{}` switches them off. */
  setFaults(faults: ConformanceFaults): void;
  /**
   * Makes the server refuse byte ranges for this file (HTTP: 200 for a Range; FTP: no REST).
   * Leave it out when the protocol cannot refuse them (SFTP): the probe scenario then only checks
   * that ranges are offered.
   */
  refuseRanges?(): void;
  /** Replaces the bytes (new content of `size` bytes, default the same size) and its validators. */
  replace(size?: number): void;
  /** Hex SHA-256 of what the server serves now. */
  sha256(): string;
  /** Body bytes the server has handed to its sockets for this file so far. */
  bytesServed(): number;
  /** Most transfers of this file the server had open at once. */
  maxConcurrentTransfers(): number;
}

/** What a protocol's test gives the kit: a server with files, and the plugins that read them. */
export interface ConformanceContext {
  /** Fresh plugins for one engine (the kit closes the engine after each scenario). */
  plugins(): Plugin[];
  /** Serves a new file of `size` deterministic pseudo-random bytes under a name of its own. */
  serve(size: number): ConformanceFile | Promise<ConformanceFile>;
  /** A URL on the same server naming no file. */
  missingUrl(): string;
  /** Stops the servers. Called once, after the last scenario. */
  close(): Promise<void>;
}

/**
 * The test functions of your runner. From vitest: `{ describe, it, afterAll }`; from node:test:
 * `{ describe, it, after }`. The kit asserts with node:assert, so any runner that reports a thrown
 * error as a failure works.
 */
export interface ConformanceRunner {
  /** Registers a group of tests (the battery is one group). */
  describe: (name: string, fn: () => void) => unknown;
  /** Registers one test; a rejected promise is its failure. */
  it: (name: string, fn: () => Promise<void>) => unknown;
  /** vitest, jest, mocha's `after` under another name. */
  afterAll?: (fn: () => Promise<void>) => unknown;
  /** node:test and mocha. */
  after?: (fn: () => Promise<void>) => unknown;
}

/** Options of {@link describeProtocolConformance}. */
export interface ConformanceOptions {
  /** The runner's `describe`, `it` and `afterAll` (or `after`). */
  runner: ConformanceRunner;
  /** Engine options merged over the kit's (short retry delays, frequent progress). */
  engine?: MultigetOptions;
  /** Connections of each scenario's download (the ranges scenario needs more than one). Default 4. */
  connections?: number;
  /**
   * Most bytes the driver may read ahead of a reader that does not read (slow reader scenario).
   * Default 16 MiB. The scenario allows, besides, what the kernel's socket buffers can hold (on
   * Linux the largest receive and send buffers, `tcp_rmem` and `tcp_wmem`; else 8 MiB), and serves
   * a file at least twice as large as the two together, so a driver that reads it all still fails.
   */
  maxReadAheadBytes?: number;
}

/** The scenarios of the battery, in the order they run; each is one test named after it. */
export const CONFORMANCE_SCENARIOS = [
  'probe: size, validators and ranges',
  'ranges: a segmented download over several connections gets the exact bytes',
  'short body: a transfer that ends early is retried and the file completes',
  'connection reset mid-body: resumed with retries, not fetched again from zero',
  'stall: a stalled connection is abandoned and the download completes',
  'abort and resume: a stopped download resumes from its partial file',
  'remote change mid-download: the driver notices, the download starts over, never mixing versions',
  'remote change between runs: new validators start over, never mixing versions',
  'remote size change between runs: starts over with the new size',
  'wrong length: a server announcing more bytes than it has never yields a complete file',
  'slow reader: the driver reads a bounded amount ahead of its reader',
  'empty file: downloaded as an empty file',
  'missing file: MG_ERR_NOT_FOUND at once, without retries',
] as const;

/** One scenario's engine, directory and helpers. */
interface Scene {
  readonly mg: Multiget;
  readonly dir: string;
  download(url: string, options?: DownloadOptions): Promise<{ result: DownloadResult; codes: string[]; restarts: string[]; resumedBytes: number }>;
  /** Starts a download, aborts it once `atLeast` bytes are on disk, and waits until it stopped. */
  abortAfter(url: string, atLeast: number): Promise<void>;
  sha256(file: string): Promise<string>;
}

/** Polls `read` every 50 ms until it has not changed for 4 polls in a row (at most 400 polls). */
async function settled(read: () => number): Promise<number> {
  let last = read();
  let still = 0;
  for (let i = 0; i < 400 && still < 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = read();
    still = now === last ? still + 1 : 0;
    last = now;
  }
  return last;
}

/**
 * Registers the conformance battery of a protocol plugin: one `describe(name)` with one test per
 * scenario of {@link CONFORMANCE_SCENARIOS}, run through the engine (and, for the slow reader,
 * through the driver directly) against the server `setup` starts. `setup` runs once, before the
 * first scenario; its `close` after the last.
 *
 * @example
 * // vitest
 * import { afterAll, describe, it } from 'vitest';
 * describeProtocolConformance('gopher', setupGopher, { runner: { describe, it, afterAll } });
 * // node:test
 * import { after, describe, it } from 'node:test';
 * describeProtocolConformance('gopher', setupGopher, { runner: { describe, it, after } });
 */
export function describeProtocolConformance(
  name: string,
  setup: () => ConformanceContext | Promise<ConformanceContext>,
  options: ConformanceOptions,
): void {
  const { runner } = options;
  const connections = options.connections ?? 4;
  if (!(connections >= 2)) throw new RangeError(`the battery needs at least 2 connections, got ${connections}`);
  const afterAll = runner.afterAll ?? runner.after;
  if (afterAll === undefined) throw new TypeError('the runner needs afterAll (vitest) or after (node:test)');
  let context: Promise<ConformanceContext> | undefined;
  const ready = (): Promise<ConformanceContext> => (context ??= Promise.resolve().then(setup));

  /** Runs `body` with a fresh engine and directory, and closes both whatever happens. */
  const scenario = (title: (typeof CONFORMANCE_SCENARIOS)[number], body: (ctx: ConformanceContext, scene: Scene) => Promise<void>): void => {
    runner.it(title, async () => {
      const ctx = await ready();
      const dir = await mkdtemp(join(tmpdir(), 'mg-conformance-'));
      const mg = new Multiget({
        plugins: ctx.plugins(),
        minSplitSize: 128 * KiB,
        checkpointIntervalMs: 50,
        progressIntervalMs: 20,
        retry: { baseDelayMs: 10, maxDelayMs: 100 },
        ...options.engine,
      });
      const scene: Scene = {
        mg,
        dir,
        async download(url, extra = {}) {
          const dl = mg.download(url, { dir, connections, ...extra });
          const codes: string[] = [];
          const restarts: string[] = [];
          let resumedBytes = 0;
          dl.on('retry', (r) => codes.push(r.error.code));
          dl.on('restart', (r) => restarts.push(r.reason));
          dl.on('start', (s) => (resumedBytes = s.resumedBytes));
          const result = await dl.done;
          return { result, codes, restarts, resumedBytes };
        },
        async abortAfter(url, atLeast) {
          const controller = new AbortController();
          const dl = mg.download(url, { dir, connections, signal: controller.signal });
          dl.on('progress', (p) => {
            if (p.bytesDone >= atLeast) controller.abort();
          });
          await assert.rejects(dl.done, (err) => isDownloadError(err) && err.code === ErrorCodes.ABORTED);
        },
        sha256: (file) => hashFile(file, 'sha256'),
      };
      try {
        await body(ctx, scene);
      } finally {
        await mg.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  };

  runner.describe(`${name}: protocol conformance`, () => {
    afterAll(async () => {
      if (context !== undefined) await (await context).close();
    });

    scenario(CONFORMANCE_SCENARIOS[0], async (ctx, { mg }) => {
      const file = await ctx.serve(300 * KiB + 7);
      const job = createJob(file.url);
      const driver = await mg.hooks.resolve.promise(job.url, job);
      assert.ok(driver !== undefined, `no plugin resolves ${job.url.protocol}`);
      const info = (await probeWith(driver, job)).remote!;
      info.initialSource?.cancel();
      assert.equal(info.size, 300 * KiB + 7, 'probe size');
      assert.equal(info.ranges, true, 'probe offers ranges');
      const { etag, lastModified, mtime } = info.validators;
      assert.ok(etag !== undefined || lastModified !== undefined || mtime !== undefined, 'probe names a validator');
      if (file.refuseRanges !== undefined) {
        file.refuseRanges();
        const again = createJob(file.url);
        const refused = (await probeWith(driver, again)).remote!;
        refused.initialSource?.cancel();
        assert.equal(refused.ranges, false, 'probe notices refused ranges');
      }
    });

    scenario(CONFORMANCE_SCENARIOS[1], async (ctx, scene) => {
      const file = await ctx.serve(4 * MiB + 3);
      // Paced, so that the transfers overlap on the server rather than each ending at once.
      file.setFaults({ throttleBytesPerSec: 16 * MiB });
      const { result } = await scene.download(file.url);
      assert.equal(result.size, 4 * MiB + 3);
      assert.equal(await scene.sha256(result.file), file.sha256());
      assert.ok(file.maxConcurrentTransfers() > 1, `transfers at once: ${file.maxConcurrentTransfers()}`);
      assert.deepEqual(await readdir(scene.dir), [result.file.slice(scene.dir.length + 1)]);
    });

    scenario(CONFORMANCE_SCENARIOS[2], async (ctx, scene) => {
      const file = await ctx.serve(2 * MiB);
      file.setFaults({ cutAfterBytes: 200 * KiB, cutTimes: 2 });
      const { result, codes } = await scene.download(file.url);
      assert.equal(await scene.sha256(result.file), file.sha256());
      assert.ok(codes.includes(ErrorCodes.SHORT_BODY), `retried as: ${codes.join(', ')}`);
    });

    scenario(CONFORMANCE_SCENARIOS[3], async (ctx, scene) => {
      const file = await ctx.serve(4 * MiB);
      // Paced, so the server never runs far ahead into socket buffers: what it serves is what was asked.
      file.setFaults({ dropAfterBytes: 300 * KiB, dropTimes: 4, throttleBytesPerSec: 16 * MiB });
      const { result, codes } = await scene.download(file.url);
      assert.equal(await scene.sha256(result.file), file.sha256());
      assert.ok(codes.length > 0, 'the drops were retried');
      assert.ok(codes.every((c) => c === ErrorCodes.SHORT_BODY || c === ErrorCodes.CONNECTION_RESET), `retried as: ${codes.join(', ')}`);
      // Resumed where each connection broke: a driver that started each retry from byte 0 would
      // serve the file about five times over; in-flight bytes of cancelled streams are allowed.
      assert.ok(file.bytesServed() < 3 * 4 * MiB, `served ${file.bytesServed()} bytes for ${4 * MiB}`);
    });

    scenario(CONFORMANCE_SCENARIOS[4], async (ctx, scene) => {
      const file = await ctx.serve(2 * MiB);
      file.setFaults({ stallAfterBytes: 100 * KiB, stallTimes: 1 });
      const { result, codes } = await scene.download(file.url, { stallTimeoutMs: 300 });
      assert.equal(await scene.sha256(result.file), file.sha256());
      assert.ok(codes.includes(ErrorCodes.STALLED), `retried as: ${codes.join(', ')}`);
    });

    scenario(CONFORMANCE_SCENARIOS[5], async (ctx, scene) => {
      // Sized by the read-ahead bound B: 3B bytes, stopped after 2B. A second run that fetched the
      // resumed bytes again would cost at least the whole file; one that resumes costs what was
      // missing (at most B) plus what cancelled streams had in flight (the probe's, a split
      // segment's, an FTP RETR past its segment's end), which is allowed up to B more.
      const bound = options.maxReadAheadBytes ?? 16 * MiB;
      const size = 3 * bound;
      const file = await ctx.serve(size);
      file.setFaults({ throttleBytesPerSec: bound });
      await scene.abortAfter(file.url, 2 * bound);
      const partial = await readdir(scene.dir);
      assert.ok(partial.length > 0, 'partial data kept');
      const before = file.bytesServed();
      const { result, resumedBytes } = await scene.download(file.url);
      assert.equal(result.resumed, true, 'resumed');
      assert.ok(resumedBytes >= 2 * bound, `resumed ${resumedBytes} bytes`);
      assert.equal(await scene.sha256(result.file), file.sha256());
      const served = file.bytesServed() - before;
      assert.ok(served < size - resumedBytes + bound, `second run served ${served} bytes for ${size - resumedBytes} missing`);
    });

    scenario(CONFORMANCE_SCENARIOS[6], async (ctx, scene) => {
      const file = await ctx.serve(4 * MiB);
      const old = file.sha256();
      // Paced, so that the replacement comes while the first ranges still stream.
      file.setFaults({ replaceAfterRequests: 3, throttleBytesPerSec: 16 * MiB });
      const { result, restarts } = await scene.download(file.url);
      assert.ok(result.restarts > 0 && restarts.length > 0, 'the download started over');
      const hash = await scene.sha256(result.file);
      assert.equal(hash, file.sha256());
      assert.notEqual(hash, old);
    });

    scenario(CONFORMANCE_SCENARIOS[7], async (ctx, scene) => {
      const file = await ctx.serve(2 * MiB);
      file.setFaults({ throttleBytesPerSec: 2 * MiB });
      await scene.abortAfter(file.url, 256 * KiB);
      const old = file.sha256();
      file.setFaults({});
      file.replace();
      const { result, restarts } = await scene.download(file.url);
      assert.equal(result.resumed, false, 'not resumed');
      assert.ok(restarts.length > 0, 'a restart was reported');
      const hash = await scene.sha256(result.file);
      assert.equal(hash, file.sha256());
      assert.notEqual(hash, old);
    });

    scenario(CONFORMANCE_SCENARIOS[8], async (ctx, scene) => {
      const file = await ctx.serve(2 * MiB);
      file.setFaults({ throttleBytesPerSec: 2 * MiB });
      await scene.abortAfter(file.url, 256 * KiB);
      file.setFaults({});
      file.replace(3 * MiB + 1);
      const { result } = await scene.download(file.url);
      assert.equal(result.resumed, false, 'not resumed');
      assert.equal(result.size, 3 * MiB + 1);
      assert.equal(await scene.sha256(result.file), file.sha256());
    });

    scenario(CONFORMANCE_SCENARIOS[9], async (ctx, scene) => {
      const file = await ctx.serve(MiB);
      file.setFaults({ wrongLength: 10 });
      const dl = scene.mg.download(file.url, { dir: scene.dir, connections, retries: 2 });
      // The last bytes never come: fewer than announced is a short body, retried, then the failure.
      await assert.rejects(dl.done, (err) => isDownloadError(err) && err.code === ErrorCodes.SHORT_BODY);
      // Whatever is left is partial data, never a file by the final name.
      const target = dl.file;
      assert.ok(target !== undefined, 'the download chose a target');
      assert.ok(!(await readdir(scene.dir)).includes(basename(target)), 'no complete file was claimed');
    });

    scenario(CONFORMANCE_SCENARIOS[10], async (ctx, { mg }) => {
      const bound = options.maxReadAheadBytes ?? 16 * MiB;
      // The server counts what it wrote: bytes in the two sockets' kernel buffers count as read
      // ahead though the driver never saw them, and the receive buffer grows by itself up to its
      // maximum (32 MiB on some machines: a driver reading 1.5 MiB ahead measured 10-24 MB).
      const kernel = await kernelSocketBuffers();
      const size = Math.max(4 * bound, 2 * (bound + kernel));
      const file = await ctx.serve(size);
      const job = createJob(file.url);
      const driver = await mg.hooks.resolve.promise(job.url, job);
      assert.ok(driver !== undefined);
      const info = (await probeWith(driver, job)).remote!;
      info.initialSource?.cancel();
      const controller = new AbortController();
      const source = await driver.fetchRange(rangeRequest(job, 0, size - 1, controller.signal), job);
      const reader = source.body[Symbol.asyncIterator]();
      try {
        const first = await reader.next();
        assert.ok(first.done !== true, 'the range has bytes');
        const consumed = first.value.byteLength;
        assert.ok(consumed <= bound, `a first chunk of ${consumed} bytes (bound ${bound})`);
        // The reader stops here; the server sends what the driver lets it, then waits.
        const served = await settled(() => file.bytesServed());
        assert.ok(
          served - consumed <= bound + kernel,
          `read ahead ${served - consumed} bytes (bound ${bound}, and ${kernel} for the kernel's socket buffers)`,
        );
      } finally {
        controller.abort();
        source.cancel();
        await reader.return?.();
      }
    });

    scenario(CONFORMANCE_SCENARIOS[11], async (ctx, scene) => {
      const file = await ctx.serve(0);
      const { result } = await scene.download(file.url);
      assert.equal(result.size, 0);
      assert.equal((await readFile(result.file)).length, 0);
    });

    scenario(CONFORMANCE_SCENARIOS[12], async (ctx, scene) => {
      const dl = scene.mg.download(ctx.missingUrl(), { dir: scene.dir });
      let retries = 0;
      dl.on('retry', () => retries++);
      await assert.rejects(dl.done, (err) => isDownloadError(err) && err.code === ErrorCodes.NOT_FOUND);
      assert.equal(retries, 0);
    });
  });
}

/**
 * Bytes the kernel may hold in the buffers of one TCP connection's two ends: on Linux the largest
 * receive buffer plus the largest send buffer (the third figures of `tcp_rmem` and `tcp_wmem`, up to
 * which it grows them by itself); elsewhere 8 MiB.
 */
async function kernelSocketBuffers(): Promise<number> {
  const largest = async (name: string): Promise<number | undefined> => {
    try {
      const max = Number((await readFile(`/proc/sys/net/ipv4/${name}`, 'utf8')).trim().split(/\s+/)[2]);
      return Number.isSafeInteger(max) && max > 0 ? max : undefined;
    } catch {
      return undefined;
    }
  };
  const [rmem, wmem] = await Promise.all([largest('tcp_rmem'), largest('tcp_wmem')]);
  return rmem !== undefined && wmem !== undefined ? rmem + wmem : 8 * MiB;
}
