import { afterEach, describe, expect, it, vi } from "vitest";
import { readSchedulerSettings, type SchedulerSettings } from "../../../lib/schedule/aws-engine.ts";
import type { EngineSchedule, RunInput } from "../../../lib/schedule/engine.ts";
import { LocalScheduleEngine } from "../../../lib/schedule/local-engine.ts";
import { engineStartDate, timingOf } from "../../../lib/schedule/timing.ts";

const SETTINGS: SchedulerSettings = {
  groupName: "training-sets",
  roleArn: "arn:aws:iam::123456789012:role/training-sets-scheduler",
  targetArn: "arn:aws:lambda:eu-west-1:123456789012:function:ResplitTasks",
  deadLetterArn: "arn:aws:sqs:eu-west-1:123456789012:training-sets-schedule-dlq",
};

const NIGHTLY: EngineSchedule = {
  expression: "cron(0 2 * * ? *)",
  timezone: "Asia/Shanghai",
  startDate: new Date("2025-11-24T10:01:00Z"),
  windowMinutes: 15,
  enabled: true,
  input: { task_key: "abcdefghijklmnopqrstuvwxyz#42", revision: 3 },
};

describe("readSchedulerSettings", () => {
  const env = {
    SCHEDULE_GROUP: SETTINGS.groupName,
    SCHEDULE_ROLE_ARN: SETTINGS.roleArn,
    SCHEDULE_TARGET_ARN: SETTINGS.targetArn,
    SCHEDULE_DLQ_ARN: SETTINGS.deadLetterArn,
  };

  it("reads the four variables the stack sets, and none means the in-process engine", () => {
    expect(readSchedulerSettings(env)).toEqual(SETTINGS);
    expect(readSchedulerSettings({})).toBeUndefined();
  });

  it("refuses some without the others at cold start, naming what is missing", () => {
    expect(() => readSchedulerSettings({ ...env, SCHEDULE_DLQ_ARN: "" })).toThrow(/SCHEDULE_DLQ_ARN/);
  });
});

describe("scheduleEngine", () => {
  it("is in-process without the settings, and refuses to be in Lambda, where nothing would run it", async () => {
    vi.resetModules();
    const fresh = await import("../../../lib/schedule/runtime.ts");
    expect(() => fresh.scheduleEngine({ AWS_LAMBDA_FUNCTION_NAME: "SetSchedule" })).toThrow(/SCHEDULE_GROUP/);
    expect(fresh.scheduleEngine({})).toBe(fresh.localScheduleEngine);
  });
});

describe("engineStartDate", () => {
  const rate = { expression: "rate(6 hours)", timezone: "UTC", startDate: "2025-11-24T16:01:00Z" };

  it("keeps the start date while it is ahead", () => {
    expect(engineStartDate(timingOf(rate), new Date("2025-11-24T10:00:00Z"))).toEqual(new Date(rate.startDate));
  });

  it("moves a rate's past start date to its next run, so the runs keep their times", () => {
    expect(engineStartDate(timingOf(rate), new Date("2025-11-25T05:00:00Z"))).toEqual(new Date("2025-11-25T10:01:00Z"));
  });

  it("moves a cron's past start date to the next minute", () => {
    const cron = { ...rate, expression: "cron(0 2 * * ? *)" };
    expect(engineStartDate(timingOf(cron), new Date("2025-11-25T05:00:30Z"))).toEqual(new Date("2025-11-25T05:01:00Z"));
  });
});

describe("the local engine", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fires each enabled schedule at its next runs with the scheduled time, re-armed, and not after delete", async () => {
    // Arrange
    vi.useFakeTimers({ now: new Date("2025-11-24T10:00:00Z") });
    const engine = new LocalScheduleEngine();
    const runs: RunInput[] = [];
    engine.start(async (input) => void runs.push(input));

    // Act
    await engine.put("task-a", {
      ...NIGHTLY,
      expression: "rate(1 hour)",
      timezone: "UTC",
      startDate: new Date("2025-11-24T11:01:00Z"),
    });
    await engine.put("task-off", { ...NIGHTLY, enabled: false });
    await vi.advanceTimersByTimeAsync(3 * 3_600_000);
    await engine.delete("task-a");
    await vi.advanceTimersByTimeAsync(3 * 3_600_000);

    // Assert
    expect(runs).toEqual(
      ["2025-11-24T11:01:00Z", "2025-11-24T12:01:00Z"].map((scheduled_time) => ({
        ...NIGHTLY.input,
        scheduled_time,
      })),
    );
  });

  it("keeps schedules without firing until started, then fires them by their cron in their time zone", async () => {
    vi.useFakeTimers({ now: new Date("2025-11-24T10:00:00Z") });
    const engine = new LocalScheduleEngine();
    const runs: string[] = [];
    await engine.put("task-a", NIGHTLY);
    await vi.advanceTimersByTimeAsync(24 * 3_600_000);
    expect(runs).toEqual([]);

    engine.start(async (input) => void runs.push(input.scheduled_time));
    await vi.advanceTimersByTimeAsync(24 * 3_600_000);

    // 02:00 in Shanghai is 18:00 UTC the day before
    expect(runs).toEqual(["2025-11-25T18:00:00Z"]);
    expect(engine.get("task-a")).toEqual(NIGHTLY);
    engine.stop();
  });
});
