// Replays the fuzz corpus (test/fuzz/corpus.test.ts) on its own: `npx vitest run --config test/fuzz/vitest.config.ts`.
// Fuzzing itself is `npx tsx test/fuzz/main.ts` (see its --help).
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: resolve(import.meta.dirname, '../..'),
  test: {
    include: ['test/fuzz/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
