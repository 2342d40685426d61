import { defineConfig } from 'vitest/config';
import { coverageConfig } from '../scripts/coverage-config.mjs';

export default defineConfig({
  test: {
    coverage: coverageConfig({ lines: 88, branches: 78, functions: 85, statements: 85 }),
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
