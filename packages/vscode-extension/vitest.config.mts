import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The code-server e2e files each package the .vsix and run a code-server with Chromium: run
    // one file at a time, so that two packagings never overwrite each other's output.
    fileParallelism: false,
  },
});
