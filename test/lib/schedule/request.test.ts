import { describe, expect, it } from "vitest";
import { SCHEDULE_REQUEST_EXAMPLES } from "../../../lib/contract/schedule.ts";
import { ServiceError } from "../../../lib/errors.ts";
import { parseScheduleQuery, parseScheduleRequest } from "../../../lib/http/schedule-request.ts";

const VALID = {
  task_id: "42",
  expression: "cron(0 2 * * ? *)",
  timezone: "Asia/Shanghai",
  split: { training_count: 7, verifying_count: 2, testing_count: 1 },
  enabled: true,
  window_minutes: 5,
};

function refusal(parse: () => unknown): { code: number; msg: string; detail: string | undefined } {
  try {
    parse();
  } catch (error) {
    if (error instanceof ServiceError) return { code: error.code, msg: error.message, detail: error.detail };
    throw error;
  }
  throw new Error("accepted");
}

describe("parseScheduleRequest: the first failing rule, in the request's order", () => {
  it.each([
    ["a body that is not an object", [], 1001],
    ["an unknown field", { ...VALID, cron: "x" }, 1023],
    ["an unknown split field (seed is drawn per run)", { ...VALID, split: { ...VALID.split, seed: "s" } }, 1023],
    ["task_id inside split", { ...VALID, split: { ...VALID.split, task_id: "42" } }, 1023],
    ["an unknown ratio", { ...VALID, split: { ratios: { training: 1, validation: 0 } } }, 1023],
    ["an unknown field before a bad task_id", { ...VALID, task_id: "a#b", extra: 1 }, 1023],
    ["a bad task_id before a bad expression", { ...VALID, task_id: "a#b", expression: "daily" }, 1002],
    ["a missing task_id", { ...VALID, task_id: undefined }, 1002],
    [
      "a bad expression before a bad timezone",
      { ...VALID, expression: "rate(0 hours)", timezone: "Mars" },
      1028,
      "expression",
    ],
    ["a missing expression", { ...VALID, expression: undefined }, 1028, "expression"],
    ["an at() expression", { ...VALID, expression: "at(2030-01-01T00:00:00)" }, 1028, "expression"],
    ["a bad timezone before a bad split", { ...VALID, timezone: "+08:00", split: {} }, 1028, "timezone"],
    ["a missing split", { ...VALID, split: undefined }, 1001],
    ["a split that is not an object", { ...VALID, split: "7/2/1" }, 1001],
    ["training_count missing", { ...VALID, split: { verifying_count: 2, testing_count: 1 } }, 1009],
    ["verifying_count negative", { ...VALID, split: { ...VALID.split, verifying_count: -1 } }, 1005],
    ["testing_count not an integer", { ...VALID, split: { ...VALID.split, testing_count: 1.5 } }, 1006],
    [
      "ratios with a count",
      { ...VALID, split: { ratios: { training: 1, verifying: 0, testing: 0 }, testing_count: 1 } },
      1017,
    ],
    ["ratios summing past 1", { ...VALID, split: { ratios: { training: 0.8, verifying: 0.2, testing: 0.2 } } }, 1018],
    ["an unknown mode", { ...VALID, split: { ...VALID.split, mode: "merge" } }, 1019],
    ["dry_run true", { ...VALID, split: { ...VALID.split, dry_run: true } }, 1019],
    ["lock_testing with mode keep", { ...VALID, split: { ...VALID.split, mode: "keep", lock_testing: true } }, 1019],
    ["a bad split before a bad enabled", { ...VALID, split: { testing_count: 1 }, enabled: "yes" }, 1009],
    ["enabled not a boolean, before a bad window", { ...VALID, enabled: "yes", window_minutes: 61 }, 1028, "enabled"],
    ["window_minutes past 60", { ...VALID, window_minutes: 61 }, 1028, "window_minutes"],
    ["window_minutes as a string", { ...VALID, window_minutes: "5" }, 1028, "window_minutes"],
  ])("%s: %s", (_, body, code, which?: string) => {
    const { code: answered, msg } = refusal(() => parseScheduleRequest(body));
    expect(answered).toBe(code);
    if (which) expect(msg).toBe(`调度表达式错误: ${which}`);
  });

  it("names the setting of a 1028 in its message and says why in its detail", () => {
    expect(refusal(() => parseScheduleRequest({ ...VALID, timezone: "Mars/Olympus" }))).toMatchObject({
      msg: "调度表达式错误: timezone",
      detail: expect.stringContaining("Mars/Olympus"),
    });
    expect(refusal(() => parseScheduleRequest({ ...VALID, enabled: 1 })).msg).toBe("调度表达式错误: enabled");
    expect(refusal(() => parseScheduleRequest({ ...VALID, window_minutes: -1 })).msg).toBe(
      "调度表达式错误: window_minutes",
    );
  });

  it("names split's own field in a 1023, with the nearest known one", () => {
    const { detail } = refusal(() => parseScheduleRequest({ ...VALID, split: { ...VALID.split, dryRun: false } }));
    expect(detail).toContain("split.dryRun (did you mean split.dry_run?)");
  });

  it("fills the defaults and keeps the split as a run will read it: counts as numbers, the options given", () => {
    expect(
      parseScheduleRequest({
        task_id: 42,
        expression: "rate(1 day)",
        split: { training_count: "7", verifying_count: 2, testing_count: "1", mode: "keep", dry_run: false },
      }),
    ).toEqual({
      taskId: "42",
      expression: "rate(1 day)",
      timezone: "UTC",
      split: { training_count: 7, verifying_count: 2, testing_count: 1, mode: "keep", dry_run: false },
      enabled: true,
      windowMinutes: 0,
    });
  });

  it("keeps ratios by name", () => {
    const ratios = { training: 0.8, verifying: 0.15, testing: 0.05 };
    expect(parseScheduleRequest({ ...VALID, split: { ratios } }).split).toEqual({ ratios });
  });

  it("drops unknown fields under a lenient policy, reporting them", () => {
    const unknown: string[] = [];
    const parsed = parseScheduleRequest(
      { ...VALID, extra: 1, split: { ...VALID.split, seed: "x" } },
      { strict: false, onUnknown: (paths) => unknown.push(...paths) },
    );
    expect(unknown).toEqual(["extra", "split.seed"]);
    expect(parsed.split).toEqual(VALID.split);
  });

  it("accepts the contract's examples", () => {
    for (const [name, { value }] of Object.entries(SCHEDULE_REQUEST_EXAMPLES)) {
      expect(() => parseScheduleRequest(value), name).not.toThrow();
    }
  });
});

describe("parseScheduleQuery", () => {
  it("takes task_id, one pair of quotes stripped", () => {
    expect(parseScheduleQuery({ task_id: '"2018062212345678911"' })).toEqual({ taskId: "2018062212345678911" });
  });

  it("refuses another parameter first (1023), then a bad or missing task_id (1002)", () => {
    expect(refusal(() => parseScheduleQuery({ task_id: "a#b", set_type_id: "1" })).code).toBe(1023);
    expect(refusal(() => parseScheduleQuery({ task_id: "a#b" })).code).toBe(1002);
    expect(refusal(() => parseScheduleQuery(null)).code).toBe(1002);
  });
});
