import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ResourceNotFoundException,
  UpdateScheduleCommand,
} from "@aws-sdk/client-scheduler";
import { afterEach, describe, expect, it, vi } from "vitest";
import { awsScheduleEngine, readSchedulerSettings, type SchedulerSettings } from "../../../lib/schedule/aws-engine.ts";
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

const sdkError = (Type: typeof ResourceNotFoundException | typeof ConflictException) =>
  new Type({ message: Type.name, Message: Type.name, $metadata: {} });

/** A SchedulerClient stand-in at the boundary to AWS: records each command, answers from `failures` in turn. */
function recordingClient(failures: (Error | undefined)[] = []) {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  return {
    sent,
    client: {
      send: vi.fn(async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push({ name: command.constructor.name, input: command.input });
        const failure = failures.shift();
        if (failure) throw failure;
        return {};
      }),
    } as never,
  };
}

describe("the EventBridge Scheduler engine", () => {
  it("has a schedule when GetSchedule finds it in the group, not when it answers ResourceNotFound", async () => {
    const { sent, client } = recordingClient([undefined, sdkError(ResourceNotFoundException)]);
    const engine = awsScheduleEngine(SETTINGS, client);

    expect([await engine.has("task-abc"), await engine.has("task-gone")]).toEqual([true, false]);
    expect(sent).toEqual([
      { name: GetScheduleCommand.name, input: { Name: "task-abc", GroupName: SETTINGS.groupName } },
      { name: GetScheduleCommand.name, input: { Name: "task-gone", GroupName: SETTINGS.groupName } },
    ]);
  });

  it("updates the schedule by name with everything a run needs: group, target, input, role, no retries, DLQ, zone, window", async () => {
    // Arrange
    const { sent, client } = recordingClient();

    // Act
    await awsScheduleEngine(SETTINGS, client).put("task-abc", NIGHTLY);

    // Assert
    expect(sent).toEqual([
      {
        name: UpdateScheduleCommand.name,
        input: {
          Name: "task-abc",
          GroupName: "training-sets",
          ScheduleExpression: "cron(0 2 * * ? *)",
          ScheduleExpressionTimezone: "Asia/Shanghai",
          StartDate: new Date("2025-11-24T10:01:00Z"),
          State: "ENABLED",
          FlexibleTimeWindow: { Mode: "FLEXIBLE", MaximumWindowInMinutes: 15 },
          Target: {
            Arn: SETTINGS.targetArn,
            RoleArn: SETTINGS.roleArn,
            Input:
              '{"task_key":"abcdefghijklmnopqrstuvwxyz#42","revision":3,"scheduled_time":"<aws.scheduler.scheduled-time>"}',
            RetryPolicy: { MaximumRetryAttempts: 0 },
            DeadLetterConfig: { Arn: SETTINGS.deadLetterArn },
          },
          ActionAfterCompletion: "NONE",
        },
      },
    ]);
  });

  it("turns the window off at 0 and a disabled schedule into State DISABLED", async () => {
    const { sent, client } = recordingClient();

    await awsScheduleEngine(SETTINGS, client).put("task-abc", { ...NIGHTLY, windowMinutes: 0, enabled: false });

    expect(sent[0]?.input).toMatchObject({ FlexibleTimeWindow: { Mode: "OFF" }, State: "DISABLED" });
  });

  it("creates the schedule when there is none to update, with the same request", async () => {
    const { sent, client } = recordingClient([sdkError(ResourceNotFoundException)]);

    await awsScheduleEngine(SETTINGS, client).put("task-abc", NIGHTLY);

    expect(sent.map((call) => call.name)).toEqual([UpdateScheduleCommand.name, CreateScheduleCommand.name]);
    expect(sent[1]?.input).toEqual(sent[0]?.input);
  });

  it("updates after all when another put created it first (ConflictException)", async () => {
    const { sent, client } = recordingClient([sdkError(ResourceNotFoundException), sdkError(ConflictException)]);

    await awsScheduleEngine(SETTINGS, client).put("task-abc", NIGHTLY);

    expect(sent.map((call) => call.name)).toEqual([
      UpdateScheduleCommand.name,
      CreateScheduleCommand.name,
      UpdateScheduleCommand.name,
    ]);
  });

  it("passes any other failure on (the API answers 503)", async () => {
    const throttled = Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
    const { client } = recordingClient([throttled]);

    await expect(awsScheduleEngine(SETTINGS, client).put("task-abc", NIGHTLY)).rejects.toBe(throttled);
  });

  it("deletes by name in its group, and a schedule already gone is deleted", async () => {
    const { sent, client } = recordingClient([sdkError(ResourceNotFoundException)]);

    await awsScheduleEngine(SETTINGS, client).delete("task-abc");

    expect(sent).toEqual([
      { name: DeleteScheduleCommand.name, input: { Name: "task-abc", GroupName: "training-sets" } },
    ]);
  });
});

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
