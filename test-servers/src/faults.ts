/**
 * The one fault vocabulary of the test servers. HTTP, FTP and SFTP name the same fault the same way
 * and count it the same way; what differs is only how their protocol shows it (the table in the
 * README). Each server's own fault type extends {@link TransferFaults} with what only it can do.
 */

/**
 * Faults of one served file, under the names every server uses. Counters ("the first N transfers")
 * count the requests of the file (HTTP requests, FTP RETRs, SFTP OPENs) since its faults were last
 * set. A "transfer" is one response body, one data connection, one open handle.
 */
export interface TransferFaults {
  /** Per transfer: bytes per second, paced by a timer-driven token bucket (slow server, slow link). */
  throttleBytesPerSec?: number;
  /**
   * Connection lost mid-body: after this many bytes of a transfer that would send more, the
   * connection carrying it goes (HTTP: the socket closes under a longer Content-Length; FTP: the
   * data connection closes and the reply is 426; SFTP: the SSH connection is destroyed) ...
   */
  dropAfterBytes?: number;
  /** ... for the first N such transfers only (default: every one). */
  dropTimes?: number;
  /**
   * Short body: after this many bytes of a transfer that would send more, the server ends it as
   * though the file ended there, reporting success (HTTP: a chunked body's last chunk; FTP: the data
   * connection closes and the reply is 226; SFTP: EOF) ...
   */
  cutAfterBytes?: number;
  /** ... for the first N such transfers only (default 1). */
  cutTimes?: number;
  /** Stall: after this many bytes of a longer transfer, nothing more, the connection kept open ... */
  stallAfterBytes?: number;
  /** ... for the first N such transfers only (default 1). */
  stallTimes?: number;
  /**
   * Content change: after N requests the file is replaced once, just before the next one is served:
   * same size, new bytes, new validators (HTTP ETag and Last-Modified, FTP MDTM, SFTP mtime), each
   * at least a second later. Transfers under way keep the old bytes.
   */
  replaceAfterRequests?: number;
  /**
   * Wrong length: the size the server announces (HTTP Content-Length and Content-Range, FTP SIZE,
   * SFTP stat) is this many bytes more than it has; a transfer that reaches the real end stops there
   * (HTTP: the connection closes; FTP: 226; SFTP: EOF). A non-negative integer.
   */
  wrongLength?: number;
  /**
   * Status: every request of the file is answered with this code of the protocol (HTTP status such
   * as 404 or 500; FTP reply to RETR such as 550; SFTP status to OPEN such as 3, permission denied).
   */
  status?: number;
  /**
   * The first `count` requests get `code` (HTTP status, FTP reply, SFTP status), then the file is
   * served. `retryAfter` (seconds) is sent as HTTP's Retry-After; the other protocols have none.
   */
  failTimes?: { count: number; code: number; retryAfter?: number };
  /**
   * Ranges refused: HTTP answers a Range request with 200 and the whole body (still advertising
   * `Accept-Ranges: bytes`). FTP refuses ranges server-wide (`refuseRest`); SFTP cannot refuse them.
   */
  refuseRanges?: boolean;
}

/** The faults whose "first N" is counted: an `...AfterBytes` limit and its `...Times`. */
export type CountedFault = 'drop' | 'cut' | 'stall';

const LIMITS = {
  drop: ['dropAfterBytes', 'dropTimes', Infinity],
  cut: ['cutAfterBytes', 'cutTimes', 1],
  stall: ['stallAfterBytes', 'stallTimes', 1],
} as const satisfies Record<CountedFault, readonly [keyof TransferFaults, keyof TransferFaults, number]>;

/** Throws a RangeError naming the first shared fault whose value makes no sense. */
export function validateTransferFaults(faults: TransferFaults): void {
  const counts = ['dropAfterBytes', 'dropTimes', 'cutAfterBytes', 'cutTimes', 'stallAfterBytes', 'stallTimes', 'replaceAfterRequests', 'wrongLength'] as const;
  for (const key of counts) {
    const value = faults[key];
    if (value !== undefined && (typeof value !== 'number' || !(value >= 0))) {
      throw new RangeError(`fault ${key} must be a non-negative number, got ${String(value)}`);
    }
  }
  if (faults.wrongLength !== undefined && !Number.isInteger(faults.wrongLength)) {
    throw new RangeError(`fault wrongLength must be an integer, got ${faults.wrongLength}`);
  }
  if (faults.throttleBytesPerSec !== undefined && !(faults.throttleBytesPerSec > 0)) {
    throw new RangeError(`fault throttleBytesPerSec must be positive, got ${faults.throttleBytesPerSec}`);
  }
  const fail = faults.failTimes;
  if (fail !== undefined && (!Number.isInteger(fail.code) || !(fail.count >= 0))) {
    throw new RangeError(`fault failTimes needs a count >= 0 and an integer code, got ${JSON.stringify(fail)}`);
  }
  if (faults.status !== undefined && !Number.isInteger(faults.status)) {
    throw new RangeError(`fault status must be an integer, got ${faults.status}`);
  }
}

/** What a request of a file gets from its faults, decided once when it arrives. */
export interface Admission {
  /** 1-based number of the request since the faults were set. */
  readonly nth: number;
  /** The code to refuse it with (`status`, or `failTimes` while it lasts), if any. */
  readonly refuse: { code: number; fault: 'status' | 'failTimes'; retryAfter?: number } | undefined;
  /** True when this request triggers `replaceAfterRequests`: the caller replaces the content now. */
  readonly replace: boolean;
}

/**
 * The faults of one file and their counters, the same for every server. The counters restart
 * whenever the faults are set, so a test that switches a fault on mid-way gets "the first N"
 * counted from that moment.
 */
export class FaultState<F extends TransferFaults> {
  private current!: F;
  private requests = 0;
  private replaced = false;
  private taken: Record<CountedFault, number> = { drop: 0, cut: 0, stall: 0 };

  constructor(
    faults: F,
    /** Checks the server's own faults, after the shared ones. */
    private readonly validate: (faults: F) => void = () => undefined,
  ) {
    this.set(faults);
  }

  /** The faults in force. */
  get faults(): F {
    return this.current;
  }

  /** Replaces the faults (after checking them) and restarts their counters. */
  set(faults: F): void {
    validateTransferFaults(faults);
    this.validate(faults);
    this.current = { ...faults };
    this.requests = 0;
    this.replaced = false;
    this.taken = { drop: 0, cut: 0, stall: 0 };
  }

  /** Counts a request of the file and decides `status`, `failTimes` and `replaceAfterRequests` for it. */
  admit(): Admission {
    const nth = ++this.requests;
    const { status, failTimes, replaceAfterRequests } = this.current;
    if (status !== undefined) return { nth, refuse: { code: status, fault: 'status' }, replace: false };
    if (failTimes !== undefined && nth <= failTimes.count) {
      const refuse = { code: failTimes.code, fault: 'failTimes' as const, ...(failTimes.retryAfter === undefined ? {} : { retryAfter: failTimes.retryAfter }) };
      return { nth, refuse, replace: false };
    }
    const replace = replaceAfterRequests !== undefined && nth > replaceAfterRequests && !this.replaced;
    if (replace) this.replaced = true;
    return { nth, refuse: undefined, replace };
  }

  /**
   * Whether a transfer with `length` bytes still to send (unknown: Infinity) is the next one `kind`
   * shapes, committing if so. Returns the byte count it stops after, or undefined.
   */
  take(kind: CountedFault, length = Infinity): number | undefined {
    const [limitKey, timesKey, defaultTimes] = LIMITS[kind];
    const limit = this.current[limitKey] as number | undefined;
    if (limit === undefined || length <= limit) return undefined;
    const times = (this.current[timesKey] as number | undefined) ?? defaultTimes;
    if (this.taken[kind] >= times) return undefined;
    this.taken[kind]++;
    return limit;
  }
}
