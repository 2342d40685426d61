import { defineConfig } from 'vitest/config';
import { coverageConfig } from '../scripts/coverage-config.mjs';

export default defineConfig({
  test: {
    // Measured: the signed-URL resolver, which runs in the vitest process. The tcpfile example runs
    // under node:test in a child process (tcpfile/nodeTest.test.ts), where vitest cannot measure it.
    coverage: { ...coverageConfig({ lines: 100, branches: 83, functions: 100, statements: 100 }), include: ['signed-url/*.ts'], exclude: ['**/*.test.ts'] },
    include: ['*/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
