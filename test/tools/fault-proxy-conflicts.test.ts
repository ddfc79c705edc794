import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactGetItemsCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { retrying } from "../../lib/store/client.ts";
import { type Call, deferred, useFaultProxy } from "../support/fault-proxy/index.ts";
import { freshStore } from "../support/store.ts";
import { clientAt, tableName, useModelTable } from "./model-table.ts";

/**
 * The proxy's transaction conflicts (DynamoDB Local never raises them): a transaction in flight
 * holds its items, and a call touching one of them meanwhile is refused as DynamoDB refuses it.
 * Overlaps are made exactly: the first transaction is held in flight (holdTransaction) until the
 * test has sent what should conflict with it.
 */
const proxy = useFaultProxy({ conflicts: { holdMs: 0 }, capacity: true });

useModelTable();
let client: DynamoDBClient;

beforeAll(() => {
  client = clientAt(proxy().endpoint);
});

const key = (task: string, id: string): Record<string, AttributeValue> => ({ task_id: { S: task }, img_id: { S: id } });

/** A transaction that adds `n` to a task item's count and puts the images `ids`. */
const registration = (task: string, ids: string[], n = ids.length) =>
  new TransactWriteItemsCommand({
    TransactItems: [
      ...ids.map(
        (id): TransactWriteItem => ({
          Put: {
            TableName: tableName,
            Item: { ...key(task, id), img_name: { S: `${id}.jpg` } },
            ConditionExpression: "attribute_not_exists(img_id)",
          },
        }),
      ),
      {
        Update: {
          TableName: tableName,
          Key: key(task, "#task"),
          UpdateExpression: "ADD image_count :n",
          ExpressionAttributeValues: { ":n": { N: String(n) } },
        },
      },
    ],
  });

/** The error an SDK call ends with: its name and cancellation reason codes (none when it succeeded). */
async function outcome(promise: Promise<unknown>): Promise<{ name: string; reasons?: string[] }> {
  try {
    await promise;
    return { name: "none" };
  } catch (error) {
    const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
    return { name: (error as Error).name, ...(reasons ? { reasons: reasons.map((r) => r.Code ?? "") } : {}) };
  }
}

const imageCount = async (task: string) =>
  Number(
    (await client.send(new GetItemCommand({ TableName: tableName, Key: key(task, "#task"), ConsistentRead: true })))
      .Item?.image_count?.N ?? 0,
  );

/** Holds the next transaction through the proxy in flight until `release` is called; `held` settles once it is. */
function holdNextTransaction(which: (call: Call) => boolean = () => true) {
  const held = deferred<Call>();
  const release = deferred();
  proxy().holdTransaction = (call) => {
    if (!which(call)) return undefined;
    proxy().holdTransaction = undefined;
    held.resolve(call);
    return release.promise;
  };
  return { held: held.promise, release: () => release.resolve() };
}

/** Conflicts the proxy answered since `start` (a value of proxy().conflictsInjected). */
const conflictsSince = (start: number) => proxy().conflictsInjected - start;

/** Resolves once `condition` holds, checking every few ms: waits for an event, however long it takes. */
async function until(condition: () => boolean) {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

describe("transaction conflicts, as DynamoDB raises them", () => {
  it("two overlapping transactions on one item: the later one is cancelled with TransactionConflict on that item, the first commits", async () => {
    const start = proxy().conflictsInjected;
    const { held, release } = holdNextTransaction();
    const first = outcome(client.send(registration("overlap", ["a1", "a2"])));
    await held;

    const second = await outcome(client.send(registration("overlap", ["b1", "b2"])));
    expect(second).toEqual({
      name: "TransactionCanceledException",
      reasons: ["None", "None", "TransactionConflict"],
    });
    release();
    expect(await first).toEqual({ name: "none" });
    expect(conflictsSince(start)).toBe(1);
    // Refused without reaching DynamoDB, and not charged: only the first one's units (2 puts and
    // the task item, each 1 WCU, twice in a transaction).
    expect(proxy().capacity?.consumed().writeUnits).toBe(6);
    expect(await imageCount("overlap")).toBe(2);
    expect(
      (await client.send(new GetItemCommand({ TableName: tableName, Key: key("overlap", "b1"), ConsistentRead: true })))
        .Item,
    ).toBeUndefined();
  });

  it("a plain UpdateItem, PutItem or DeleteItem of an item a transaction holds: TransactionConflictException", async () => {
    const start = proxy().conflictsInjected;
    const { held, release } = holdNextTransaction();
    const first = outcome(client.send(registration("plain", ["a1"])));
    await held;

    const update = new UpdateItemCommand({
      TableName: tableName,
      Key: key("plain", "#task"),
      UpdateExpression: "ADD next_order :n",
      ExpressionAttributeValues: { ":n": { N: "10" } },
    });
    expect(await outcome(client.send(update))).toEqual({ name: "TransactionConflictException" });
    expect(
      await outcome(
        client.send(
          new PutItemCommand({ TableName: tableName, Item: { ...key("plain", "a1"), img_name: { S: "x" } } }),
        ),
      ),
    ).toEqual({ name: "TransactionConflictException" });
    // A transactional read of a held item is cancelled too; a plain read is not refused.
    expect(
      await outcome(
        client.send(
          new TransactGetItemsCommand({
            TransactItems: [{ Get: { TableName: tableName, Key: key("plain", "#task") } }],
          }),
        ),
      ),
    ).toEqual({ name: "TransactionCanceledException", reasons: ["TransactionConflict"] });
    expect(
      await outcome(client.send(new GetItemCommand({ TableName: tableName, Key: key("plain", "#task") }))),
    ).toEqual({
      name: "none",
    });
    release();
    expect(await first).toEqual({ name: "none" });

    // Once the transaction has been answered its items are free again.
    expect(await outcome(client.send(update))).toEqual({ name: "none" });
    expect(conflictsSince(start)).toBe(3);
  });

  it("transactions on other items overlap freely, and transactions one after another never conflict", async () => {
    const start = proxy().conflictsInjected;
    const { held, release } = holdNextTransaction();
    const first = outcome(client.send(registration("free-1", ["a1"])));
    await held;
    expect(await outcome(client.send(registration("free-2", ["a1"])))).toEqual({ name: "none" });
    release();
    expect(await first).toEqual({ name: "none" });

    for (let i = 0; i < 5; i++)
      expect(await outcome(client.send(registration("free-1", [`s${i}`])))).toEqual({ name: "none" });
    expect(await imageCount("free-1")).toBe(6);
    expect(conflictsSince(start)).toBe(0);
  });

  it("the store's retries get through: a conflicted transaction and a conflicted update are sent again until they commit", async () => {
    const { held, release } = holdNextTransaction();
    const first = outcome(client.send(registration("retried", ["a1"])));
    await held;
    const deadline = Date.now() + 30_000;
    let attempts = 0;
    // Released once the retried calls have met the held transaction at least twice.
    const retried = retrying(deadline, () => {
      attempts++;
      if (attempts === 3) release();
      return client.send(registration("retried", ["b1"]));
    });
    expect(await outcome(retried)).toEqual({ name: "none" });
    expect(await first).toEqual({ name: "none" });
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(await imageCount("retried")).toBe(2);
  });
});

describe("registration through conflicts", () => {
  it("parallel registrations into one task all get through, and the count is exact", async () => {
    const { store } = await freshStore({}, clientAt(proxy().endpoint));
    const start = proxy().conflictsInjected;
    const taskId = "parallel";
    // The first transaction on the task item (a registration's count) stays in flight until another
    // registration has met it: every registration settles its count there after its creations.
    const { release } = holdNextTransaction((call) => JSON.stringify(call.input).includes('"#task"'));
    void until(() => conflictsSince(start) > 0).then(release);
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, u) =>
        store.registerImages({
          taskId,
          images: Array.from({ length: 150 }, (_, i) => ({ imgId: `u${u}-${i}`, imgName: `u${u}_${i}.jpg` })),
        }),
      ),
    );
    expect(results.map((r) => r.added)).toEqual([150, 150, 150, 150]);
    expect((await store.readTask(taskId))?.imageCount).toBe(600);
    expect(conflictsSince(start)).toBeGreaterThan(0);
  });
});
