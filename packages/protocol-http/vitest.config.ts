import { defineConfig } from 'vitest/config';
import { coverageConfig } from '../../scripts/coverage-config.mjs';

export default defineConfig({
  test: {
    coverage: coverageConfig({ lines: 95, branches: 85, functions: 94, statements: 94 }),
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
