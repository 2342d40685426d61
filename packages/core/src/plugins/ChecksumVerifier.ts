import { hashFile, strongestDigest } from '../checksum.js';
import { ChecksumError } from '../errors.js';
import type { HookHost, Plugin } from '../hooks.js';

const PLUGIN_NAME = 'ChecksumVerifier';

/**
 * The built-in verifier: when a digest is known (the caller's wins; else the strongest the server
 * announced), hashes the finished temporary file and fails with MG_ERR_CHECKSUM_MISMATCH when it
 * differs. Runs before the file is moved into place, so a mismatch never leaves a complete-looking file.
 */
export class ChecksumVerifier implements Plugin {
  readonly name = PLUGIN_NAME;

  apply(engine: HookHost): void {
    engine.hooks.verify.tapPromise(PLUGIN_NAME, async (job) => {
      const digest = job.options.checksum ?? strongestDigest(job.remote?.digests ?? []);
      if (!digest || !job.tempPath) return undefined;
      const actual = await hashFile(job.tempPath, digest.algorithm, job.signal);
      if (actual !== digest.hex) {
        return new ChecksumError(
          `Checksum mismatch: ${digest.algorithm} of the downloaded data is ${actual}, ` +
            `expected ${digest.hex} (from the ${digest.source === 'user' ? 'checksum option' : 'server'}); ` +
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
