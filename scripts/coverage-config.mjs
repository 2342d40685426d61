// Coverage settings shared by every package's vitest config. Coverage is off for a plain `npm test`
// (it costs time and nobody reads it locally) and on when MULTIGET_COVERAGE=1, which `.ci/run` sets.
// Each package passes its own thresholds: the lowest figures its full runs reached, less half a point
// for run-to-run noise (a few tenths; the service's suite more), rounded down. They only go up: when
// `scripts/coverage-summary.mjs` says a package is a point or more above its threshold, raise it.

/**
 * @param {{ lines: number, branches: number, functions: number, statements: number }} thresholds
 *   per cent, below which a run fails
 * @param {string[]} [exclude] source files the vitest process cannot measure (say why where used)
 */
export function coverageConfig(thresholds, exclude = []) {
  return {
    enabled: process.env.MULTIGET_COVERAGE === '1',
    provider: /** @type {const} */ ('v8'),
    include: ['src/**/*.{ts,mts,tsx}'],
    exclude: ['src/**/*.d.ts', ...exclude],
    // json-summary feeds the CI table; text-summary is the short block vitest prints after the tests.
    reporter: ['text-summary', 'json-summary'],
    reportsDirectory: 'coverage',
    // A failing test must not hide the figures: CI prints them either way.
    reportOnFailure: true,
    thresholds,
  };
}
