import { defineConfig } from 'vitest/config';

// Test tiers (STYLE.md rule 10). Only the integration, aws and drill tiers start real stand-ins.
export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
    projects: [
      // Some unit files run the CLI as a user would (a process each): 5 s is too tight on a loaded machine.
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 } },
      { test: { name: 'api', include: ['test/api/**/*.test.ts'] } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/dynamodb-global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The AWS adapters through the real SDK clients against moto_server (AWS's wire protocol, in memory).
        test: {
          name: 'aws',
          include: ['test/aws/**/*.test.ts'],
          globalSetup: ['test/support/moto-global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          // One moto server for the tier, whose Step Functions runs executions (execute_state_machine): executions
          // from two files in one region crashed its StartExecution (a deepcopy of a lock: "cannot pickle
          // '_thread.RLock' object", answered as an HTML 500). The files take turns, and each uses its own regions.
          fileParallelism: false,
        },
      },
      { test: { name: 'infra', include: ['test/infra/**/*.test.ts'], testTimeout: 180_000 } },
      {
        test: {
          name: 'drill',
          include: ['test/drill/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        // report.html in Debian's chromium driven by playwright-core, on the artifacts of one real drill.
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
