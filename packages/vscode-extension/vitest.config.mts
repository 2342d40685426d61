import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The code-server e2e files each package the .vsix into the same place and start a VS Code:
    // one file at a time (the unit tests take well under a second either way).
    fileParallelism: false,
  },
});
