import { createHash, randomUUID } from "node:crypto";
import { QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { readConfig, readIdempotencySettings } from "../../../lib/config.ts";
import { documentClient } from "../../../lib/store/client.ts";
import type { Store } from "../../../lib/store/index.ts";
import { TABLE } from "../../../lib/store/table.ts";
import { type Call, deferred, type FaultProxy, isPublish } from "../../support/fault-proxy/index.ts";
import { type Reply, useApiThroughProxy } from "../../support/http.ts";
import { counts, localClient, split } from "../../support/store.ts";

/**
 * Guarantee 8 for a retry with the same Idempotency-Key after the first request's function ran out
 * of time: the record is taken over and the first split's outcome decides the answer. The handlers
 * reach DynamoDB through the fault proxy; `truth` reaches it directly.
 */

const SETS = "/training/tasks/sets";
const IMAGES = "/training/tasks/images";
/** Each handler gets 2 s of storage (29 s left less this margin), so exhaustion comes quickly. */
const STORAGE_MS = 2_000;
/** Split answers above this many bytes are kept in the idempotency record without their id lists. */
const KEEP_BYTES = 2_000;
/** Small, so that a split of 1,000 images answers without its id lists. */
const MAX_ANSWER_BYTES = 20_000;

const running = useApiThroughProxy({
  ANSWER_MARGIN_MS: String(29_000 - STORAGE_MS),
  IDEMPOTENCY_KEEP_BYTES: String(KEEP_BYTES),
  MAX_ANSWER_BYTES: String(MAX_ANSWER_BYTES),
});
let proxy: FaultProxy;
let api: ReturnType<typeof running>["api"];
let truth: Store;
const db = documentClient(localClient());
beforeAll(() => {
  ({ proxy, api, truth } = running());
});

const register = async (taskId: string, count: number, label?: (i: number) => string) => {
  for (let start = 0; start < count; start += 500) {
    const images = Array.from({ length: Math.min(500, count - start) }, (_, k) => {
      const i = start + k + 1;
      return { img_id: `${taskId}-${i}`, img_name: `i${i}.jpg`, ...(label ? { label: label(i) } : {}) };
    });
    expect((await api.call("POST", IMAGES, { task_id: taskId, images })).body).toMatchObject({ code: 0 });
  }
};
const splitBody = (taskId: string, training: number, verifying: number, testing: number, extra = {}) => ({
  task_id: taskId,
  training_count: training,
  verifying_count: verifying,
  testing_count: testing,
  ...extra,
});
const keyed = (key: string) => ({ "Idempotency-Key": key });
const listsOf = (reply: Reply) => [
  reply.body.img_ids_set_training,
  reply.body.img_ids_set_verifying,
  reply.body.img_ids_set_testing,
];

/** The key's record as the middleware names it: route and key, for the one local caller. */
const recordId = (route: string, key: string) =>
  `${route}#${createHash("sha256").update(`${key}\n-`).digest("base64url")}`;

/** The function that held the key has run out of time: its record may be taken over now. */
async function lapse(route: string, key: string) {
  await db.send(
    new UpdateCommand({
      TableName: readIdempotencySettings().tableName,
      Key: { id: recordId(route, key) },
      UpdateExpression: "SET in_progress_expiration = :past",
      ConditionExpression: "attribute_exists(id)",
      ExpressionAttributeValues: { ":past": 0 },
    }),
  );
}

/** The publish is applied and its answer lost; then every call is throttled until the request gives up. */
function publishAppliedThenThrottled() {
  let throttleAll = false;
  proxy.policy = (call) => {
    if (throttleAll) return { kind: "throttle" };
    if (!isPublish(call)) return undefined;
    throttleAll = true;
    return { kind: "dropAnswer" };
  };
}

/** The function dies the moment `when` holds: that call and every later one are lost. */
function dieWhen(when: (call: Call) => boolean) {
  proxy.policy = (call) => {
    if (when(call)) proxy.kill();
    return undefined;
  };
}

const mainTable = () => readConfig().tableName;

describe("a retry after the first request's function died", () => {
  it("its split lost to another one meanwhile: the retry splits anew, never answering the lost split", async () => {
    // Arrange: the first request dies at its publish, before DynamoDB; another split publishes version 1
    const taskId = "died-then-lost";
    const key = randomUUID();
    await register(taskId, 30);
    dieWhen(isPublish);
    const first = await api.call("PUT", SETS, splitBody(taskId, 10, 5, 5), keyed(key));
    proxy.reset();
    await split(truth, { taskId, counts: counts(10, 10, 10), seed: "winner" });
    await lapse("SplitTask", key);

    // Act
    const retry = await api.call("PUT", SETS, splitBody(taskId, 10, 5, 5), keyed(key));

    // Assert
    expect(first).toMatchObject({ status: 503, body: { code: 1500 } });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    expect(retry.body.version).toBe(2);
    const summary = await truth.taskSummary(taskId);
    expect(summary.history.map((record) => [record.version, record.seed])).toEqual([
      [2, retry.body.seed],
      [1, "winner"],
    ]);
  });

  it("its split older than the published window: whether it was published cannot be learned, so 503 and nothing split", async () => {
    // Arrange: the first request dies at its publish; 21 splits follow, so version 1 left the window of 20
    const taskId = "died-then-forgotten";
    const key = randomUUID();
    await register(taskId, 30);
    dieWhen(isPublish);
    await api.call("PUT", SETS, splitBody(taskId, 10, 5, 5), keyed(key));
    proxy.reset();
    for (let i = 1; i <= 21; i++) await split(truth, { taskId, counts: counts(10, 10, 10), seed: `later${i}` });
    await lapse("SplitTask", key);

    // Act
    const retry = await api.call("PUT", SETS, splitBody(taskId, 10, 5, 5), keyed(key));

    // Assert
    expect(retry).toMatchObject({ status: 503, body: { code: 1500 } });
    expect(String(retry.body.detail)).toMatch(/cannot be learned now/);
    expect((await truth.taskSummary(taskId)).live).toMatchObject({ version: 21, seed: "later21" });
  });

  it("before its split was named: the retry runs the split", async () => {
    // Arrange: the first request dies reading the images, after it took the key
    const taskId = "died-reading";
    const key = randomUUID();
    await register(taskId, 30);
    dieWhen((call) => call.operation === "Query" && call.input.TableName === mainTable());
    const first = await api.call("PUT", SETS, splitBody(taskId, 10, 5, 5), keyed(key));
    proxy.reset();
    await lapse("SplitTask", key);

    // Act
    const retry = await api.call("PUT", SETS, splitBody(taskId, 10, 5, 5), keyed(key));

    // Assert
    expect(first).toMatchObject({ status: 503, body: { code: 1500 } });
    expect(retry).toMatchObject({ status: 200, body: { code: 0, version: 1 } });
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    expect((await truth.taskSummary(taskId)).history.map((record) => record.version)).toEqual([1]);
  });
});

describe("a retry that learns the first split was published (its answer lost)", () => {
  it("answers it rebuilt, and keeps that answer: the retry after replays it whole, lists included", async () => {
    // Arrange
    const taskId = "recovered-kept";
    const key = randomUUID();
    await register(taskId, 100);
    publishAppliedThenThrottled();
    const first = await api.call("PUT", SETS, splitBody(taskId, 60, 20, 20), keyed(key));
    proxy.policy = undefined;
    await lapse("SplitTask", key);

    // Act
    const recovered = await api.call("PUT", SETS, splitBody(taskId, 60, 20, 20), keyed(key));
    const again = await api.call("PUT", SETS, splitBody(taskId, 60, 20, 20), keyed(key));

    // Assert
    expect(first.status).toBe(503);
    expect(recovered).toMatchObject({ status: 200, body: { code: 0, version: 1 } });
    expect(JSON.stringify(recovered.body).length).toBeGreaterThan(KEEP_BYTES);
    expect(listsOf(recovered).map((list) => (list as string[]).length)).toEqual([60, 20, 20]);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(recovered.body);
  });

  it("whose images changed since: answers ids_omitted and its set sizes, never empty lists", async () => {
    // Arrange: an image the split planned over is deleted before the retry
    const taskId = "recovered-changed";
    const key = randomUUID();
    await register(taskId, 30);
    publishAppliedThenThrottled();
    const first = await api.call("PUT", SETS, splitBody(taskId, 10, 5, 5), keyed(key));
    proxy.policy = undefined;
    const deleted = await api.call("DELETE", IMAGES, { task_id: taskId, img_ids: [`${taskId}-7`] });
    await lapse("SplitTask", key);

    // Act
    const retry = await api.call("PUT", SETS, splitBody(taskId, 10, 5, 5), keyed(key));

    // Assert
    expect(first.status).toBe(503);
    expect(deleted.body).toMatchObject({ code: 0, deleted: 1 });
    const live = (await truth.taskSummary(taskId)).live!;
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual({
      code: 0,
      msg: "TaskImgRel 表 图像集合数据更新， 成功",
      task_id: taskId,
      ids_omitted: true,
      set_sizes: { training: 10, verifying: 5, testing: 5 },
      unassigned_count: 10,
      seed: live.seed,
      version: 1,
    });
  });

  it("asked with counts and an option: the rebuilt answer carries the planner's account, as the first would have", async () => {
    // Arrange
    const taskId = "recovered-details";
    const key = randomUUID();
    await register(taskId, 40, (i) => `l${i % 4}`);
    const body = splitBody(taskId, 20, 10, 10, { stratify_by: "label" });
    publishAppliedThenThrottled();
    const first = await api.call("PUT", SETS, body, keyed(key));
    proxy.policy = undefined;
    await lapse("SplitTask", key);

    // Act
    const retry = await api.call("PUT", SETS, body, keyed(key));

    // Assert
    expect(first.status).toBe(503);
    expect(retry).toMatchObject({
      status: 200,
      body: {
        code: 0,
        version: 1,
        dry_run: false,
        algorithm: "v1",
        requested_sizes: { training: 20, verifying: 10, testing: 10 },
        achieved_sizes: { training: 20, verifying: 10, testing: 10 },
        newly_assigned_count: 40,
      },
    });
    expect((retry.body.label_counts as { label: string }[]).map((count) => count.label)).toEqual([
      "l0",
      "l1",
      "l2",
      "l3",
    ]);
  });
});

describe("a kept split answer replayed", () => {
  it("after its snapshot was retired and its grace period ended: without its lists, same seed and version", async () => {
    // Arrange: a big answer kept without its lists; 20 later splits retire its snapshot; the grace period passes
    const taskId = "kept-retired";
    const key = randomUUID();
    await register(taskId, 100);
    const first = await api.call("PUT", SETS, splitBody(taskId, 60, 20, 20), keyed(key));
    for (let i = 1; i <= 20; i++) await split(truth, { taskId, counts: counts(10, 10, 10), seed: `later${i}` });
    const out = await db.send(
      new QueryCommand({
        TableName: mainTable(),
        KeyConditionExpression: "#pk = :task AND begins_with(#sk, :chunks)",
        ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey },
        ExpressionAttributeValues: { ":task": taskId, ":chunks": `#split#${"1".padStart(10, "0")}#` },
        ConsistentRead: true,
      }),
    );
    expect(out.Items?.length).toBeGreaterThan(0);
    for (const chunk of out.Items ?? []) {
      expect(chunk).toHaveProperty(TABLE.expiryAttribute);
      await db.send(
        new UpdateCommand({
          TableName: mainTable(),
          Key: { [TABLE.partitionKey]: taskId, [TABLE.sortKey]: chunk[TABLE.sortKey] },
          UpdateExpression: "SET #expires = :past",
          ExpressionAttributeNames: { "#expires": TABLE.expiryAttribute },
          ExpressionAttributeValues: { ":past": Math.floor(Date.now() / 1000) - 1 },
        }),
      );
    }

    // Act
    const replay = await api.call("PUT", SETS, splitBody(taskId, 60, 20, 20), keyed(key));

    // Assert
    expect(first.status).toBe(200);
    expect(JSON.stringify(first.body).length).toBeGreaterThan(KEEP_BYTES);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay).toMatchObject({
      status: 200,
      body: {
        code: 0,
        ids_omitted: true,
        set_sizes: { training: 60, verifying: 20, testing: 20 },
        seed: first.body.seed,
        version: 1,
      },
    });
    expect(replay.body).not.toHaveProperty("img_ids_set_training");
  });

  it("that already had no lists (too big for one answer) and is bigger than the kept size: replayed as it was", async () => {
    // Arrange: 1,000 ids pass MAX_ANSWER_BYTES; 40 label counts keep the answer above KEEP_BYTES without them
    const taskId = "kept-omitted";
    const key = randomUUID();
    await register(taskId, 1_000, (i) => `label-${i % 40}`);
    const body = splitBody(taskId, 600, 200, 200, { stratify_by: "label" });

    // Act
    const first = await api.call("PUT", SETS, body, keyed(key));
    const replay = await api.call("PUT", SETS, body, keyed(key));

    // Assert
    expect(first).toMatchObject({
      status: 200,
      body: { code: 0, ids_omitted: true, set_sizes: { training: 600, verifying: 200, testing: 200 }, version: 1 },
    });
    expect(JSON.stringify(first.body).length).toBeGreaterThan(KEEP_BYTES);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual(first.body);
  });
});

describe("a record taken over while its owner finishes", () => {
  it("the owner's answer is saved first: the taker gets 1025, and later retries replay the owner's answer", async () => {
    // Arrange: A's registration is held after it took the key; its time runs out; B's takeover is held
    const taskId = "takeover-race";
    const key = randomUUID();
    const body = {
      task_id: taskId,
      images: Array.from({ length: 5 }, (_, i) => ({ img_id: `${taskId}-${i}`, img_name: `r${i}.jpg` })),
    };
    const goA = deferred();
    const aHeld = deferred();
    const goB = deferred();
    const bHeld = deferred();
    proxy.policy = (call) => {
      if (call.input.TableName === mainTable()) {
        aHeld.resolve();
        return { kind: "hold", until: goA.promise };
      }
      const takesOver =
        call.operation === "UpdateItem" &&
        call.input.TableName === readIdempotencySettings().tableName &&
        String(call.input.UpdateExpression).includes("in_progress_expiration = :until");
      if (!takesOver) return undefined;
      bHeld.resolve();
      return { kind: "hold", until: goB.promise };
    };

    // Act
    const a = api.call("POST", IMAGES, body, keyed(key));
    await aHeld.promise;
    await lapse("RegisterImages", key);
    const b = api.call("POST", IMAGES, body, keyed(key));
    await bHeld.promise;
    goA.resolve();
    const answerA = await a;
    goB.resolve();
    const answerB = await b;
    proxy.policy = undefined;
    const later = await api.call("POST", IMAGES, body, keyed(key));

    // Assert
    expect(answerA).toMatchObject({ status: 200, body: { code: 0, added: 5, total: 5 } });
    expect(answerB).toMatchObject({ status: 409, body: { code: 1025 } });
    expect(later.headers.get("idempotent-replayed")).toBe("true");
    expect(later.body).toEqual(answerA.body);
  });
});
