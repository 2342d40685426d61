/**
 * Writes that never overlap and merge while they wait: one runs at a time, and every request made
 * while one is under way is answered by the single next run, which starts when it ends. So a burst
 * of changes (a thousand small downloads finishing together) costs two writes, not a thousand, and
 * each caller still resolves only after a write that began after its request. A failed run rejects
 * the requests it answered; the next run is made anyway.
 */
export class CoalescedWrites {
  /** The run under way, or the last one. */
  #current: Promise<void> = Promise.resolve();
  /** The run that answers the requests made since `#current` began. */
  #next: Promise<void> | undefined;

  /** @param write - One run: writes whatever is to be written when its turn comes. */
  constructor(private readonly write: () => Promise<void>) {}

  /** Resolves once a run that began after this call has written. */
  request(): Promise<void> {
    if (this.#next === undefined) {
      const next = this.#current
        .catch(() => undefined)
        .then(() => {
          this.#next = undefined;
          return this.write();
        });
      this.#next = next;
      this.#current = next;
    }
    return this.#next;
  }
}
