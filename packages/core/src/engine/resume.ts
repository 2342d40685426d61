import { basename } from 'node:path';
import { fileSystemError } from '../errors.js';
import { type BlockCheck, BlockDigests, checkBlocks, chooseBlockSize, formatRanges, segmentsFromTrusted } from '../storage/blockDigests.js';
import { StateFile, redactUrl } from '../storage/StateFile.js';
import type { ByteReader, Storage } from '../storage/Storage.js';
import { type SavedState, resumeProblem } from '../storage/validateState.js';
import type { DownloadEvents } from '../types.js';
import { OPTION_LIMITS } from '../options/limits.js';
import { connectionCeiling } from '../transfer/policy.js';
import type { Job } from './Job.js';

/** Where the resume step reports what it dropped, and how it plans a fresh start. */
export interface ResumeContext {
  /** The `plan` hook: the initial segments of a fresh download. */
  plan(job: Job): Job['segments'];
  /** Reports a `restart` of the download. */
  restart(...args: DownloadEvents['restart']): void;
  /** Reports a `warning` of the download. */
  warn(...args: DownloadEvents['warning']): void;
}

/**
 * Sets `job.segments`, `job.blocks` and `job.resumed` for a run: from the state of an earlier run
 * when it still matches the remote file and its bytes pass their block digests, else from `plan`.
 * A resumed run first reads and hashes every block (and half-done block) the state has a digest
 * for: only bytes that match are kept; blocks that fail, and claimed bytes without a digest, are
 * fetched again. Nothing checkable left: start over.
 */
export async function prepareRun(job: Job, saved: SavedState | undefined, context: ResumeContext): Promise<void> {
  prepareSegments(job, saved, context);
  await checkSavedBlocks(job, saved, context);
}

function prepareSegments(job: Job, saved: SavedState | undefined, context: ResumeContext): void {
  const remote = job.remote!;
  job.resumed = false;
  job.connections = undefined;
  if (saved) {
    const problem = resumeProblem(saved, basename(job.target!), remote);
    if (problem) {
      context.restart({ reason: `${problem}; starting over` });
    } else if (!saved.ranges || !remote.ranges) {
      context.warn({
        code: 'MG_WARN_NO_RESUME',
        message: 'the server does not support byte ranges, so the partial download cannot be resumed; starting over',
      });
    } else {
      job.segments = saved.segments.map(([start, end, pos], id) => ({ id, start, end: end ?? Infinity, pos }));
      job.resumed = true;
    }
  }
  if (!job.resumed) job.segments = context.plan(job);
  // The connections come with the plan: what a planner set, else what the options allow for the
  // bytes and segments left (a resumed run, or a planner that left it to the engine).
  const single = !remote.ranges || remote.size === undefined;
  let left = 0;
  let unfinished = 0;
  for (const s of job.segments) {
    if (s.pos < s.end) unfinished++;
    left += s.end - s.pos;
  }
  const planned = job.connections;
  const derived = connectionCeiling(job.options, left, unfinished, false);
  // A planner's count is taken when it is one (a whole number within the option's limits), else derived.
  job.connections = single
    ? 1
    : planned !== undefined && Number.isInteger(planned) && planned >= 1 && planned <= OPTION_LIMITS.connections.max
      ? planned
      : derived;
}

async function checkSavedBlocks(job: Job, saved: SavedState | undefined, context: ResumeContext): Promise<void> {
  const size = job.remote!.size ?? Infinity;
  const storage = job.storage!;
  const path = storage.target;
  const openReader = (): Promise<ByteReader> => storage.openReader();
  const blockSize = Number.isFinite(size) ? chooseBlockSize(size) : chooseBlockSize(0);
  if (!job.resumed || !saved) {
    job.blocks = new BlockDigests(size, blockSize, openReader);
    return;
  }
  const claimed = job.bytesDone;
  let check: BlockCheck;
  try {
    check = await checkBlocks(openReader, size, saved.blocks, claimed, job.signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileSystemError(err, `check the blocks of ${path}`);
    check = { trusted: [], failed: [], droppedBytes: claimed, digests: [], seeds: [] };
  }
  if (check.failed.length > 0) {
    context.warn({
      code: 'MG_WARN_BLOCKS_REFETCHED',
      message: `bytes ${formatRanges(check.failed)} of ${path} no longer match the digests recorded when they arrived; fetching them again`,
    });
  }
  let trusted = check.trusted;
  // A stream of unknown length continues from one point: only the checked prefix counts.
  if (!Number.isFinite(size)) trusted = trusted[0]?.[0] === 0 ? [trusted[0]] : [];
  if (trusted.length === 0 || !saved.blocks) {
    if (claimed > 0) {
      context.restart({
        reason: `none of the ${claimed} bytes the state claims could be checked against a block digest; starting over`,
      });
    }
    job.resumed = false;
    job.segments = context.plan(job);
    job.blocks = new BlockDigests(size, blockSize, openReader);
    return;
  }
  if (Number.isFinite(size)) {
    job.segments = segmentsFromTrusted(size, trusted);
    job.blocks = new BlockDigests(size, saved.blocks.size, openReader, { digests: check.digests, seeds: check.seeds });
  } else {
    const end = trusted[0]![1];
    job.segments = [{ id: 0, start: 0, end: Infinity, pos: end }];
    job.blocks = new BlockDigests(size, saved.blocks.size, openReader, {
      digests: check.digests.map((d, i) => ((i + 1) * saved.blocks!.size <= end ? d : null)),
      seeds: check.seeds.filter((r) => r.next <= end),
    });
  }
}

/** A resumed temporary file must hold at least the bytes its state claims: checked before the transfer writes on. */
export async function checkResumedLength(job: Job, storage: Storage): Promise<void> {
  if (!job.resumed) return;
  let claimed = 0;
  for (const s of job.segments) claimed = Math.max(claimed, s.pos);
  await storage.checkLength(claimed);
}

/**
 * The state of a download as a checkpoint records it, taken now (synchronously): the segments and
 * block digests of the bytes whose writes resolved. Never a credential: URLs are redacted.
 */
export function stateOf(job: Job): SavedState {
  const remote = job.remote!;
  const blocks = job.blocks?.toSaved();
  return {
    format: 'multiget-state',
    version: 2,
    target: basename(job.target!),
    url: redactUrl(job.givenUrl),
    finalUrl: redactUrl(remote.url),
    size: remote.size ?? null,
    ranges: remote.ranges,
    validators: remote.validators,
    segments: StateFile.encodeSegments(job.segments),
    ...(blocks ? { blocks } : {}),
    updatedAt: new Date().toISOString(),
  };
}
