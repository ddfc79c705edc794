import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import type { StoreConfig } from "../../../lib/config.ts";
import type { EngineSchedule, ScheduleEngine } from "../../../lib/schedule/engine.ts";
import { readSchedule, runsBody, scheduleName, setSchedule } from "../../../lib/schedule/index.ts";
import { deleteSchedule } from "../../../lib/schedule/manage.ts";
import type { ScheduleSettings } from "../../../lib/schedule/timing.ts";
import { parseRunInput, runSchedule } from "../../../lib/split/resplit.ts";
import { splitTask } from "../../../lib/split/split.ts";
import { documentClient } from "../../../lib/store/client.ts";
import type { Store } from "../../../lib/store/index.ts";
import { TABLE, TASK_ITEM_SK } from "../../../lib/store/table.ts";
import { freshStore, localClient, registerImages } from "../../support/store.ts";

const SETTINGS: ScheduleSettings = {
  expression: "rate(1 day)",
  timezone: "UTC",
  split: { training_count: 7, verifying_count: 2, testing_count: 1 },
  enabled: true,
  windowMinutes: 0,
};

/** An engine that keeps what it was given, by name. */
function recordingEngine() {
  const puts: { name: string; schedule: EngineSchedule }[] = [];
  const deletes: string[] = [];
  const engine: ScheduleEngine = {
    put: async (name, schedule) => void puts.push({ name, schedule }),
    delete: async (name) => void deletes.push(name),
    has: async (name) => puts.some((put) => put.name === name) && !deletes.includes(name),
  };
  return { engine, puts, deletes };
}

const failingEngine: ScheduleEngine = {
  put: async () => {
    throw new Error("scheduler unavailable");
  },
  delete: async () => {
    throw new Error("scheduler unavailable");
  },
  has: async () => {
    throw new Error("scheduler unavailable");
  },
};

const silent = () => undefined;
let store: Store;
let config: StoreConfig;
let taskCount = 0;

/** A task of `images` images with a schedule (revision 1) set through the API's code. */
async function scheduledTask(images = 10, settings: Partial<ScheduleSettings> = {}) {
  const taskId = `sched-${++taskCount}`;
  if (images > 0) await registerImages(store, taskId, images);
  const { engine } = recordingEngine();
  await setSchedule(store.schedules, engine, taskId, { ...SETTINGS, ...settings }, new Date());
  return taskId;
}

const due = (day: number) => `2025-11-${String(day).padStart(2, "0")}T02:00:00Z`;
const input = (taskId: string, scheduledTime = due(1), revision = 1) => ({
  task_key: taskId,
  revision,
  scheduled_time: scheduledTime,
});

beforeAll(async () => {
  ({ store, config } = await freshStore());
});

describe("a schedule's run", () => {
  it("splits with the schedule's split and a fresh seed, and records the run", async () => {
    // Arrange
    const taskId = await scheduledTask();
    const { engine } = recordingEngine();

    // Act
    const first = await runSchedule(store, engine, input(taskId), { log: silent });
    const second = await runSchedule(store, engine, input(taskId, due(2)), { log: silent });

    // Assert
    expect(first.results).toEqual([
      expect.objectContaining({
        task_id: taskId,
        outcome: "split",
        version: 1,
        training_count: 7,
        verifying_count: 2,
        testing_count: 1,
        unassigned_count: 0,
        scheduled_at: due(1),
      }),
    ]);
    expect(second.results[0]).toMatchObject({ outcome: "split", version: 2 });
    expect(second.results[0]).not.toMatchObject({ seed: (first.results[0] as { seed: string }).seed });
    const { runs } = await readSchedule(store.schedules, taskId);
    expect(runsBody(runs, new Date())).toEqual([
      { scheduled_at: due(2), finished_at: expect.any(String), outcome: "split", version: 2, code: null, detail: null },
      { scheduled_at: due(1), finished_at: expect.any(String), outcome: "split", version: 1, code: null, detail: null },
    ]);
  });

  it("runs once per scheduled time: a second delivery, even at the same moment, splits nothing", async () => {
    const taskId = await scheduledTask();
    const { engine } = recordingEngine();

    const both = await Promise.all([
      runSchedule(store, engine, input(taskId), { log: silent }),
      runSchedule(store, engine, input(taskId), { log: silent }),
    ]);
    const later = await runSchedule(store, engine, input(taskId), { log: silent });

    expect(both.flatMap((run) => run.results)).toEqual([expect.objectContaining({ outcome: "split", version: 1 })]);
    expect(later.results).toEqual([]);
    expect((await store.readTask(taskId))?.live?.version).toBe(1);
    expect((await store.schedules.readRuns(taskId)).map((run) => run.status)).toEqual(["split"]);
  });

  it("reads a delivery's time to the second, so the same time written two ways is one run", async () => {
    const taskId = await scheduledTask();
    const { engine } = recordingEngine();

    const first = parseRunInput(input(taskId, "2025-11-01T02:00:00.000Z"))!;
    await runSchedule(store, engine, first, { log: silent });
    const again = await runSchedule(store, engine, parseRunInput(input(taskId, "2025-11-01T02:00:00Z"))!, {
      log: silent,
    });

    expect(again.results).toEqual([]);
  });

  it("settles a run a delivery left running from the split token it noted: published is split, and nothing is split again", async () => {
    // Arrange: a delivery that published its split and stopped before recording its outcome
    const taskId = await scheduledTask();
    const { engine } = recordingEngine();
    await store.schedules.claimRun(taskId, { scheduledAt: due(1), revision: 1, startedAt: new Date().toISOString() });
    await splitTask(store, { taskId, counts: { 0: 7, 1: 1, 2: 2 }, seed: undefined }, undefined, {
      beforePublish: (ref) => store.schedules.noteRunSplit(taskId, due(1), ref),
    });

    // Act
    const again = await runSchedule(store, engine, input(taskId), { log: silent });

    // Assert
    expect(again.results).toEqual([]);
    expect((await store.readTask(taskId))?.live?.version).toBe(1);
    expect(await store.schedules.readRuns(taskId)).toEqual([
      expect.objectContaining({ status: "split", splitVersion: 1 }),
    ]);
  });

  it("leaves a run that may still be going alone, and settles one that outlived the function as failed", async () => {
    const taskId = await scheduledTask();
    const { engine } = recordingEngine();
    const longAgo = new Date(Date.now() - 20 * 60_000).toISOString();
    await store.schedules.claimRun(taskId, { scheduledAt: due(1), revision: 1, startedAt: new Date().toISOString() });
    await store.schedules.claimRun(taskId, { scheduledAt: due(2), revision: 1, startedAt: longAgo });
    await store.schedules.noteRunSplit(taskId, due(2), { version: 1, token: "never-published" });

    await runSchedule(store, engine, input(taskId, due(1)), { log: silent });
    await runSchedule(store, engine, input(taskId, due(2)), { log: silent });

    const runs = await store.schedules.readRuns(taskId);
    expect(runs.map((run) => [run.scheduledAt, run.status, run.code])).toEqual([
      [due(2), "failed", 1500],
      [due(1), "running", undefined],
    ]);
    expect((await store.readTask(taskId))?.live).toBeUndefined();
  });

  it("is skipped with 1008 when a manual split publishes while it runs", async () => {
    const taskId = await scheduledTask();
    const { engine } = recordingEngine();
    const racing: Store = {
      ...store,
      schedules: {
        ...store.schedules,
        noteRunSplit: async (...args) => {
          await splitTask(store, { taskId, counts: { 0: 5, 1: 0, 2: 0 }, seed: "manual" });
          return store.schedules.noteRunSplit(...args);
        },
      },
    };

    const run = await runSchedule(racing, engine, input(taskId), { log: silent });

    expect(run.results).toEqual([expect.objectContaining({ outcome: "skipped", code: 1008 })]);
    expect((await store.schedules.readRuns(taskId))[0]).toMatchObject({ status: "skipped", code: 1008 });
    expect((await store.readTask(taskId))?.live?.version).toBe(1);
  });

  it("is skipped with 1003 for a task without images (which may be scheduled), and 1007 when the counts no longer fit", async () => {
    const empty = await scheduledTask(0);
    const small = await scheduledTask(5);
    const { engine } = recordingEngine();

    const none = await runSchedule(store, engine, input(empty), { log: silent });
    const tooFew = await runSchedule(store, engine, input(small), { log: silent });

    expect(none.results).toEqual([expect.objectContaining({ outcome: "skipped", code: 1003 })]);
    expect(tooFew.results).toEqual([expect.objectContaining({ outcome: "skipped", code: 1007 })]);
    expect(runsBody(await store.schedules.readRuns(empty), new Date())).toEqual([
      expect.objectContaining({ outcome: "skipped", code: 1003, detail: expect.stringContaining(empty) }),
    ]);
  });

  it("splits as the PUT would with the schedule's options (mode keep keeps every assigned image)", async () => {
    const taskId = await scheduledTask(10, {
      split: { training_count: 7, verifying_count: 2, testing_count: 1, mode: "keep" },
    });
    const { engine } = recordingEngine();
    await runSchedule(store, engine, input(taskId, due(1)), { log: silent });
    const before = await store.readAssignment(taskId, (await store.readTask(taskId))!.live!);
    await registerImages(store, taskId, 2, 11);

    const run = await runSchedule(store, engine, input(taskId, due(2)), { log: silent });

    expect(run.results[0]).toMatchObject({ outcome: "split", version: 2, unassigned_count: 2 });
    const after = await store.readAssignment(taskId, (await store.readTask(taskId))!.live!);
    expect([...after.slice(0, before.length)]).toEqual([...before]);
  });
});

describe("a run that finds its schedule changed", () => {
  it("of an older revision writes the item's schedule to the engine again and splits nothing", async () => {
    const taskId = await scheduledTask();
    const { engine, puts } = recordingEngine();
    await setSchedule(store.schedules, engine, taskId, { ...SETTINGS, expression: "rate(2 days)" }, new Date());
    puts.length = 0;

    const run = await runSchedule(store, engine, input(taskId, due(1), 1), { log: silent });

    expect(run.results).toEqual([]);
    expect(puts).toEqual([
      {
        name: scheduleName(taskId),
        schedule: expect.objectContaining({ expression: "rate(2 days)", input: { task_key: taskId, revision: 2 } }),
      },
    ]);
    expect(await store.schedules.readRuns(taskId)).toEqual([]);
  });

  it("completes a PUT the engine failed: the item's own revision fires, so it is active, and the run splits", async () => {
    const taskId = `sched-${++taskCount}`;
    await registerImages(store, taskId, 10);
    await expect(setSchedule(store.schedules, failingEngine, taskId, SETTINGS, new Date())).rejects.toMatchObject({
      code: 1500,
      status: 503,
    });
    expect((await store.schedules.read(taskId))?.state).toBe("pending");

    const run = await runSchedule(store, recordingEngine().engine, input(taskId), { log: silent });

    expect(run.results[0]).toMatchObject({ outcome: "split" });
    expect((await store.schedules.read(taskId))?.state).toBe("active");
  });

  it("disabled, deleted, never set or of a newer revision: does nothing", async () => {
    const disabled = await scheduledTask(10, { enabled: false });
    const deleted = await scheduledTask();
    const { engine, puts } = recordingEngine();
    await deleteSchedule(store.schedules, engine, deleted);

    const results = await Promise.all([
      runSchedule(store, engine, input(disabled), { log: silent }),
      runSchedule(store, engine, input(deleted), { log: silent }),
      runSchedule(store, engine, input("never-scheduled"), { log: silent }),
      runSchedule(store, engine, input(disabled, due(1), 7), { log: silent }),
    ]);

    expect(results.flatMap((run) => run.results)).toEqual([]);
    expect(puts).toEqual([]);
    for (const taskId of [disabled, deleted]) {
      expect(await store.schedules.readRuns(taskId)).toEqual([]);
      expect((await store.readTask(taskId))?.live).toBeUndefined();
    }
  });
});

describe("parseRunInput", () => {
  it("takes the input the engine sends, and tells an event that is not one (undefined) from a broken one (throws)", () => {
    expect(parseRunInput({ task_key: "abcdefghijklmnopqrstuvwxyz#42", revision: 2, scheduled_time: due(1) })).toEqual({
      task_key: "abcdefghijklmnopqrstuvwxyz#42",
      revision: 2,
      scheduled_time: due(1),
    });
    expect(parseRunInput({ task_ids: ["42"] })).toBeUndefined();
    for (const broken of [
      { task_key: "a#b#c", revision: 1, scheduled_time: due(1) },
      { task_key: "42", revision: "1", scheduled_time: due(1) },
      { task_key: "42", revision: 1, scheduled_time: "<aws.scheduler.scheduled-time>" },
      { task_key: "42", revision: 1, scheduled_time: "2025-11-01 02:00" },
    ]) {
      expect(() => parseRunInput(broken), JSON.stringify(broken)).toThrow(TypeError);
    }
  });
});

describe("run records", () => {
  it("keep the newest 20: older ones get an expiry, and none of it is on the task item", async () => {
    const taskId = await scheduledTask(3, { split: { training_count: 1, verifying_count: 1, testing_count: 1 } });
    const { engine } = recordingEngine();

    for (let day = 1; day <= 23; day++) await runSchedule(store, engine, input(taskId, due(day)), { log: silent });

    const runs = await store.schedules.readRuns(taskId);
    expect(runs.map((run) => run.scheduledAt)).toEqual(Array.from({ length: 20 }, (_, i) => due(23 - i)));
    const db = documentClient(localClient());
    const all = await db.send(
      new QueryCommand({
        TableName: config.tableName,
        KeyConditionExpression: "#pk = :task AND begins_with(#sk, :runs)",
        ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey },
        ExpressionAttributeValues: { ":task": taskId, ":runs": "#schedule#run#" },
      }),
    );
    const expiring = (all.Items ?? []).filter((item) => item[TABLE.expiryAttribute] !== undefined);
    expect(expiring.map((item) => item.scheduled_at)).toEqual([due(1), due(2), due(3)]);
    const task = await db.send(
      new GetCommand({
        TableName: config.tableName,
        Key: { [TABLE.partitionKey]: taskId, [TABLE.sortKey]: TASK_ITEM_SK },
      }),
    );
    expect(Object.keys(task.Item ?? {}).filter((name) => /schedule|run|revision/.test(name))).toEqual([]);
    expect((await store.readImages(taskId)).length).toBe(3);
  });
});
