import { defineConfig } from 'vitest/config';

// Three projects, run in CI order: fast pure unit tests, CDK assertion tests, then integration
// tests against the embedded local AWS stack (started once in the global setup).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'test/unit/**/*.test.ts',
            'test/adapters/**/*.test.ts',
            'test/e2e/**/*.test.ts',
            'test/bench/**/*.test.ts',
          ],
          environment: 'node',
          // `risk-audit score` runs the synthesized state machine: synthesized once, up front.
          globalSetup: ['test/unit/global-setup.ts'],
          testTimeout: 20_000,
          // The end-to-end files prepare their books and score them in beforeAll.
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
