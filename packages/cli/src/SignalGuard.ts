import { ExitCode } from './exitCodes.js';

/** The signals that interrupt a run. */
export type InterruptSignal = 'SIGINT' | 'SIGTERM';

const EXIT_CODES: Record<InterruptSignal, number> = { SIGINT: ExitCode.SIGINT, SIGTERM: ExitCode.SIGTERM };

/**
 * Turns the first SIGINT or SIGTERM into an abort of every download (the engine then saves its
 * state and keeps the partial data), and a second one into an immediate end, for when saving
 * hangs or the user is impatient. Either way the process ends by the signal itself
 * (`reraise`), as the shell expects of an interrupted command.
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
    if (this.#received) {
      this.dispose();
      reraise(signal);
      return;
    }
    this.#received = signal;
    this.onFirst(signal);
    this.#controller.abort(new Error(`Interrupted by ${signal}`));
  }
}

/**
 * Ends the process by `signal` itself, with the default action, once the handlers are gone. A shell
 * running `for f in a b; do multiget $f; done` stops its loop only when the child died of SIGINT;
 * an exit with code 130 would start the next download. `process.exit` stays as a fallback in case
 * the signal is blocked or ignored (e.g. `trap '' INT` in the parent shell).
 */
export function reraise(signal: InterruptSignal): void {
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.removeAllListeners(s);
  process.kill(process.pid, signal);
  setTimeout(() => process.exit(EXIT_CODES[signal]), 200).unref();
}
