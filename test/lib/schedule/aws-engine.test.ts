import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { awsScheduleEngine, type SchedulerSettings } from "../../../lib/schedule/aws-engine.ts";
import type { EngineSchedule } from "../../../lib/schedule/engine.ts";
import { setSchedule } from "../../../lib/schedule/manage.ts";
import { scheduleName } from "../../../lib/schedule/name.ts";
import type { ScheduleSettings } from "../../../lib/schedule/timing.ts";
import type { Store } from "../../../lib/store/index.ts";
import { type SchedulerFake, startSchedulerFake } from "../../support/scheduler-fake/index.ts";
import { freshStore } from "../../support/store.ts";

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

/** The body of a Create or Update of NIGHTLY, as the SDK puts it on the wire (StartDate in epoch seconds). */
const NIGHTLY_BODY = {
  GroupName: "training-sets",
  ScheduleExpression: "cron(0 2 * * ? *)",
  ScheduleExpressionTimezone: "Asia/Shanghai",
  StartDate: Date.parse("2025-11-24T10:01:00Z") / 1000,
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
};

let fake: SchedulerFake;
let client: SchedulerClient;

beforeAll(async () => {
  fake = await startSchedulerFake();
  client = new SchedulerClient({
    endpoint: fake.url,
    region: "local",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await fake.close();
});

beforeEach(() => {
  fake.requests.length = 0;
  fake.beforeAnswer = undefined;
});

const calls = () => fake.requests.map((request) => `${request.operation} ${request.name} ${request.answer}`);

describe("the EventBridge Scheduler engine, against the Scheduler fake", () => {
  it("creates a schedule that is absent: Update answers ResourceNotFound, then Create with the same body", async () => {
    // Act
    await awsScheduleEngine(SETTINGS, client).put("task-created", NIGHTLY);

    // Assert
    expect(calls()).toEqual(["UpdateSchedule task-created 404", "CreateSchedule task-created 200"]);
    expect(fake.requests.map(({ method, path }) => `${method} ${path}`)).toEqual([
      "PUT /schedules/task-created",
      "POST /schedules/task-created",
    ]);
    for (const request of fake.requests) expect(request.body).toMatchObject(NIGHTLY_BODY);
    expect(fake.schedules.get("training-sets", "task-created")).toEqual(NIGHTLY_BODY);
  });

  it("sends every field a run needs: group, expression, zone, start, window, target, role, input, no retries, DLQ", async () => {
    await awsScheduleEngine(SETTINGS, client).put("task-fields", NIGHTLY);

    const [update, create] = fake.requests;
    const { ClientToken, ...body } = create?.body ?? {};
    expect(body).toEqual(NIGHTLY_BODY);
    expect(ClientToken).toEqual(expect.any(String));
    expect(update?.body).toMatchObject(NIGHTLY_BODY);
    expect(create?.name).toBe("task-fields");
    expect(create?.groupName).toBe("training-sets");
  });

  it("updates a schedule that is present, and nothing else", async () => {
    const engine = awsScheduleEngine(SETTINGS, client);
    await engine.put("task-updated", NIGHTLY);
    fake.requests.length = 0;

    await engine.put("task-updated", { ...NIGHTLY, windowMinutes: 0, enabled: false });

    expect(calls()).toEqual(["UpdateSchedule task-updated 200"]);
    expect(fake.schedules.get("training-sets", "task-updated")).toMatchObject({
      FlexibleTimeWindow: { Mode: "OFF" },
      State: "DISABLED",
    });
  });

  it("updates after all when another put created the schedule between its Update and its Create", async () => {
    // Arrange: a concurrent put's Create lands just before this one's
    fake.beforeAnswer = (request) => {
      if (request.operation === "CreateSchedule") fake.schedules.set(request.groupName, request.name, {});
    };

    // Act
    await awsScheduleEngine(SETTINGS, client).put("task-raced", NIGHTLY);

    // Assert
    expect(calls()).toEqual([
      "UpdateSchedule task-raced 404",
      "CreateSchedule task-raced 409",
      "UpdateSchedule task-raced 200",
    ]);
    expect(fake.schedules.get("training-sets", "task-raced")).toEqual(NIGHTLY_BODY);
  });

  it("has a schedule the group holds, and not one it does not", async () => {
    const engine = awsScheduleEngine(SETTINGS, client);
    await engine.put("task-held", NIGHTLY);
    fake.requests.length = 0;

    expect([await engine.has("task-held"), await engine.has("task-never")]).toEqual([true, false]);
    expect(fake.requests.map(({ method, path, query }) => ({ method, path, query }))).toEqual([
      { method: "GET", path: "/schedules/task-held", query: { groupName: "training-sets" } },
      { method: "GET", path: "/schedules/task-never", query: { groupName: "training-sets" } },
    ]);
  });

  it("deletes by name in its group, and deleting a schedule already gone succeeds", async () => {
    const engine = awsScheduleEngine(SETTINGS, client);
    await engine.put("task-deleted", NIGHTLY);
    fake.requests.length = 0;

    await engine.delete("task-deleted");
    await engine.delete("task-deleted");

    expect(calls()).toEqual(["DeleteSchedule task-deleted 200", "DeleteSchedule task-deleted 404"]);
    expect(fake.requests[0]?.query).toMatchObject({ groupName: "training-sets" });
    expect(await engine.has("task-deleted")).toBe(false);
  });

  it.each([
    ["internal", { name: "InternalServerException" }],
    ["throttle", { name: "ThrottlingException" }],
    ["reset", { code: "ECONNRESET" }],
  ] as const)("passes a %s failure on (the API answers 503)", async (failure, error) => {
    fake.failNext(1, failure);

    await expect(awsScheduleEngine(SETTINGS, client).put("task-failed", NIGHTLY)).rejects.toMatchObject(error);
    expect(fake.schedules.get("training-sets", "task-failed")).toBeUndefined();
  });
});

describe("a failure between the schedule item and the scheduler", () => {
  const DAILY: ScheduleSettings = {
    expression: "rate(1 day)",
    timezone: "UTC",
    split: { training_count: 7, verifying_count: 2, testing_count: 1 },
    enabled: true,
    windowMinutes: 0,
  };
  let store: Store;

  beforeAll(async () => {
    ({ store } = await freshStore());
  });

  it("leaves the item pending with a 503, and the same PUT again creates the schedule and marks it active", async () => {
    // Arrange
    const engine = awsScheduleEngine(SETTINGS, client);
    const taskId = "healed-task";
    const name = scheduleName(taskId);
    fake.failNext(1, "internal");

    // Act
    const failed = await setSchedule(store.schedules, engine, taskId, DAILY, new Date()).catch(
      (error: unknown) => error,
    );
    const pending = await store.schedules.read(taskId);
    const healed = await setSchedule(store.schedules, engine, taskId, DAILY, new Date());

    // Assert
    expect(failed).toMatchObject({ status: 503 });
    expect(pending).toMatchObject({ state: "pending", revision: 1 });
    expect(fake.schedules.get("training-sets", name)).toMatchObject({
      ScheduleExpression: "rate(1 day)",
      Target: { Input: expect.stringContaining('"revision":1') },
    });
    expect(healed).toMatchObject({ state: "active", revision: 1 });
    expect(await store.schedules.read(taskId)).toMatchObject({ state: "active", revision: 1 });
    expect(calls()).toEqual([`UpdateSchedule ${name} 500`, `UpdateSchedule ${name} 404`, `CreateSchedule ${name} 200`]);
  });
});
