import { alteredContent, contentSize } from '../generatedContent.js';
import type { FileContent } from '../content.js';
import type { FtpFileFaults, FtpFileOptions } from './types.js';

const SECOND = 1000;

/** Fault counters; restarted whenever the faults are set, so "the first N" counts from that moment. */
interface Counters {
  retrs: number;
  drops: number;
  stalls: number;
  replaced: boolean;
}

/** What a RETR of the file gets: the bytes to serve (a snapshot) and the faults it triggered. */
export interface Admission {
  /** The content at the moment the transfer starts; later replacements do not change it. */
  content: FileContent;
  /** A refusal code from `failTimes`, when this RETR is one of the first `count`. */
  failCode: number | undefined;
  /** Names of the faults applied so far (`failTimes`, `replaceAfterRetrs`). */
  faults: string[];
}

function validateFaults(faults: FtpFileFaults): void {
  const counts: (keyof FtpFileFaults)[] = ['dropAfterBytes', 'dropTimes', 'stallAfterBytes', 'stallTimes', 'replaceAfterRetrs'];
  for (const key of counts) {
    const value = faults[key];
    if (value !== undefined && (typeof value !== 'number' || !(value >= 0))) {
      throw new RangeError(`fault ${key} must be a non-negative number, got ${String(value)}`);
    }
  }
  if (faults.throttleBytesPerSec !== undefined && !(faults.throttleBytesPerSec > 0)) {
    throw new RangeError(`fault throttleBytesPerSec must be positive, got ${faults.throttleBytesPerSec}`);
  }
  const fail = faults.failTimes;
  if (fail !== undefined && (!Number.isInteger(fail.code) || fail.code < 400 || fail.code > 599 || !(fail.count >= 0))) {
    throw new RangeError(`fault failTimes needs a count >= 0 and a 4xx/5xx code, got ${JSON.stringify(fail)}`);
  }
}

/** A file the FTP test server serves: its bytes, modification time and faults. */
export class FtpFile {
  /** What a RETR starting now gets. */
  content: FileContent;
  /** Modification time in whole seconds (ms since the epoch). */
  mtimeMs: number;
  /** Faults in force. */
  faults: FtpFileFaults = {};
  private counters: Counters = { retrs: 0, drops: 0, stalls: 0, replaced: false };

  constructor(
    /** Absolute, normalised path. */
    readonly path: string,
    content: FileContent,
    options: FtpFileOptions = {},
  ) {
    this.content = content;
    // An hour in the past, so a replacement can move forward without looking "in the future".
    this.mtimeMs = Math.floor((options.mtime?.getTime() ?? Date.now() - 3600 * SECOND) / SECOND) * SECOND;
    this.setFaults(options.faults ?? {});
  }

  /** Size in bytes of the current content. */
  get size(): number {
    return contentSize(this.content);
  }

  /** New bytes, and a modification time at least a second later (MDTM has whole seconds). */
  replace(content: FileContent): void {
    this.content = content;
    this.mtimeMs = Math.max(Math.floor(Date.now() / SECOND) * SECOND, this.mtimeMs + SECOND);
  }

  /** Replace the faults and restart their counters. */
  setFaults(faults: FtpFileFaults): void {
    validateFaults(faults);
    this.faults = { ...faults };
    this.counters = { retrs: 0, drops: 0, stalls: 0, replaced: false };
  }

  /** Counts a RETR and applies `failTimes` and `replaceAfterRetrs`. */
  admitRetr(): Admission {
    const nth = ++this.counters.retrs;
    const faults: string[] = [];
    const fail = this.faults.failTimes;
    if (fail !== undefined && nth <= fail.count) {
      return { content: this.content, failCode: fail.code, faults: ['failTimes'] };
    }
    const after = this.faults.replaceAfterRetrs;
    if (after !== undefined && nth > after && !this.counters.replaced) {
      this.counters.replaced = true;
      this.replace(alteredContent(this.content));
      faults.push('replaceAfterRetrs');
    }
    return { content: this.content, failCode: undefined, faults };
  }

  /** Whether a transfer of `length` bytes is the next one cut by `dropAfterBytes`; commits if so. */
  takeDrop(length: number): boolean {
    const { dropAfterBytes, dropTimes } = this.faults;
    if (dropAfterBytes === undefined || length <= dropAfterBytes) return false;
    if (this.counters.drops >= (dropTimes ?? Infinity)) return false;
    this.counters.drops++;
    return true;
  }

  /** Whether a transfer of `length` bytes is the next one to stall; commits if so. */
  takeStall(length: number): boolean {
    const { stallAfterBytes, stallTimes } = this.faults;
    if (stallAfterBytes === undefined || length <= stallAfterBytes) return false;
    if (this.counters.stalls >= (stallTimes ?? 1)) return false;
    this.counters.stalls++;
    return true;
  }
}

/** `YYYYMMDDHHMMSS` in UTC, the MDTM reply format (RFC 3659 §2.3). */
export function mdtmTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    pad(d.getUTCFullYear(), 4) +
    pad(d.getUTCMonth() + 1) +
    pad(d.getUTCDate()) +
    pad(d.getUTCHours()) +
    pad(d.getUTCMinutes()) +
    pad(d.getUTCSeconds())
  );
}
