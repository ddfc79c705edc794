import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    setupFiles: ["test/support/env.ts"],
    env: {
      AWS_REGION: "local",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      LEASE_SECONDS: "2",
      REGISTER_WAIT_MS: "300",
    },
    // The handlers log a JSON line per request: kept only for a failing test, unless TEST_LOGS=1 asks for all.
    silent: process.env.TEST_LOGS === "1" ? false : "passed-only",
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
