// Runs the chart and image checks (test/deploy is in neither project of the root vitest.config.ts: they need helm and
// kubeconform from scripts/install-helm-tools.sh). `make test-helm`, or:
//   npx vitest run --config test/deploy/vitest.config.ts
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: resolve(import.meta.dirname, '../..'),
  test: {
    include: ['test/deploy/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
