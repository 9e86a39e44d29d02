import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code; integration and e2e tests start a real nats-server and run in `test/`.
export default defineConfig({
  test: {
    // Integration files each start their own nats-server and service processes: two cores cannot run them side by side.
    fileParallelism: false,
    projects: [
      { test: { name: 'unit', include: ['libs/**/*.test.ts', 'services/**/*.test.ts', 'cli/**/*.test.ts', 'test/fuzz/**/*.test.ts'], testTimeout: 30_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          testTimeout: 240_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
