import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi } from "../support/http.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let gateway: Awaited<ReturnType<typeof startApi>>;
beforeAll(async () => {
  gateway = await startApi();
});
afterAll(async () => gateway.close());

/** `npm run smoke -- …` as npm runs it (node --import tsx scripts/smoke.ts), as a child process. */
function smoke(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "scripts/smoke.ts", ...args],
      { cwd: ROOT, env: { ...process.env, TRAINING_SETS_TOKEN: "" } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

describe("npm run smoke", () => {
  it("runs the legacy flow against the local gateway (unsigned on loopback) and reports each step", async () => {
    // Act
    const run = await smoke(["--url", gateway.base, "--images", "40"]);

    // Assert
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^smoke test of ${gateway.base}, throwaway task smoke_\\d{14}_[0-9a-f]{8}$`));
    expect(lines.slice(1, 7).map((line) => line.replace(/ \(\d+ ms\)$/, ""))).toEqual([
      "ok   register 40 images",
      "ok   split 28/8/3 (training/verifying/testing)",
      "ok   list training",
      "ok   list verifying",
      "ok   list testing",
      "ok   the sets are disjoint and complete",
    ]);
    expect(lines[7]?.replace(/ \(\d+ ms\)$/, "")).toBe("ok   clean up: delete the 40 images");
    expect(lines[8]).toBe("smoke test passed");
    // the clean-up really removed every image: the task has none left
    const taskId = /throwaway task (\S+)$/.exec(lines[0] ?? "")?.[1];
    const summary = await gateway.call("GET", `/training/tasks/sets?task_id=${taskId}`);
    expect([summary.status, summary.body.code]).toEqual([404, 1003]);
  });

  it("fails, naming the step, when the API is not there; bad usage is exit 2", async () => {
    // Act
    const down = await smoke(["--url", "http://127.0.0.1:9"]);
    const usage = await smoke([]);

    // Assert
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/^FAIL register 50 images: .*127\.0\.0\.1:9/m);
    expect(down.stdout).toMatch(/smoke test FAILED\n$/);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^usage: npm run smoke/);
  });
});
