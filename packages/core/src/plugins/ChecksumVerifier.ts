import { hashData, strongestDigest } from '../util/checksum.js';
import type { ByteReader } from '../storage/Storage.js';
import { ChecksumError } from '../errors.js';
import type { Digest } from '../types.js';
import type { HookHost, Plugin } from '../engine/hooks.js';
import { type ByteRange, changedBlocks, formatRanges } from '../storage/blockDigests.js';

const PLUGIN_NAME = 'ChecksumVerifier';

/**
 * The built-in verifier: when a digest is known (the caller's wins; else the strongest the server
 * announced), hashes the finished data (through the download's storage) and fails with MG_ERR_CHECKSUM_MISMATCH when it
 * differs. Runs before the file is moved into place, so a mismatch never leaves a complete-looking file.
 * On a mismatch, the block digests recorded as the bytes arrived tell where it comes from: the
 * error names the ranges that changed on disk since, or says that the bytes are the ones received.
 */
export class ChecksumVerifier implements Plugin {
  readonly name = PLUGIN_NAME;

  apply(engine: HookHost): void {
    engine.hooks.verify.tapPromise(PLUGIN_NAME, async (job) => {
      const digest = job.options.checksum ?? strongestDigest(job.remote?.digests ?? []);
      const storage = job.storage;
      if (!digest || !storage) return undefined;
      const openReader = (): Promise<ByteReader> => storage.openReader();
      const actual = await hashData(openReader, digest.algorithm, job.signal);
      if (actual !== digest.hex) {
        let where = '';
        if (job.blocks) {
          await job.blocks.settle();
          const bad: ByteRange[] | undefined = await changedBlocks(openReader, job.blocks, job.signal).catch(() => undefined);
          if (bad && bad.length > 0) where = `; bytes ${formatRanges(bad)} changed on disk after they were received`;
          else if (bad) where = '; every block on disk is what was received, so the data sent differs from the digest';
        }
        return new ChecksumError(
          `Checksum mismatch: ${digest.algorithm} of the downloaded data is ${actual}, ` +
            `expected ${digest.hex} (from ${digestSource(digest)})${where}; ` +
            'the data was discarded',
          digest.algorithm,
          digest.hex,
          actual,
        );
      }
      job.verifiedDigest = digest;
      return undefined;
    });
  }
}

/** Where a digest came from, for the mismatch message. */
function digestSource(digest: Digest): string {
  if (digest.source === 'user') return 'the checksum option';
  if (digest.source === 'file') return `the checksum file ${digest.url ?? ''}`.trimEnd();
  return 'the server';
}
