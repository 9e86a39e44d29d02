import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code; integration and e2e tests start a real nats-server and run in `test/`.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['libs/**/*.test.ts', 'services/**/*.test.ts', 'cli/**/*.test.ts'], testTimeout: 30_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          testTimeout: 240_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
