import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../client/index.ts";
import { startApi } from "../support/http.ts";

const BIN = join(fileURLToPath(new URL("../..", import.meta.url)), "bin", "training-sets.js");

let gateway: Awaited<ReturnType<typeof startApi>>;
beforeAll(async () => {
  gateway = await startApi();
});
afterAll(async () => gateway.close());

/** The CLI as `npx training-sets` runs it, against the local gateway. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, "--url", gateway.base, ...args], (error, stdout, stderr) =>
      done({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe("training-sets set-schedule, get-schedule and delete-schedule", () => {
  it("sets, shows and deletes a task's schedule", async () => {
    const set = await cli([
      "set-schedule",
      "--task",
      "cli_sched",
      "--expression",
      "cron(0 2 * * ? *)",
      "--timezone",
      "Europe/Berlin",
      "--counts",
      "7,2,1",
      "--mode",
      "keep",
      "--window",
      "15",
    ]);
    expect(set, set.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(set.stdout)).toMatchObject({
      task_id: "cli_sched",
      expression: "cron(0 2 * * ? *)",
      timezone: "Europe/Berlin",
      split: { training_count: 7, verifying_count: 2, testing_count: 1, mode: "keep" },
      enabled: true,
      window_minutes: 15,
    });
    // 02:00 in Berlin is 00:00 or 01:00 UTC, whatever the season.
    expect(JSON.parse(set.stdout).next_run_at).toMatch(/^\d{4}-\d\d-\d\dT0[01]:00:00(\.000)?Z$/);

    const shown = await cli(["get-schedule", "--task", "cli_sched"]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ task_id: "cli_sched", expression: "cron(0 2 * * ? *)", runs: [] });

    const deleted = await cli(["delete-schedule", "--task", "cli_sched"]);
    const again = await cli(["delete-schedule", "--task", "cli_sched"]);
    expect([JSON.parse(deleted.stdout).deleted, JSON.parse(again.stdout).deleted]).toEqual([true, false]);
    const gone = await cli(["get-schedule", "--task", "cli_sched"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("1029");
  });

  it("refuses a bad expression with the API's 1028, and missing sizes as usage", async () => {
    const bad = await cli(["set-schedule", "--task", "cli_sched", "--expression", "rate(1 days)", "--counts", "1,0,0"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("1028");
    const usage = await cli(["set-schedule", "--task", "cli_sched", "--expression", "rate(1 day)"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("give --counts or --ratios");
  });
});

describe("the client's schedule methods", () => {
  it("set, read and delete a schedule, as typed", async () => {
    const api = createClient({ baseUrl: gateway.base });
    const stored = await api.setSchedule({
      task_id: "client_sched",
      expression: "rate(1 day)",
      split: { ratios: { training: 0.8, verifying: 0.1, testing: 0.1 } },
    });
    expect([stored.timezone, stored.enabled, stored.window_minutes]).toEqual(["UTC", true, 0]);
    expect((await api.getSchedule("client_sched")).next_run_at).toBe(stored.next_run_at);
    expect((await api.deleteSchedule("client_sched")).deleted).toBe(true);
  });
});
