/**
 * The one table of Multiget's numeric options: every range check (engine, manager, CLI flags, the
 * service's params, input files) reads it, so a limit is written once. Each row gives the unit the
 * value is counted in, the smallest and largest value accepted (inclusive) and the default that
 * applies when the option is not given (`undefined`: the option is off, e.g. no rate limit).
 */

/** What a numeric option counts. */
export type OptionUnit = 'count' | 'bytes' | 'bytes/s' | 'ms';

/** One row of {@link OPTION_LIMITS}; `D` is the type of its default (`undefined`: off unless given). */
export interface OptionLimit<D extends number | undefined = number | undefined> {
  /** What the value counts. */
  readonly unit: OptionUnit;
  /** Smallest value accepted (inclusive). */
  readonly min: number;
  /** Largest value accepted (inclusive). */
  readonly max: number;
  /** The value used when the option is not given; `undefined` when the option is then off. */
  readonly default: D;
  /** One line for documentation and `--help`. */
  readonly description: string;
}

/** A day: the longest timeout or time window accepted. */
const DAY_MS = 86_400_000;
const MAX = Number.MAX_SAFE_INTEGER;

/** The rows of {@link OPTION_LIMITS}, one per numeric option. */
export interface OptionLimits {
  /** Connections per download. */
  readonly connections: OptionLimit<number>;
  /** Connections to one host, across all downloads. */
  readonly maxConnectionsPerHost: OptionLimit<number>;
  /** Connections in total, across all downloads (the manager's budget; a bare engine has no cap unless given). */
  readonly maxConnections: OptionLimit<number>;
  /** Downloads transferring at once (the manager queue). */
  readonly maxConcurrent: OptionLimit<number>;
  /** A segment is split only into parts of at least this size (except a slow connection's tail, see Scheduler). */
  readonly minSplitSize: OptionLimit<number>;
  /** Rate limit (of one download, or of all together); none by default. */
  readonly rateLimit: OptionLimit<undefined>;
  /** Failures in a row without progress before a download fails. */
  readonly retries: OptionLimit<number>;
  /** Time allowed to open a connection. */
  readonly connectTimeoutMs: OptionLimit<number>;
  /** Time without a byte before a connection counts as stalled. */
  readonly stallTimeoutMs: OptionLimit<number>;
  /** Lowest speed of a download over lowestSpeedTimeMs (0: off). */
  readonly lowestSpeed: OptionLimit<number>;
  /** Window of the lowest-speed and slow-connection rules. */
  readonly lowestSpeedTimeMs: OptionLimit<number>;
  /** Times a download may start over because the remote file changed. */
  readonly maxRestarts: OptionLimit<number>;
  /** How often the state file is rewritten. */
  readonly checkpointIntervalMs: OptionLimit<number>;
  /** How often a download's progress event fires. */
  readonly progressIntervalMs: OptionLimit<number>;
  /** Queue priority of a download (higher runs first). */
  readonly priority: OptionLimit<number>;
  /** Finished downloads the manager keeps in its history. */
  readonly historyLimit: OptionLimit<number>;
}

/** The numeric options, by their name in the library API (camelCase). Frozen; all integers. */
export const OPTION_LIMITS: OptionLimits = Object.freeze<OptionLimits>({
  connections: { unit: 'count', min: 1, max: 256, default: 8, description: 'connections per download' },
  maxConnectionsPerHost: { unit: 'count', min: 1, max: 256, default: 16, description: 'connections to one host, across all downloads' },
  maxConnections: {
    unit: 'count',
    min: 1,
    max: 4096,
    default: 64,
    description: "connections in total, across all downloads (the manager's budget; a bare engine has no cap unless given)",
  },
  maxConcurrent: { unit: 'count', min: 1, max: 1000, default: 3, description: 'downloads transferring at once (the manager queue)' },
  minSplitSize: { unit: 'bytes', min: 1, max: MAX, default: 1024 * 1024, description: 'a segment is split into parts of at least this size, except a slow connection\'s tail' },
  rateLimit: { unit: 'bytes/s', min: 1, max: MAX, default: undefined, description: 'rate limit (of one download, or of all together); none by default' },
  retries: { unit: 'count', min: 0, max: 1000, default: 5, description: 'failures in a row without progress before a download fails' },
  connectTimeoutMs: { unit: 'ms', min: 1, max: DAY_MS, default: 15_000, description: 'time allowed to open a connection' },
  stallTimeoutMs: { unit: 'ms', min: 1, max: DAY_MS, default: 30_000, description: 'time without a byte before a connection counts as stalled' },
  lowestSpeed: { unit: 'bytes/s', min: 0, max: MAX, default: 1024, description: 'lowest speed of a download over lowestSpeedTimeMs (0: off)' },
  lowestSpeedTimeMs: { unit: 'ms', min: 1, max: DAY_MS, default: 30_000, description: 'window of the lowest-speed and slow-connection rules' },
  maxRestarts: { unit: 'count', min: 0, max: 1000, default: 3, description: 'times a download may start over because the remote file changed' },
  checkpointIntervalMs: { unit: 'ms', min: 1, max: DAY_MS, default: 1000, description: 'how often the state file is rewritten' },
  progressIntervalMs: { unit: 'ms', min: 1, max: DAY_MS, default: 250, description: "how often a download's progress event fires" },
  priority: { unit: 'count', min: -1_000_000, max: 1_000_000, default: 0, description: 'queue priority of a download (higher runs first)' },
  historyLimit: { unit: 'count', min: 0, max: 1_000_000, default: 1000, description: 'finished downloads the manager keeps in its history' },
});

/** The name of a numeric option (a key of {@link OPTION_LIMITS}). */
export type NumericOptionName = keyof OptionLimits;

/** `1-256`, `0 or more`, `1 or more`: the accepted range for `--help` and messages. */
export function describeRange(name: NumericOptionName): string {
  const { min, max } = OPTION_LIMITS[name];
  return max === MAX ? `${min} or more` : `${min}-${max}`;
}
