import { DeleteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { sleep } from "../../lib/concurrency.ts";
import { storageUnavailable } from "../../lib/errors.ts";
import { SET_TYPES } from "../../lib/model.ts";
import { parseResplitEvent, resplitTasks } from "../../lib/resplit.ts";
import { createStore, type Store } from "../../lib/store.ts";
import { TABLE } from "../../lib/table.ts";
import { faultyClient } from "../support/faults.ts";
import { counts, freshStore, imageId, localClient, readWholeSet, registerImages } from "../support/store.ts";

/** Collects the log lines resplitTasks writes, instead of printing them. */
const capture = () => {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: (entry: Record<string, unknown>) => void lines.push(entry) };
};

const setSizes = async (store: Store, taskId: string) =>
  Promise.all(SET_TYPES.map(async (setType) => (await readWholeSet(store, taskId, setType)).length));

describe("parseResplitEvent", () => {
  it("reads {task_ids} as the schedule rule delivers it, and an EventBridge event whose detail carries it", () => {
    expect(parseResplitEvent({ task_ids: ["a", "b"] })).toEqual(["a", "b"]);
    expect(
      parseResplitEvent({ "detail-type": "Scheduled Event", source: "aws.events", detail: { task_ids: ["c"] } }),
    ).toEqual(["c"]);
  });

  it("throws on an event that names no list of tasks", () => {
    expect(() => parseResplitEvent({ "detail-type": "Scheduled Event", detail: {} })).toThrow(/task_ids/);
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
    const before = await store.splitTask({ taskId: "resplit-done", counts: counts(6, 3, 2), seed: "first" });
    const { lines, log } = capture();

    // Act
    const { results } = await resplitTasks(store, ["resplit-done", "resplit-never", "resplit-unknown"], { log });

    // Assert
    expect(results).toEqual([
      {
        task_id: "resplit-done",
        outcome: "split",
        version: expect.any(Number),
        seed: expect.any(String),
        training_count: 6,
        verifying_count: 3,
        testing_count: 2,
        unassigned_count: 1,
      },
      { task_id: "resplit-never", outcome: "skipped", reason: "never split" },
      { task_id: "resplit-unknown", outcome: "skipped", reason: "never split" },
    ]);
    const [done] = results;
    expect(done?.outcome === "split" && done.version).toBeGreaterThan(before.version);
    expect(done?.outcome === "split" && done.seed).not.toBe("first");
    expect(await store.lastSplit("resplit-done")).toEqual({
      spec: { counts: counts(6, 3, 2) },
      version: (done as { version: number }).version,
    });
    expect(await setSizes(store, "resplit-done")).toEqual([6, 2, 3]);
    expect(await store.lastSplit("resplit-never")).toBeUndefined();
    // one line per task, in the order the tasks finished
    expect(lines.map((line) => [line.task_id, line.outcome, line.level]).sort()).toEqual([
      ["resplit-done", "split", "info"],
      ["resplit-never", "skipped", "warn"],
      ["resplit-unknown", "skipped", "warn"],
    ]);
  });

  it("skips a task held by another split (1008) and still re-splits the others", async () => {
    // Arrange: a split of "resplit-held" that has taken the task's lease and is stopped at its first write
    const { store, config } = await freshStore();
    await registerImages(store, "resplit-held", 10);
    await registerImages(store, "resplit-free", 10);
    await store.splitTask({ taskId: "resplit-held", counts: counts(5, 5, 0), seed: "a" });
    await store.splitTask({ taskId: "resplit-free", counts: counts(4, 3, 3), seed: "b" });
    const faults = faultyClient();
    let resume = () => {};
    faults.pauseAt("BatchWriteItemCommand", new Promise<void>((resolve) => (resume = resolve)));
    const holder = createStore({ ...config, leaseMs: 30_000 }, faults.client);
    const holding = holder.splitTask({ taskId: "resplit-held", counts: counts(1, 1, 1), seed: "holder" });
    while (!faults.calls.BatchWriteItemCommand) await sleep(10);

    // Act
    const { results } = await resplitTasks(store, ["resplit-held", "resplit-free"], { log: capture().log });
    resume();

    // Assert
    expect(results).toEqual([
      { task_id: "resplit-held", outcome: "skipped", reason: "another split in progress", code: 1008 },
      expect.objectContaining({
        task_id: "resplit-free",
        outcome: "split",
        training_count: 4,
        verifying_count: 3,
        testing_count: 3,
      }),
    ]);
    expect((await holding).seed).toBe("holder");
    expect((await store.lastSplit("resplit-held"))?.spec.counts).toEqual(counts(1, 1, 1));
  });

  it("skips a task whose images no longer fit its last counts (1007), with the reason", async () => {
    // Arrange: split 10 of 10, then the platform removes an image behind the service's back
    const { store, config } = await freshStore();
    await registerImages(store, "resplit-shrunk", 10);
    await store.splitTask({ taskId: "resplit-shrunk", counts: counts(7, 2, 1), seed: "c" });
    const before = await store.lastSplit("resplit-shrunk");
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
    expect(await store.lastSplit("resplit-shrunk")).toEqual(before); // nothing was written
  });

  it("reports a failing task and an invalid id as failed, logs the cause, and goes on with the others", async () => {
    // Arrange: storage fails for one task only
    const { store } = await freshStore();
    for (const taskId of ["resplit-ok-1", "resplit-broken", "resplit-ok-2"]) {
      await registerImages(store, taskId, 4);
      await store.splitTask({ taskId, counts: counts(2, 1, 1), seed: "d" });
    }
    const flaky: Store = {
      ...store,
      splitTask: (request) =>
        request.taskId === "resplit-broken"
          ? Promise.reject(storageUnavailable(new Error("disk on fire: arn:aws:dynamodb:secret"), false))
          : store.splitTask(request),
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
    await store.splitTask({ taskId: "resplit-late", counts: counts(1, 1, 1), seed: "e" });
    const before = await store.lastSplit("resplit-late");

    const { results } = await resplitTasks(store, ["resplit-late"], { timeLeft: () => 30_000, log: capture().log });

    expect(results).toEqual([
      { task_id: "resplit-late", outcome: "skipped", reason: expect.stringMatching(/out of time/) },
    ]);
    expect(await store.lastSplit("resplit-late")).toEqual(before);
  });
});
