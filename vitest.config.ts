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
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
