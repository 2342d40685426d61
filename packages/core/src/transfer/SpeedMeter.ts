/** Speed over a sliding window of samples, so one burst does not swing the figure. */
export class SpeedMeter {
  private readonly samples: Array<{ t: number; bytes: number }> = [];

  constructor(private readonly windowMs = 3000) {}

  /** Records the running byte count at time `t` (ms). */
  sample(bytes: number, t = performance.now()): void {
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[1]!.t > this.windowMs) this.samples.shift();
  }

  /** Bytes per second over the window (0 until two samples exist). */
  get bytesPerSecond(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.t - first.t < 1) return 0;
    return Math.max(0, ((last.bytes - first.bytes) * 1000) / (last.t - first.t));
  }

  /** Forgets every sample, so a new run of transfers does not average in the time before it. */
  reset(): void {
    this.samples.length = 0;
  }
}
