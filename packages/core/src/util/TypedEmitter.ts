import { EventEmitter } from 'node:events';


/** An EventEmitter whose event names and listener arguments are checked by TypeScript. */
export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> {
  readonly #emitter = new EventEmitter();

  /** Calls `listener` on every `event`. */
  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Calls `listener` on the next `event` only. */
  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Removes a listener added with `on` or `once`. */
  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Calls the listeners of `event` synchronously, in the order they were added. */
  protected emit<K extends keyof E & string>(event: K, ...args: E[K]): void {
    // 'error' has no special meaning here: failures are reported as 'failed' and through `done`.
    this.#emitter.emit(event, ...args);
  }
}
