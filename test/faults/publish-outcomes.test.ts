import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import type { StoreConfig } from "../../lib/config.ts";
import { ServiceError } from "../../lib/errors.ts";
import { DEFAULT_SPLIT_OPTIONS, type SplitSpec } from "../../lib/model.ts";
import { documentClient } from "../../lib/store/client.ts";
import { createStore } from "../../lib/store/index.ts";
import { chunkKey, runKey, TABLE, TASK_ITEM_SK } from "../../lib/store/table.ts";
import { deferred, isPublish, useFaultProxy } from "../support/fault-proxy/index.ts";
import {
  counts,
  expectCompleteSplit,
  freshStore,
  localClient,
  registerImages,
  registrationOrder,
  split,
} from "../support/store.ts";

/**
 * Guarantee 8 at the publish itself: what a split answers when its one conditional write fails in
 * each way storage can fail it. The split runs through the fault proxy; the table is checked directly.
 */
const proxy = useFaultProxy();
const db = documentClient(localClient());

type Reserved = Record<string, unknown> & { img_id: string };

/** The run item and chunks of the split attempt with `token`. */
async function snapshotItems(tableName: string, taskId: string, token: string): Promise<Reserved[]> {
  const out = await db.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: "#pk = :task AND begins_with(#sk, :hash)",
      ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey },
      ExpressionAttributeValues: { ":task": taskId, ":hash": "#" },
      ConsistentRead: true,
    }),
  );
  return ((out.Items ?? []) as Reserved[]).filter((item) => item.img_id.includes(`#${token}`));
}

/** The token of the split attempt that is not `known`: the one whose snapshot the failed split wrote. */
async function otherToken(tableName: string, taskId: string, known: readonly string[]): Promise<string> {
  const out = await db.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: "#pk = :task AND begins_with(#sk, :run)",
      ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey },
      ExpressionAttributeValues: { ":task": taskId, ":run": "#run#" },
      ConsistentRead: true,
    }),
  );
  const tokens = (out.Items ?? []).map((item) => item.token as string).filter((token) => !known.includes(token));
  expect(tokens).toHaveLength(1);
  return tokens[0] as string;
}

/**
 * A task of 40 images split once (version 1), reached directly (`truth`) and through the proxy
 * (`faulty`, with `overrides`).
 */
async function splitOnce(taskId: string, overrides: Partial<StoreConfig> = {}) {
  const { store: truth, config } = await freshStore();
  const faulty = createStore({ ...config, endpoint: proxy().endpoint, ...overrides });
  await registerImages(truth, taskId, 40);
  const previous = await split(truth, { taskId, counts: counts(20, 10, 10), seed: "previous" });
  const previousToken = (await truth.readTask(taskId))?.live?.token as string;
  return { faulty, truth, previous, previousToken, tableName: config.tableName };
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("the split succeeded");
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(ServiceError);
      return error as ServiceError;
    },
  );

describe("a publish whose outcome storage leaves unknown", () => {
  it("a publish that timed out on the wire and was refused to the deadline answers 503 'may have been published', expires nothing, and is live and whole once the stalled write lands", async () => {
    // Arrange: the first publish stalls past the request timeout; every later attempt is throttled
    const taskId = "stalled-publish";
    const { faulty, truth, previousToken, tableName } = await splitOnce(taskId, { requestTimeoutMs: 500 });
    const land = deferred();
    let publishes = 0;
    proxy().policy = (call) => {
      if (!isPublish(call)) return undefined;
      publishes++;
      return publishes === 1 ? { kind: "hold", until: land.promise } : { kind: "throttle" };
    };
    const spec: SplitSpec = { taskId, counts: counts(10, 20, 10), seed: "stalled" };

    // Act
    const failure = await failureOf(split(faulty, spec, Date.now() + 3_000));
    const token = await otherToken(tableName, taskId, [previousToken]);
    const beforeLanding = await snapshotItems(tableName, taskId, token);
    land.resolve();
    for (let waited = 0; (await truth.readTask(taskId))?.live?.version !== 2 && waited < 5_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // Assert: the answer says the split may have been published, and it was
    expect(publishes).toBeGreaterThan(1);
    expect(failure).toMatchObject({ code: 1500, status: 503, outcome: "unknown" });
    expect(failure.detail).toMatch(/split version 2 may have been published/);
    expect(beforeLanding.map((item) => item.img_id).sort()).toEqual([chunkKey(2, token, 0), runKey(2, token)].sort());
    for (const item of beforeLanding) expect(item, item.img_id).not.toHaveProperty(TABLE.expiryAttribute);
    const live = (await truth.taskSummary(taskId)).live;
    expect(live).toMatchObject({ version: 2, token, seed: "stalled" });
    const replay = await split(truth, { ...spec, options: { ...DEFAULT_SPLIT_OPTIONS, dryRun: true } });
    await expectCompleteSplit(truth, { ...replay, version: 2 }, registrationOrder(taskId));
    for (const item of await snapshotItems(tableName, taskId, token)) {
      expect(item, item.img_id).not.toHaveProperty(TABLE.expiryAttribute);
    }
  });

  it("a publish answered 500 to the deadline answers 503 'may have been published': a 500 may have been applied", async () => {
    // Arrange
    const taskId = "publish-500";
    const { faulty, truth, previous } = await splitOnce(taskId);
    proxy().policy = (call) =>
      isPublish(call) ? { kind: "error", status: 500, type: "InternalServerError" } : undefined;

    // Act
    const failure = await failureOf(
      split(faulty, { taskId, counts: counts(10, 20, 10), seed: "five-hundred" }, Date.now() + 2_000),
    );

    // Assert
    expect(failure).toMatchObject({ code: 1500, status: 503, outcome: "unknown" });
    expect(failure.detail).toMatch(/may have been published/);
    expect((await truth.readTask(taskId))?.live?.version).toBe(previous.version);
  });

  it("the last read after the deadline gets half the answer margin: a split whose read hangs still answers within the margin", async () => {
    // Arrange: every publish throttled, then the read that would settle the outcome never answered
    const taskId = "hung-last-read";
    const answerMarginMs = 4_000;
    const { faulty } = await splitOnce(taskId, { answerMarginMs });
    const never = deferred();
    let publishing = false;
    proxy().policy = (call) => {
      if (isPublish(call)) {
        publishing = true;
        return { kind: "throttle" };
      }
      const key = call.input.Key as Record<string, { S?: string }> | undefined;
      if (publishing && call.operation === "GetItem" && key?.[TABLE.sortKey]?.S === TASK_ITEM_SK) {
        return { kind: "hold", until: never.promise };
      }
      return undefined;
    };
    const deadline = Date.now() + 2_500;

    // Act
    const failure = await failureOf(split(faulty, { taskId, counts: counts(10, 20, 10), seed: "hung" }, deadline));
    const late = Date.now() - deadline;
    never.resolve();

    // Assert
    expect(failure).toMatchObject({ code: 1500, status: 503, outcome: "unknown" });
    expect(late).toBeLessThan(answerMarginMs);
  });
});

describe("a publish storage refused", () => {
  it("a publish answered 400 (not throttling) was not applied: 503 'not published', and its snapshot expires", async () => {
    // Arrange
    const taskId = "publish-400";
    const { faulty, truth, previous, previousToken, tableName } = await splitOnce(taskId);
    proxy().policy = (call) =>
      isPublish(call) ? { kind: "error", status: 400, type: "ValidationException" } : undefined;

    // Act
    const failure = await failureOf(split(faulty, { taskId, counts: counts(10, 20, 10), seed: "refused" }));
    proxy().policy = undefined;

    // Assert
    expect(failure).toMatchObject({ code: 1500, status: 503, outcome: "not-published" });
    expect(failure.detail).toMatch(/was not published/);
    expect((await truth.readTask(taskId))?.live?.version).toBe(previous.version);
    const items = await snapshotItems(tableName, taskId, await otherToken(tableName, taskId, [previousToken]));
    expect(items).toHaveLength(2);
    for (const item of items) expect(item, item.img_id).toHaveProperty(TABLE.expiryAttribute);
  });
});

describe("a split that lost", () => {
  it("to two splits published while it ran: its 1008 names the live version", async () => {
    // Arrange: the loser's publish waits until two others have published
    const taskId = "lost-to-two";
    const { faulty, truth, previous } = await splitOnce(taskId);
    const go = deferred();
    const held = deferred();
    proxy().policy = (call) => {
      if (!isPublish(call)) return undefined;
      held.resolve();
      return { kind: "hold", until: go.promise };
    };

    // Act
    const loser = failureOf(split(faulty, { taskId, counts: counts(10, 20, 10), seed: "loser" }));
    await held.promise;
    const second = await split(truth, { taskId, counts: counts(20, 5, 5), seed: "second" });
    const third = await split(truth, { taskId, counts: counts(25, 5, 5), seed: "third" });
    go.resolve();
    const failure = await loser;

    // Assert
    expect([second.version, third.version]).toEqual([2, 3]);
    expect(failure).toMatchObject({ code: 1008, status: 409, outcome: "not-published" });
    expect(failure.detail).toBe(
      `split version 3 was published while this split (planned on version ${previous.version}) ran`,
    );
  });
});
