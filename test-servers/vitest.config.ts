import { defineConfig } from 'vitest/config';
import { coverageConfig } from '../scripts/coverage-config.mjs';

export default defineConfig({
  test: {
    coverage: coverageConfig({ lines: 89, branches: 80, functions: 87, statements: 86 }),
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
