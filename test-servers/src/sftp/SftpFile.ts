import { alteredContent, contentSize } from '../generatedContent.js';
import type { FileContent } from '../content.js';
import { FaultState } from '../faults.js';
import type { SftpFaults, SftpFileOptions } from './types.js';

/** One version of a file: bytes and the attributes a stat reports for them. */
export interface SftpVersion {
  readonly content: FileContent;
  readonly size: number;
  /** Seconds since the epoch (SFTP v3 has no finer resolution). */
  readonly mtime: number;
}

/** SFTP's own faults; the shared ones are checked by {@link FaultState}. */
function validateSftpFaults(faults: SftpFaults): void {
  if (faults.maxReadReply !== undefined && !(Number.isInteger(faults.maxReadReply) && faults.maxReadReply > 0)) {
    throw new RangeError(`fault maxReadReply must be a positive integer, got ${faults.maxReadReply}`);
  }
}

/** A path the SFTP test server serves: its current version, permissions and faults. */
export class SftpFile {
  current: SftpVersion;
  /** Faults in force and their counters. */
  readonly faultState: FaultState<SftpFaults>;
  readonly mode: number;
  /** Open handles of this file, which an in-place rewrite reaches. */
  readonly handles = new Set<{ version: SftpVersion }>();

  constructor(
    readonly path: string,
    content: FileContent,
    options: SftpFileOptions,
  ) {
    this.mode = options.mode ?? 0o644;
    // An hour in the past, so replacements can move forward without looking like the future.
    const mtime = options.mtime ?? Math.floor(Date.now() / 1000) - 3600;
    this.current = { content, size: contentSize(content), mtime };
    this.faultState = new FaultState(options.faults ?? {}, validateSftpFaults);
  }

  /** Faults in force. */
  get faults(): SftpFaults {
    return this.faultState.faults;
  }

  /** The size a stat reports: the real one, plus `wrongLength`. */
  announcedSize(version: SftpVersion = this.current): number {
    return version.size + (this.faults.wrongLength ?? 0);
  }

  /**
   * New bytes; the mtime moves at least a second forward unless given. In place, open handles read
   * the new version too (a rewrite); otherwise they keep theirs (a rename over the file).
   */
  replace(content: FileContent, mtime?: number, inPlace = false): void {
    const next = mtime ?? Math.max(Math.floor(Date.now() / 1000), this.current.mtime + 1);
    this.current = { content, size: contentSize(content), mtime: next };
    if (inPlace) for (const handle of this.handles) handle.version = this.current;
  }

  /** Replace the faults and restart their counters. */
  setFaults(faults: SftpFaults): void {
    this.faultState.set(faults);
  }

  /**
   * Counts an OPEN and applies `status`, `failTimes` and `replaceAfterRequests`: the status to refuse
   * it with, and whether this open triggered the replacement.
   */
  admitOpen(): { refuse: { code: number; fault: string } | undefined; replaced: boolean } {
    const { refuse, replace } = this.faultState.admit();
    if (replace) this.replace(alteredContent(this.current.content));
    return { refuse, replaced: replace };
  }
}
