import { ExitCode } from './exitCodes.js';

/** The signals that interrupt a run. */
export type InterruptSignal = 'SIGINT' | 'SIGTERM';

const EXIT_CODES: Record<InterruptSignal, number> = { SIGINT: ExitCode.SIGINT, SIGTERM: ExitCode.SIGTERM };

/**
 * Turns the first SIGINT or SIGTERM into an abort of every download (the engine then saves its
 * state and keeps the partial data), and a second one into an immediate exit, for when saving
 * hangs or the user is impatient.
 */
export class SignalGuard {
  readonly #controller = new AbortController();
  #received: InterruptSignal | undefined;
  readonly #handlers: Record<InterruptSignal, () => void> = {
    SIGINT: () => this.#handle('SIGINT'),
    SIGTERM: () => this.#handle('SIGTERM'),
  };

  /** `onFirst` runs once, when the first signal arrives (to tell the user). */
  constructor(private readonly onFirst: (signal: InterruptSignal) => void) {}

  /** Aborted when the first signal arrives. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The first signal received, if any. */
  get received(): InterruptSignal | undefined {
    return this.#received;
  }

  /** 130 after SIGINT, 143 after SIGTERM, undefined when not interrupted. */
  get exitCode(): number | undefined {
    return this.#received ? EXIT_CODES[this.#received] : undefined;
  }

  /** Starts listening. Without it Node's default (exit at once, no state saved) applies. */
  install(): this {
    process.on('SIGINT', this.#handlers.SIGINT);
    process.on('SIGTERM', this.#handlers.SIGTERM);
    return this;
  }

  /** Stops listening. */
  dispose(): void {
    process.off('SIGINT', this.#handlers.SIGINT);
    process.off('SIGTERM', this.#handlers.SIGTERM);
  }

  #handle(signal: InterruptSignal): void {
    if (this.#received) process.exit(EXIT_CODES[signal]);
    this.#received = signal;
    this.onFirst(signal);
    this.#controller.abort(new Error(`Interrupted by ${signal}`));
  }
}
