import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";

/** What every test file gets: its environment, its DynamoDB Local endpoint and table name, its limits. */
const shared = {
  setupFiles: ["test/support/env.ts"],
  env: {
    AWS_REGION: "local",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
  },
  testTimeout: 60_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    // Started once for the whole run (the projects below do not repeat it): one in-memory DynamoDB Local.
    globalSetup: ["test/support/global-setup.ts"],
    // The handlers log a JSON line per request: kept only for a failing test, unless TEST_LOGS=1 asks for all.
    silent: process.env.TEST_LOGS === "1" ? false : "passed-only",
    // Most files wait on DynamoDB Local, a child process or a timer, so two workers overlap those waits
    // even on 2 cores, where vitest's default (cores - 1) would run one file at a time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        // The CDK stack tests read only synthesized templates: one worker process keeps aws-cdk-lib
        // loaded and warm from file to file instead of loading it again for each (most of their time).
        test: { ...shared, name: "stack", include: ["test/infra/**/*.test.ts"], isolate: false },
      },
      {
        test: {
          ...shared,
          name: "service",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, "test/infra/**"],
        },
      },
    ],
  },
});
