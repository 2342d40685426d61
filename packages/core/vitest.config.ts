import { defineConfig } from 'vitest/config';
import { coverageConfig } from '../../scripts/coverage-config.mjs';

export default defineConfig({
  test: {
    coverage: coverageConfig({ lines: 83, branches: 71, functions: 81, statements: 79 }),
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
