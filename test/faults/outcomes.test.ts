import { ScanCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { readConfig, readIdempotencySettings } from "../../lib/config.ts";
import { splitTask } from "../../lib/split/split.ts";
import { documentClient } from "../../lib/store/client.ts";
import type { Store } from "../../lib/store/index.ts";
import { TABLE, TASK_ITEM_SK } from "../../lib/store/table.ts";
import { deferred, type FaultProxy, isPublish } from "../support/fault-proxy/index.ts";
import { type Reply, useApiThroughProxy } from "../support/http.ts";
import { counts, localClient, readWholeSet, registerImages, storesThrough } from "../support/store.ts";

/**
 * Guarantee 8, outcomes are true: an answer says only what happened, even when the publish's own
 * answer is lost. Through the fault proxy, at the store and over HTTP with the real handlers.
 */

const SETS = "/training/tasks/sets";
const IMAGES = "/training/tasks/images";
/** Each handler gets 2 s of storage (29 s left less this margin), so exhaustion comes quickly. */
const STORAGE_MS = 2_000;
/** Split answers above this many bytes are kept in the idempotency record without their id lists. */
const KEEP_BYTES = 2_000;

const running = useApiThroughProxy({
  ANSWER_MARGIN_MS: String(29_000 - STORAGE_MS),
  IDEMPOTENCY_KEEP_BYTES: String(KEEP_BYTES),
});
let proxy: FaultProxy;
let api: ReturnType<typeof running>["api"];
let truth: Store;
const db = documentClient(localClient());
beforeAll(() => {
  ({ proxy, api, truth } = running());
});

const register = async (taskId: string, count: number) => {
  const images = Array.from({ length: count }, (_, i) => ({ img_id: `${taskId}-${i + 1}`, img_name: `i${i + 1}.jpg` }));
  expect((await api.call("POST", IMAGES, { task_id: taskId, images })).body).toMatchObject({ code: 0, added: count });
};
const splitOver = (taskId: string, key: string, training: number, verifying: number, testing: number) =>
  api.call(
    "PUT",
    SETS,
    { task_id: taskId, training_count: training, verifying_count: verifying, testing_count: testing },
    { "Idempotency-Key": key },
  );
const listsOf = (reply: Reply) => [
  reply.body.img_ids_set_training,
  reply.body.img_ids_set_verifying,
  reply.body.img_ids_set_testing,
];

/** The function that held a key has run out of time: its record may be taken over now. */
async function lapse(taskId: string) {
  const table = readIdempotencySettings().tableName;
  const out = await db.send(new ScanCommand({ TableName: table }));
  const held = (out.Items ?? []).filter((item) => JSON.stringify(item).includes(taskId));
  expect(held.length).toBeGreaterThan(0);
  for (const item of held) {
    await db.send(
      new UpdateCommand({
        TableName: table,
        Key: { id: item.id },
        UpdateExpression: "SET in_progress_expiration = :past",
        ExpressionAttributeValues: { ":past": 0 },
      }),
    );
  }
}

describe("a publish applied but its answer lost (guarantee 8)", () => {
  it("another split publishing before the retry does not turn it into 1008: it answers 200 with its own version, and its snapshot stays readable", async () => {
    // Arrange: split A's publish is applied and its answer dropped; its retry waits until B has published
    const { faulty, truth: direct } = await storesThrough(proxy.endpoint);
    const taskId = "lost-publish-answer";
    await registerImages(direct, taskId, 40);
    const bPublished = deferred();
    const aApplied = deferred();
    let publishes = 0;
    proxy.policy = (call) => {
      if (!isPublish(call)) return undefined;
      publishes++;
      if (publishes === 1) {
        aApplied.resolve();
        return { kind: "dropAnswer" };
      }
      return { kind: "hold", until: bPublished.promise };
    };

    // Act
    const a = splitTask(faulty, { taskId, counts: counts(20, 10, 10), seed: "a" });
    await aApplied.promise;
    while (!(await direct.readTask(taskId))?.live) await new Promise((applied) => setTimeout(applied, 10));
    const b = await splitTask(direct, { taskId, counts: counts(10, 10, 10), seed: "b" });
    bPublished.resolve();
    const answerA = await a;
    proxy.policy = undefined;

    // Assert: A was version 1 and says so; B is version 2 and live
    expect(answerA.version).toBe(1);
    expect(b.version).toBe(2);
    const summary = await direct.taskSummary(taskId);
    expect(summary.history.map((record) => [record.version, record.seed])).toEqual([
      [2, "b"],
      [1, "a"],
    ]);
    // A's snapshot is retained, never expired: its record and chunks carry no expiry
    const a1 = summary.history[1]!;
    const chunks = await direct.readAssignment(taskId, a1);
    expect(Array.from(chunks).filter((code) => code >= 0)).toHaveLength(40);
    const expiring = (
      await db.send(new ScanCommand({ TableName: (direct.config as { tableName: string }).tableName }))
    ).Items?.filter((item) => item[TABLE.partitionKey] === taskId && TABLE.expiryAttribute in item).map(
      (item) => item[TABLE.sortKey],
    );
    expect(expiring).toEqual([]);
  });
});

describe("Idempotency-Key retries never publish a second split (guarantee 8)", () => {
  it("publish applied, answer lost, then storage throttled to the deadline: 503 that says it may be published; the retry replays version 1, never splits again", async () => {
    // Arrange
    const taskId = "idem-lost-then-throttled";
    await register(taskId, 30);
    let throttleAll = false;
    proxy.policy = (call) => {
      if (throttleAll) return { kind: "throttle" };
      if (!isPublish(call)) return undefined;
      throttleAll = true;
      return { kind: "dropAnswer" };
    };

    // Act
    const first = await splitOver(taskId, "k-lost", 10, 5, 5);
    proxy.policy = undefined;
    const meanwhile = await splitOver(taskId, "k-lost", 10, 5, 5);
    await lapse(taskId);
    const retry = await splitOver(taskId, "k-lost", 10, 5, 5);

    // Assert: the first answer tells the truth: the outcome is unknown, it may have been published
    expect(first.status).toBe(503);
    expect(first.body).toMatchObject({ code: 1500 });
    expect(String(first.body.detail)).toMatch(/may have been published/);
    // while the first request's function could still be running, the key is held
    expect(meanwhile.status).toBe(409);
    expect(meanwhile.body.code).toBe(1025);
    // the retry learns the split was published and answers it: version 1, nothing split again
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    const summary = await truth.taskSummary(taskId);
    expect(summary.history.map((record) => record.version)).toEqual([1]);
    expect(retry.body).toMatchObject({ code: 0, version: 1, seed: summary.live?.seed });
    for (const [setType, list] of [
      [0, retry.body.img_ids_set_training],
      [2, retry.body.img_ids_set_verifying],
      [1, retry.body.img_ids_set_testing],
    ] as const) {
      const listed = (await readWholeSet(truth, taskId, setType)).map((image) => image.img_id);
      expect([...(list as string[])].sort()).toEqual([...listed].sort());
    }
  });

  it("a split refused by storage before its publish answered 503 and releases the key: the retry splits (once)", async () => {
    // Arrange: every publish throttled: DynamoDB refused it, so it is known not to be published
    const taskId = "idem-refused-publish";
    await register(taskId, 30);
    proxy.policy = (call) => (isPublish(call) ? { kind: "throttle" } : undefined);

    // Act
    const first = await splitOver(taskId, "k-refused", 10, 5, 5);
    proxy.policy = undefined;
    const retry = await splitOver(taskId, "k-refused", 10, 5, 5);
    const again = await splitOver(taskId, "k-refused", 10, 5, 5);

    // Assert
    expect(first.status).toBe(503);
    expect(String(first.body.detail)).toMatch(/was not published/);
    expect(retry.status).toBe(200);
    expect(retry.body.version).toBe(1);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(listsOf(again)).toEqual(listsOf(retry));
    expect((await truth.taskSummary(taskId)).history).toHaveLength(1);
  });

  it("a big answer replayed after a late registration and a deletion kept the count: lists left out (same seed and version), never in another order", async () => {
    // Arrange: order_id 31 is allocated and not yet written when the split reads the task
    const taskId = "idem-late-registration";
    await register(taskId, 100);
    await db.send(
      new UpdateCommand({
        TableName: readConfig().tableName,
        Key: { [TABLE.partitionKey]: taskId, [TABLE.sortKey]: TASK_ITEM_SK },
        UpdateExpression: "ADD next_order :one",
        ExpressionAttributeValues: { ":one": 1 },
      }),
    );
    await api.call("POST", IMAGES, { task_id: taskId, images: [{ img_id: `${taskId}-102`, img_name: "i102.jpg" }] });
    const first = await splitOver(taskId, "k-late", 60, 20, 20);
    expect(first.status).toBe(200);
    expect(JSON.stringify(first.body).length).toBeGreaterThan(KEEP_BYTES);

    // Act: the late registration commits order_id 101, and the one planned image in no set is deleted:
    // 101 images ≤ N and the same set sizes as the split saw, but not the same images
    await db.send(
      new UpdateCommand({
        TableName: readConfig().tableName,
        Key: { [TABLE.partitionKey]: taskId, [TABLE.sortKey]: `${taskId}-late` },
        UpdateExpression: "SET img_name = :name, #state = :zero, order_id = :order, order_block = :block",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":name": "late.jpg", ":zero": 0, ":order": 101, ":block": `${taskId}#0` },
      }),
    );
    // the one planned image left in no set: the sets keep their sizes, only the permutation changes
    const assigned = new Set(listsOf(first).flat() as string[]);
    const spare = [...Array.from({ length: 100 }, (_, i) => `${taskId}-${i + 1}`), `${taskId}-102`].filter(
      (id) => !assigned.has(id),
    );
    expect(spare).toHaveLength(1);
    const deleted = await api.call("DELETE", IMAGES, { task_id: taskId, img_ids: spare });
    expect(deleted.body).toMatchObject({ code: 0, deleted: 1 });
    const replay = await splitOver(taskId, "k-late", 60, 20, 20);

    // Assert
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toMatchObject({
      code: 0,
      version: first.body.version,
      seed: first.body.seed,
      ids_omitted: true,
      set_sizes: { training: 60, verifying: 20, testing: 20 },
    });
    expect(replay.body).not.toHaveProperty("img_ids_set_training");
  });
  it("a big answer replayed after images registered since the split: the same lists in the same order, the new images in none", async () => {
    // Arrange: a split whose answer is kept without its lists
    const taskId = "idem-registered-since";
    await register(taskId, 100);
    const first = await splitOver(taskId, "k-since", 50, 25, 25);
    expect(first.status).toBe(200);
    expect(JSON.stringify(first.body).length).toBeGreaterThan(KEEP_BYTES);

    // Act: images registered after it, their ids sorting before every planned one, then the retry
    const since = Array.from({ length: 7 }, (_, i) => ({
      img_id: `${taskId.slice(0, 3)}-${i}`,
      img_name: `n${i}.jpg`,
    }));
    expect((await api.call("POST", IMAGES, { task_id: taskId, images: since })).body).toMatchObject({ added: 7 });
    const replay = await splitOver(taskId, "k-since", 50, 25, 25);

    // Assert
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toMatchObject({ code: 0, version: first.body.version, seed: first.body.seed });
    expect(listsOf(replay)).toEqual(listsOf(first));
  });
});
