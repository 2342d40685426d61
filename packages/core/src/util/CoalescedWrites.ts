/**
 * Writes that never overlap and merge while they wait: one runs at a time, and every request made
 * while one is under way (or while the next one gathers, see `gatherMs`) is answered by the single
 * next run, which starts when it ends. So a burst of changes (a thousand small downloads finishing
 * together) costs two writes, not a thousand, and each caller still resolves only after a write
 * that began after its request. A failed run rejects the requests it answered; the next run is made
 * anyway.
 */
export class CoalescedWrites {
  /** The run under way, or the last one. */
  #current: Promise<void> = Promise.resolve();
  /** The run that answers the requests made since `#current` began. */
  #next: Promise<void> | undefined;
  readonly #gatherMs: () => number;
  /** Set by `drain`: runs no longer gather. */
  #drained = false;
  /** Ends the gathering wait of the next run, while it waits. */
  #endWait: (() => void) | undefined;

  /**
   * @param write - One run: writes whatever is to be written when its turn comes.
   * @param gatherMs - How long a run waits, after the first request it answers, for more requests
   *   to answer (a timer that keeps the process alive that long). 0: it starts as soon as the run
   *   before it ended. A function is asked each time a run starts to gather.
   */
  constructor(
    private readonly write: () => Promise<void>,
    gatherMs: number | (() => number) = 0,
  ) {
    this.#gatherMs = typeof gatherMs === 'number' ? () => gatherMs : gatherMs;
  }

  /**
   * Resolves once a run that began after this call has written.
   * @param soon - Someone waits for this write: the run does not gather (and one gathering stops).
   */
  request(soon = false): Promise<void> {
    if (soon) this.#endWait?.();
    if (this.#next === undefined) {
      const ms = soon || this.#drained ? 0 : this.#gatherMs();
      const gather = ms > 0 ? this.#gather(ms) : undefined;
      const next = Promise.all([this.#current.catch(() => undefined), gather]).then(() => {
        this.#next = undefined;
        return this.write();
      });
      this.#next = next;
      this.#current = next;
    }
    return this.#next;
  }

  /**
   * From now on, runs start without gathering, and a run that is gathering starts now (when the run
   * before it ends). Resolves once every request made before this call was written (or failed).
   */
  async drain(): Promise<void> {
    this.#drained = true;
    this.#endWait?.();
    await this.#current.catch(() => undefined);
  }

  #gather(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.#endWait === done) this.#endWait = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#endWait = done;
    });
  }
}
