import { defineConfig } from 'vitest/config';
import { coverageConfig } from '../../scripts/coverage-config.mjs';

export default defineConfig({
  test: {
    coverage: coverageConfig({ lines: 84, branches: 74, functions: 82, statements: 81 }),
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
