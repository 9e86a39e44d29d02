// Runs the Spark interop suite (test/interop is in neither project of the root vitest.config.ts): one file, long timeouts.
//   npx vitest run --config test/interop/vitest.config.ts
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: resolve(import.meta.dirname, '../..'),
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 900_000,
  },
});
