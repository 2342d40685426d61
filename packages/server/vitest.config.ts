import { defineConfig } from 'vitest/config';
import { coverageConfig } from '../../scripts/coverage-config.mjs';

export default defineConfig({
  test: {
    coverage: coverageConfig({ lines: 62, branches: 46, functions: 62, statements: 56 }),
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
