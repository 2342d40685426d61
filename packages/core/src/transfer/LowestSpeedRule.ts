import { type DownloadError, ErrorCodes, NetworkError } from '../errors.js';
import { formatBytes } from '../storage/space.js';

/** One sample of a connection: when, bytes received so far, milliseconds held by us so far. */
interface Sample {
  t: number;
  bytes: number;
  held: number;
}

/** What the rule knows of one connection. */
interface Track {
  bytes: number;
  /** Milliseconds held by Multiget, holds that ended. */
  held: number;
  /** When the current hold began, or undefined when the connection waits for the network. */
  holdingSince: number | undefined;
  samples: Sample[];
  /** Bytes the connection still has to fetch (Infinity when unknown). */
  remaining: () => number;
}

/** A connection the rule wants restarted, and why. */
export interface SlowVerdict {
  /** The connection's key, as given to {@link LowestSpeedRule.start}. */
  worker: number;
  /**
   * `download`: the whole download ran below the lowest speed for the window (a dripping server);
   * `sibling`: this connection ran far slower than the download's other connections.
   */
  kind: 'download' | 'sibling';
  /** The connection's speed over the window, in bytes per second of network time. */
  bytesPerSecond: number;
  /** The download's speed (kind `download`) or the median of the siblings (kind `sibling`), bytes per second. */
  referenceBytesPerSecond: number;
}

/** A connection is "far slower" than its siblings below this fraction of their median speed. */
const SIBLING_FRACTION = 1 / 10;
/** Siblings needed before one connection is compared with the others. */
const MIN_SIBLINGS = 2;

/**
 * The lowest-speed rule of one transfer (aria2's --lowest-speed-limit, curl's --speed-limit and
 * --speed-time), and the retirement of a connection far slower than its siblings.
 *
 * Speeds are measured in network time: the milliseconds a connection spends held by Multiget itself
 * (waiting for the rate limiter, writing to disk) are taken out, so a rate limit or a slow disk never
 * looks like a slow server. A connection is judged only once it has a whole window of history, so a
 * new connection is never judged on its connect and first bytes.
 *
 * - Download rule: when every connection has a full window and their speeds add up to less than
 *   `limit`, all of them are returned (kind `download`). The sum, not each connection: sixteen
 *   connections sharing a real 10 KiB/s link are slow one by one but not as a download.
 * - Sibling rule: with at least three judged connections, the slowest one below a tenth of the
 *   median of the others, and with more left to fetch than it would get in another window at its
 *   speed, is returned (kind `sibling`); one per check, so the others keep running.
 *
 * Time comes from the caller (`now`, milliseconds), so the rule is tested without clocks.
 */
export class LowestSpeedRule {
  private readonly tracks = new Map<number, Track>();

  /**
   * @param limit - Bytes per second below which the download counts as stalled; 0 turns the
   *   download rule off (the sibling rule stays).
   * @param windowMs - Milliseconds of history both rules look at.
   */
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** A connection starts (or restarts) at `now`: its history begins empty. */
  start(worker: number, now: number, remaining: () => number): void {
    this.tracks.set(worker, { bytes: 0, held: 0, holdingSince: undefined, samples: [{ t: now, bytes: 0, held: 0 }], remaining });
  }

  /** The connection received `bytes`. */
  received(worker: number, bytes: number): void {
    const track = this.tracks.get(worker);
    if (track) track.bytes += bytes;
  }

  /**
   * From `now` on the connection is held by Multiget (rate limiter, disk), not waiting for the
   * network, until {@link release}. Counted while it lasts, so a long wait is never mistaken for a
   * silent server.
   */
  hold(worker: number, now: number): void {
    const track = this.tracks.get(worker);
    if (track && track.holdingSince === undefined) track.holdingSince = now;
  }

  /** The hold begun by {@link hold} ended at `now`. */
  release(worker: number, now: number): void {
    const track = this.tracks.get(worker);
    if (!track || track.holdingSince === undefined) return;
    track.held += Math.max(0, now - track.holdingSince);
    track.holdingSince = undefined;
  }

  /** The connection ended. */
  stop(worker: number): void {
    this.tracks.delete(worker);
  }

  /** Samples every connection at `now` and returns the connections to restart (none most of the time). */
  check(now: number): SlowVerdict[] {
    const speeds = new Map<number, number>();
    let allJudged = this.tracks.size > 0;
    for (const [worker, track] of this.tracks) {
      const held = track.held + (track.holdingSince === undefined ? 0 : Math.max(0, now - track.holdingSince));
      track.samples.push({ t: now, bytes: track.bytes, held });
      // Keep the newest sample that is at least a window old, and everything after it.
      while (track.samples.length > 2 && track.samples[1]!.t <= now - this.windowMs) track.samples.shift();
      const first = track.samples[0]!;
      if (now - first.t < this.windowMs) {
        allJudged = false;
        continue;
      }
      const networkMs = now - first.t - (held - first.held);
      // Held nearly all the window: too little network time to judge the server by.
      if (networkMs < this.windowMs / 10) {
        allJudged = false;
        continue;
      }
      speeds.set(worker, ((track.bytes - first.bytes) * 1000) / networkMs);
    }

    if (this.limit > 0 && allJudged) {
      let total = 0;
      for (const speed of speeds.values()) total += speed;
      if (total < this.limit) {
        const verdicts: SlowVerdict[] = [];
        for (const [worker, speed] of speeds) {
          verdicts.push({ worker, kind: 'download', bytesPerSecond: speed, referenceBytesPerSecond: total });
          this.tracks.delete(worker);
        }
        return verdicts;
      }
    }

    if (speeds.size < MIN_SIBLINGS + 1) return [];
    let slowest: SlowVerdict | undefined;
    for (const [worker, speed] of speeds) {
      const others = [...speeds].filter(([w]) => w !== worker).map(([, s]) => s);
      const median = medianOf(others);
      if (!(speed < median * SIBLING_FRACTION)) continue;
      // It would finish within another window anyway: a restart gains nothing.
      if (this.tracks.get(worker)!.remaining() <= (speed * this.windowMs) / 1000) continue;
      if (slowest === undefined || speed < slowest.bytesPerSecond) {
        slowest = { worker, kind: 'sibling', bytesPerSecond: speed, referenceBytesPerSecond: median };
      }
    }
    if (slowest === undefined) return [];
    this.tracks.delete(slowest.worker);
    return [slowest];
  }
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The MG_ERR_STALLED that restarts a connection the lowest-speed rule picked. */
export function slowError(verdict: SlowVerdict, limit: number, windowMs: number, url: string): DownloadError {
  const seconds = Math.round(windowMs / 1000);
  const speed = `${formatBytes(Math.round(verdict.bytesPerSecond))}/s`;
  const reference = `${formatBytes(Math.round(verdict.referenceBytesPerSecond))}/s`;
  return new NetworkError(
    ErrorCodes.STALLED,
    verdict.kind === 'download'
      ? `Slower than ${formatBytes(limit)}/s for ${seconds} s from ${url} (${reference})`
      : `A connection to ${url} ran at ${speed} for ${seconds} s, far below its siblings (${reference}); restarting it`,
  );
}
