import { defineConfig } from 'vitest/config';
import { coverageConfig } from '../../scripts/coverage-config.mjs';

export default defineConfig({
  test: {
    // Only what runs in vitest's own processes is measured: the code-server end-to-end suite runs the
    // extension inside VS Code's extension host, out of reach of vitest's V8 coverage, so the host-side
    // modules count as uncovered here. src/test is the suite that runs in that host, not product code.
    coverage: coverageConfig({ lines: 30, branches: 36, functions: 30, statements: 31 }, ['src/test/**']),
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The code-server e2e files each package the .vsix into the same place and start a VS Code:
    // one file at a time (the unit tests take well under a second either way).
    fileParallelism: false,
  },
});
