import { defineConfig } from 'vitest/config';
import { coverageConfig } from '../../scripts/coverage-config.mjs';

export default defineConfig({
  test: {
    coverage: coverageConfig({ lines: 59, branches: 51, functions: 50, statements: 55 }),
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
