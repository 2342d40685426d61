import { alteredContent, contentSize } from '../generatedContent.js';
import type { FileContent } from '../content.js';
import type { SftpFaults, SftpFileOptions } from './types.js';

/** One version of a file: bytes and the attributes a stat reports for them. */
export interface SftpVersion {
  readonly content: FileContent;
  readonly size: number;
  /** Seconds since the epoch (SFTP v3 has no finer resolution). */
  readonly mtime: number;
}

/** Fault counters; restarted whenever the faults are set. */
interface Counters {
  opens: number;
  drops: number;
  eofs: number;
  replaced: boolean;
}

function validateFaults(faults: SftpFaults): void {
  for (const key of ['dropAfterBytes', 'dropTimes', 'eofAfterBytes', 'eofTimes', 'replaceAfterOpens'] as const) {
    const value = faults[key];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new RangeError(`fault ${key} must be a non-negative number, got ${String(value)}`);
    }
  }
  if (faults.throttleBytesPerSec !== undefined && !(faults.throttleBytesPerSec > 0)) {
    throw new RangeError(`fault throttleBytesPerSec must be positive, got ${faults.throttleBytesPerSec}`);
  }
  if (faults.maxReadReply !== undefined && !(Number.isInteger(faults.maxReadReply) && faults.maxReadReply > 0)) {
    throw new RangeError(`fault maxReadReply must be a positive integer, got ${faults.maxReadReply}`);
  }
}

/** A path the SFTP test server serves: its current version, permissions and faults. */
export class SftpFile {
  current: SftpVersion;
  faults: SftpFaults = {};
  readonly mode: number;
  /** Open handles of this file, which an in-place rewrite reaches. */
  readonly handles = new Set<{ version: SftpVersion }>();
  private counters: Counters = { opens: 0, drops: 0, eofs: 0, replaced: false };

  constructor(
    readonly path: string,
    content: FileContent,
    options: SftpFileOptions,
  ) {
    this.mode = options.mode ?? 0o644;
    // An hour in the past, so replacements can move forward without looking like the future.
    const mtime = options.mtime ?? Math.floor(Date.now() / 1000) - 3600;
    this.current = { content, size: contentSize(content), mtime };
    this.setFaults(options.faults ?? {});
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

  setFaults(faults: SftpFaults): void {
    validateFaults(faults);
    this.faults = { ...faults };
    this.counters = { opens: 0, drops: 0, eofs: 0, replaced: false };
  }

  /** Counts an OPEN and applies `replaceAfterOpens`; true when this open triggered the replacement. */
  admitOpen(): boolean {
    const nth = ++this.counters.opens;
    const after = this.faults.replaceAfterOpens;
    if (after !== undefined && nth > after && !this.counters.replaced) {
      this.counters.replaced = true;
      this.replace(alteredContent(this.current.content));
      return true;
    }
    return false;
  }

  /** Whether a handle that would pass `dropAfterBytes` is the next one to be dropped; commits if so. */
  takeDrop(): boolean {
    if (this.faults.dropAfterBytes === undefined) return false;
    if (this.counters.drops >= (this.faults.dropTimes ?? Infinity)) return false;
    this.counters.drops++;
    return true;
  }

  /** Whether a handle that would pass `eofAfterBytes` is the next one to end early; commits if so. */
  takeEof(): boolean {
    if (this.faults.eofAfterBytes === undefined) return false;
    if (this.counters.eofs >= (this.faults.eofTimes ?? 1)) return false;
    this.counters.eofs++;
    return true;
  }
}
