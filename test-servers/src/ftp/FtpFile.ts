import { alteredContent, contentSize } from '../generatedContent.js';
import type { FileContent } from '../content.js';
import { FaultState } from '../faults.js';
import type { FtpFileFaults, FtpFileOptions } from './types.js';

const SECOND = 1000;

/** What a RETR of the file gets: the bytes to serve (a snapshot) and the faults it triggered. */
export interface RetrAdmission {
  /** The content at the moment the transfer starts; later replacements do not change it. */
  content: FileContent;
  /** A refusal code from `status` or `failTimes`. */
  failCode: number | undefined;
  /** Names of the faults applied so far (`status`, `failTimes`, `replaceAfterRequests`). */
  faults: string[];
}

/** FTP's checks beyond the shared ones: a refusal must be a reply code that means one. */
function validateFtpFaults(faults: FtpFileFaults): void {
  for (const code of [faults.failTimes?.code, faults.status]) {
    if (code !== undefined && (code < 400 || code > 599)) {
      throw new RangeError(`FTP refusals need a 4xx/5xx code, got ${code}`);
    }
  }
}

/** A file the FTP test server serves: its bytes, modification time and faults. */
export class FtpFile {
  /** What a RETR starting now gets. */
  content: FileContent;
  /** Modification time in whole seconds (ms since the epoch). */
  mtimeMs: number;
  /** Faults in force and their counters. */
  readonly faultState: FaultState<FtpFileFaults>;

  constructor(
    /** Absolute, normalised path. */
    readonly path: string,
    content: FileContent,
    options: FtpFileOptions = {},
  ) {
    this.content = content;
    // An hour in the past, so a replacement can move forward without looking "in the future".
    this.mtimeMs = Math.floor((options.mtime?.getTime() ?? Date.now() - 3600 * SECOND) / SECOND) * SECOND;
    this.faultState = new FaultState(options.faults ?? {}, validateFtpFaults);
  }

  /** Faults in force. */
  get faults(): FtpFileFaults {
    return this.faultState.faults;
  }

  /** The size SIZE reports: the real one, plus `wrongLength`. */
  get announcedSize(): number {
    return this.size + (this.faults.wrongLength ?? 0);
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
    this.faultState.set(faults);
  }

  /** Counts a RETR and applies `status`, `failTimes` and `replaceAfterRequests`. */
  admitRetr(): RetrAdmission {
    const { refuse, replace } = this.faultState.admit();
    if (refuse !== undefined) return { content: this.content, failCode: refuse.code, faults: [refuse.fault] };
    if (replace) this.replace(alteredContent(this.content));
    return { content: this.content, failCode: undefined, faults: replace ? ['replaceAfterRequests'] : [] };
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
