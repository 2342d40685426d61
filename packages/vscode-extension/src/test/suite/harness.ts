/**
 * A minimal test runner for the extension host (mocha is not a dependency): named async tests run
 * one after another, each with a time limit; a summary is printed and returned.
 */

/** One test's outcome. */
export interface TestResult {
  name: string;
  ok: boolean;
  durationMs: number;
  error?: string;
}

/** The outcome of a suite. */
export interface SuiteReport {
  passed: number;
  failed: number;
  durationMs: number;
  results: TestResult[];
}

/** A test: a name and an async body that throws on failure. */
export interface TestCase {
  name: string;
  fn: () => Promise<void>;
  timeoutMs?: number;
}

/** Throws with `message` unless `condition` holds. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Throws unless `actual === expected`, showing both. */
export function assertEqual<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/**
 * Polls `probe` every 100 ms until it returns something other than `undefined`/`false`, and resolves
 * with that; rejects after `timeoutMs` with `what` in the message, so no wait is unbounded.
 */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function withTimeout(fn: () => Promise<void>, ms: number, name: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`"${name}" took longer than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `tests` in order; `log` gets one line per test and a closing "N passed, N failed" line. */
export async function runTests(tests: readonly TestCase[], log: (line: string) => void = (l) => console.log(l)): Promise<SuiteReport> {
  const started = Date.now();
  const results: TestResult[] = [];
  for (const t of tests) {
    const t0 = Date.now();
    try {
      await withTimeout(t.fn, t.timeoutMs ?? 60_000, t.name);
      results.push({ name: t.name, ok: true, durationMs: Date.now() - t0 });
      log(`  ✓ ${t.name} (${Date.now() - t0} ms)`);
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      results.push({ name: t.name, ok: false, durationMs: Date.now() - t0, error });
      log(`  ✗ ${t.name} (${Date.now() - t0} ms)\n    ${error.replace(/\n/g, '\n    ')}`);
    }
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  log(`${passed} passed, ${failed} failed`);
  return { passed, failed, durationMs: Date.now() - started, results };
}
