import { DeleteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { sleep } from "../../../lib/concurrency.ts";
import { storageUnavailable } from "../../../lib/errors.ts";
import { SET_TYPES } from "../../../lib/model.ts";
import { parseResplitEvent, resplitTasks } from "../../../lib/split/resplit.ts";
import { createStore, type Store } from "../../../lib/store/index.ts";
import { TABLE } from "../../../lib/store/table.ts";
import { deferred, isPublish, useFaultProxy } from "../../support/fault-proxy/index.ts";
import { counts, freshStore, imageId, localClient, readWholeSet, registerImages, split } from "../../support/store.ts";

const proxy = useFaultProxy();

/** The live split's request and version, as the task item records them. */
const liveOf = async (store: Store, taskId: string) => {
  const live = (await store.taskSummary(taskId)).live;
  return live && { spec: live.spec, version: live.version, seed: live.seed };
};

/** Collects the log lines resplitTasks writes, instead of printing them. */
const capture = () => {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: (entry: Record<string, unknown>) => void lines.push(entry) };
};

const setSizes = async (store: Store, taskId: string) =>
  Promise.all(SET_TYPES.map(async (setType) => (await readWholeSet(store, taskId, setType)).length));

describe("parseResplitEvent", () => {
  it("reads {task_ids}, a manual re-split's event", () => {
    expect(parseResplitEvent({ task_ids: ["a", "b"] })).toEqual(["a", "b"]);
  });

  it("throws on an event that names no list of tasks", () => {
    // The fixed-id rule's EventBridge event is gone with the rule: schedules are per task.
    expect(() => parseResplitEvent({ "detail-type": "Scheduled Event", detail: { task_ids: ["c"] } })).toThrow(
      /task_ids/,
    );
    expect(() => parseResplitEvent({ task_ids: "a,b" })).toThrow(/task_ids/);
    expect(() => parseResplitEvent(null)).toThrow(/task_ids/);
  });
});

describe("scheduled re-split", () => {
  it("re-splits a split task with its last counts and a fresh seed; skips a task never split and an unknown one", async () => {
    // Arrange
    const { store } = await freshStore();
    await registerImages(store, "resplit-done", 12);
    await registerImages(store, "resplit-never", 5);
    const before = await split(store, { taskId: "resplit-done", counts: counts(6, 3, 2), seed: "first" });
    const { lines, log } = capture();

    // Act
    const { results } = await resplitTasks(store, ["resplit-done", "resplit-never", "resplit-unknown"], { log });

    // Assert
    const live = await liveOf(store, "resplit-done");
    expect(live?.seed).not.toBe("first");
    expect(results).toEqual([
      {
        task_id: "resplit-done",
        outcome: "split",
        version: before.version + 1,
        seed: live?.seed,
        training_count: 6,
        verifying_count: 3,
        testing_count: 2,
        unassigned_count: 1,
      },
      { task_id: "resplit-never", outcome: "skipped", reason: "never split" },
      { task_id: "resplit-unknown", outcome: "skipped", reason: "never split" },
    ]);
    expect(live).toMatchObject({ spec: { counts: counts(6, 3, 2) }, version: before.version + 1 });
    expect(await setSizes(store, "resplit-done")).toEqual([6, 2, 3]);
    expect(await liveOf(store, "resplit-never")).toBeUndefined();
    // one line per task, in the order the tasks finished
    expect(lines.map((line) => [line.task_id, line.outcome, line.level]).sort()).toEqual([
      ["resplit-done", "split", "info"],
      ["resplit-never", "skipped", "warn"],
      ["resplit-unknown", "skipped", "warn"],
    ]);
  });

  it("skips a task another split published over while the re-split ran (1008), and still re-splits the others", async () => {
    // Arrange: the re-split's publish of "resplit-raced" is held on the wire while another split publishes
    const { store, config } = await freshStore();
    await registerImages(store, "resplit-raced", 10);
    await registerImages(store, "resplit-free", 10);
    await split(store, { taskId: "resplit-raced", counts: counts(5, 5, 0), seed: "a" });
    await split(store, { taskId: "resplit-free", counts: counts(4, 3, 3), seed: "b" });
    const release = deferred();
    proxy().policy = (call) =>
      isPublish(call) && JSON.stringify(call.input.Key).includes("resplit-raced")
        ? { kind: "hold", until: release.promise }
        : undefined;
    const scheduler = createStore({ ...config, endpoint: proxy().endpoint });
    const seen = proxy().log.length;
    const resplit = resplitTasks(scheduler, ["resplit-raced", "resplit-free"], { log: capture().log, concurrency: 1 });
    while (
      !proxy()
        .log.slice(seen)
        .some((call) => isPublish(call))
    )
      await sleep(10);

    // Act: another split wins the race, then the held publish goes on
    const winner = await split(store, { taskId: "resplit-raced", counts: counts(1, 1, 1), seed: "winner" });
    release.resolve();
    const { results } = await resplit;

    // Assert
    expect(results).toEqual([
      { task_id: "resplit-raced", outcome: "skipped", reason: "another split was published first", code: 1008 },
      expect.objectContaining({
        task_id: "resplit-free",
        outcome: "split",
        training_count: 4,
        verifying_count: 3,
        testing_count: 3,
      }),
    ]);
    expect(await liveOf(store, "resplit-raced")).toMatchObject({ seed: "winner", version: winner.version });
  });

  it("skips a task whose images no longer fit its last counts (1007), with the reason", async () => {
    // Arrange: split 10 of 10, then the platform removes an image behind the service's back
    const { store, config } = await freshStore();
    await registerImages(store, "resplit-shrunk", 10);
    await split(store, { taskId: "resplit-shrunk", counts: counts(7, 2, 1), seed: "c" });
    const before = await liveOf(store, "resplit-shrunk");
    await DynamoDBDocumentClient.from(localClient()).send(
      new DeleteCommand({
        TableName: config.tableName,
        Key: { [TABLE.partitionKey]: "resplit-shrunk", [TABLE.sortKey]: imageId("resplit-shrunk", 3) },
      }),
    );

    // Act
    const { results } = await resplitTasks(store, ["resplit-shrunk"], { log: capture().log });

    // Assert
    expect(results).toEqual([
      {
        task_id: "resplit-shrunk",
        outcome: "skipped",
        code: 1007,
        reason: "三个集合的图像个数之和 10 超过了任务下的图像总数 9",
      },
    ]);
    expect(await liveOf(store, "resplit-shrunk")).toEqual(before); // nothing was published
  });

  it("reports a failing task and an invalid id as failed, logs the cause, and goes on with the others", async () => {
    // Arrange: storage fails for one task only
    const { store } = await freshStore();
    for (const taskId of ["resplit-ok-1", "resplit-broken", "resplit-ok-2"]) {
      await registerImages(store, taskId, 4);
      await split(store, { taskId, counts: counts(2, 1, 1), seed: "d" });
    }
    const flaky: Store = {
      ...store,
      readImageColumns: (taskId, deadline) =>
        taskId === "resplit-broken"
          ? Promise.reject(storageUnavailable(new Error("disk on fire: arn:aws:dynamodb:secret"), false))
          : store.readImageColumns(taskId, deadline),
    };
    const { lines, log } = capture();

    // Act
    const { results } = await resplitTasks(
      flaky,
      ["resplit-ok-1", "resplit-broken", "not valid!", 42, "resplit-ok-2", "resplit-ok-1"],
      {
        log,
        concurrency: 2,
      },
    );

    // Assert
    expect(
      results.map((result) => [result.task_id, result.outcome, "code" in result ? result.code : undefined]),
    ).toEqual([
      ["resplit-ok-1", "split", undefined],
      ["resplit-broken", "failed", 1500],
      ["not valid!", "failed", 1002],
      ["42", "skipped", undefined],
      ["resplit-ok-2", "split", undefined],
    ]);
    expect(JSON.stringify(results)).not.toContain("disk on fire");
    const broken = lines.find((line) => line.task_id === "resplit-broken");
    expect(broken).toMatchObject({ level: "error", outcome: "failed", code: 1500 });
    expect(JSON.stringify(broken?.error)).toContain("disk on fire");
    expect(lines).toHaveLength(5);
  });

  it("starts no task once the invocation is about to run out of time", async () => {
    const { store } = await freshStore();
    await registerImages(store, "resplit-late", 3);
    await split(store, { taskId: "resplit-late", counts: counts(1, 1, 1), seed: "e" });
    const before = await liveOf(store, "resplit-late");

    const { results } = await resplitTasks(store, ["resplit-late"], { timeLeft: () => 30_000, log: capture().log });

    expect(results).toEqual([
      { task_id: "resplit-late", outcome: "skipped", reason: expect.stringMatching(/out of time/) },
    ]);
    expect(await liveOf(store, "resplit-late")).toEqual(before);
  });
});
