import type { ByteSource, DownloadError, JobOptions } from '@multiget/core';
import { rejectionOf as rejection } from '@multiget/core/testing';

// Driver-test helpers come from core's kit for plugin authors; the names stay what these tests use.
export {
  createJob as makeJob,
  probeWith as probed,
  readSource as readAll,
  rejectionOf as rejection,
  rangeRequest as rangeOf,
} from '@multiget/core/testing';

/** Reads `n` bytes of a source, then stops reading (as the engine does at a segment's end). */
export async function readSome(source: ByteSource, n: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let got = 0;
  for await (const chunk of source.body) {
    const piece = chunk.subarray(0, n - got);
    chunks.push(piece);
    got += piece.byteLength;
    if (got >= n) break;
  }
  return Buffer.concat(chunks);
}

/** Polls `condition` every 5 ms until it holds (the test timeout bounds the wait). */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** The subset of Multiget this file needs (kept structural so the helper stays engine-agnostic). */
interface Downloader {
  download(
    url: string,
    options: { dir: string; connections?: number; signal?: AbortSignal; credentials?: JobOptions['credentials'] },
  ): {
    on(event: 'progress', listener: (p: { bytesDone: number }) => void): unknown;
    done: Promise<unknown>;
  };
}

/**
 * Starts a download, aborts its signal once `atLeast` bytes are on disk, and returns the error the
 * download ended with (MG_ERR_ABORTED, partial data kept).
 */
export async function abortMidway(
  mg: Downloader,
  url: string,
  options: { dir: string; connections?: number; credentials?: JobOptions['credentials'] },
  atLeast: number,
): Promise<DownloadError> {
  const controller = new AbortController();
  const dl = mg.download(url, { ...options, signal: controller.signal });
  dl.on('progress', (p) => {
    if (p.bytesDone >= atLeast) controller.abort();
  });
  return await rejection(dl.done);
}
