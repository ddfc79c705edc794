import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { type Item, itemSize } from "../support/capacity-model/index.ts";
import { useFaultProxy } from "../support/fault-proxy/index.ts";
import {
  clientAt,
  direct,
  errorName,
  INDEX,
  type SdkItem,
  smallImage,
  tableName,
  testClock,
  useModelTable,
} from "./model-table.ts";

useModelTable();

describe("through the proxy at DynamoDB's per-partition limits", () => {
  const clock = testClock();
  const proxy = useFaultProxy({ capacity: true, now: clock.now });
  let client: DynamoDBClient;
  beforeAll(() => {
    client = clientAt(proxy().endpoint);
  });

  it("a Query of ~1 MB charges ~256 RCU strongly consistent and half that eventually, whatever it projects", async () => {
    const items = Array.from({ length: 255 }, (_, i) => ({
      task_id: { S: "big" },
      img_id: { S: `img-${String(i).padStart(6, "0")}` },
      blob: { S: "x".repeat(4096 - 10 - 16 - 4) }, // task_id "big": 10, img_id: 16, name "blob": 4
    }));
    expect(itemSize(items[0])).toBe(4096);
    for (let i = 0; i < items.length; i += 25)
      await direct.send(
        new BatchWriteItemCommand({
          RequestItems: { [tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
        }),
      );
    const query = {
      TableName: tableName,
      KeyConditionExpression: "task_id = :t",
      ExpressionAttributeValues: { ":t": { S: "big" } },
    };
    const capacity = proxy().capacity!;

    const strong = await client.send(new QueryCommand({ ...query, ConsistentRead: true }));
    const pageBytes = (strong.Items as Item[]).reduce((sum, item) => sum + itemSize(item), 0);
    expect(pageBytes).toBeGreaterThan(1_000_000);
    expect(capacity.consumed().readUnits).toBe(Math.ceil(pageBytes / 4096));
    expect(capacity.consumed().readUnits).toBeGreaterThanOrEqual(245);
    expect(capacity.consumed().readUnits).toBeLessThanOrEqual(256);

    capacity.reset();
    const eventual = await client.send(new QueryCommand(query));
    expect(eventual.Count).toBe(strong.Count);
    expect(capacity.consumed().readUnits).toBe(Math.ceil(pageBytes / 4096) / 2);

    capacity.reset();
    const projected = await client.send(new QueryCommand({ ...query, ProjectionExpression: "img_id" }));
    expect(projected.Items?.[0]).toEqual({ img_id: { S: "img-000000" } });
    const counted = await client.send(new QueryCommand({ ...query, Select: "COUNT" }));
    expect(counted.Items).toBeUndefined();
    expect(counted.Count).toBe(strong.Count);
    expect(capacity.consumed().readUnits).toBe(Math.ceil(pageBytes / 4096)); // 2 × half
  });

  it("an index Query is eventually consistent and charged on the projected entries", async () => {
    for (let i = 1; i <= 10; i++)
      await direct.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            ...smallImage("ix", i),
            order_id: { N: String(i) },
            order_block: { S: "ix#0" },
            blob: { S: "x".repeat(4000) }, // not projected
          },
        }),
      );
    const out = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: INDEX,
        KeyConditionExpression: "order_block = :b",
        ExpressionAttributeValues: { ":b": { S: "ix#0" } },
      }),
    );
    expect(out.Count).toBe(10);
    expect(proxy().capacity!.consumed()).toMatchObject({
      readUnits: 0.5,
      table: { readUnits: 0 },
      indexes: { [INDEX]: { readUnits: 0.5 } },
    });
  });

  it("an UpdateItem and a transaction's Update are billed by the whole stored item, the larger of before and after", async () => {
    const capacity = proxy().capacity!;
    const key = { task_id: { S: "whole" }, img_id: { S: "#task" } };
    const item = { ...key, payload: { S: "x".repeat(3500) } }; // 3,530 bytes: 4 WCU whatever changes
    expect(itemSize(item)).toBe(3530);
    await direct.send(new PutItemCommand({ TableName: tableName, Item: item }));
    const update = (expression: string, values?: SdkItem) =>
      new UpdateItemCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: expression,
        ...(values ? { ExpressionAttributeValues: values } : {}),
      });
    const table = () => capacity.consumed().table.writeUnits;

    // A one-byte counter on a 3.5 KB item: the item's 4 units.
    await client.send(update("ADD n :one", { ":one": { N: "1" } }));
    expect(table()).toBe(4);
    // The same in a transaction: twice that.
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: tableName,
              Key: key,
              UpdateExpression: "ADD n :one",
              ExpressionAttributeValues: { ":one": { N: "1" } },
            },
          },
        ],
      }),
    );
    expect(table()).toBe(4 + 8);
    // Shrinking it is paid at its size before; growing it, at its size after.
    await client.send(update("REMOVE payload"));
    expect(table()).toBe(4 + 8 + 4);
    await client.send(update("SET payload = :b", { ":b": { S: "y".repeat(2500) } }));
    expect(table()).toBe(4 + 8 + 4 + 3);
    // A conditional update that fails still pays for the item as it stands.
    await client
      .send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: "ADD n :one",
          ConditionExpression: "attribute_not_exists(n)",
          ExpressionAttributeValues: { ":one": { N: "1" } },
        }),
      )
      .catch(() => undefined);
    expect(table()).toBe(4 + 8 + 4 + 3 + 3);
    expect(capacity.consumed().indexes).toEqual({});
  });

  it("write counters match what was sent: index writes per key change, projected change, transaction ×2", async () => {
    const capacity = proxy().capacity!;
    const key = { task_id: { S: "w" }, img_id: { S: "img-1" } };
    const item = { ...smallImage("w", 1), ...key, order_id: { N: "1" }, order_block: { S: "w#0" } };
    const update = (expression: string, values: SdkItem) =>
      client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: expression,
          ExpressionAttributeValues: values,
        }),
      );
    const writes = () => {
      const c = capacity.consumed();
      return [c.table.writeUnits, c.indexes[INDEX]?.writeUnits ?? 0];
    };

    await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
    expect(writes()).toEqual([1, 1]);
    await update("SET order_block = :b", { ":b": { S: "w#1" } });
    expect(writes()).toEqual([2, 3]);
    await update("SET #s = :s", { ":s": { N: "3" } }).catch(() => undefined); // invalid: no #s alias, costs nothing
    await update("SET #s = :s", { ":s": { N: "3" } }).catch(() => undefined);
    expect(writes()).toEqual([2, 3]);
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: "SET #s = :s",
        ExpressionAttributeNames: { "#s": "state" },
        ExpressionAttributeValues: { ":s": { N: "3" } },
      }),
    );
    expect(writes()).toEqual([3, 4]);
    await update("SET expires_at = :e", { ":e": { N: "99" } });
    expect(writes()).toEqual([4, 4]);
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: smallImage("w", 2) } },
          { Put: { TableName: tableName, Item: smallImage("w", 3) } },
        ],
      }),
    );
    expect(writes()).toEqual([8, 4]);
    expect(capacity.consumed().writeUnits).toBe(12);
  });

  it("a PutItem over the limit gets ProvisionedThroughputExceededException; a transaction, ThrottlingError on its hot action", async () => {
    const capacity = proxy().capacity!;
    const large = (i: number, kb: number) => ({ ...smallImage("limit", i), blob: { S: "x".repeat(kb * 1024) } });
    for (let i = 0; i < 3; i++) await client.send(new PutItemCommand({ TableName: tableName, Item: large(i, 300) }));
    expect(capacity.consumed().writeUnits).toBe(3 * 301);
    // 97 units left: 391 do not fit.
    expect(await errorName(client.send(new PutItemCommand({ TableName: tableName, Item: large(3, 390) })))).toBe(
      "ProvisionedThroughputExceededException",
    );
    expect(capacity.consumed()).toMatchObject({ writeUnits: 903, throttledCalls: 1 });

    const medium = large(9, 390); // 391 WCU, ×2 in a transaction
    let reasons: string[] = [];
    try {
      await client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: tableName, Item: smallImage("cold", 1) } },
            { Put: { TableName: tableName, Item: medium } },
          ],
        }),
      );
    } catch (error) {
      expect((error as Error).name).toBe("TransactionCanceledException");
      reasons = ((error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map(
        (r) => r.Code ?? "",
      );
    }
    expect(reasons).toEqual(["None", "ThrottlingError"]);
    expect(capacity.consumed()).toMatchObject({ writeUnits: 903, throttledCalls: 2 });
  });

  it("the policy decides first: a call it throttles is not charged", async () => {
    proxy().policy = (call) => (call.operation === "PutItem" && call.nth % 2 === 1 ? { kind: "throttle" } : undefined);
    const first = await errorName(client.send(new PutItemCommand({ TableName: tableName, Item: smallImage("p", 1) })));
    const second = await errorName(client.send(new PutItemCommand({ TableName: tableName, Item: smallImage("p", 2) })));
    expect([first, second].sort()).toEqual(["ProvisionedThroughputExceededException", "none"]);
    expect(proxy().capacity!.consumed()).toMatchObject({ writeUnits: 1, throttledCalls: 0 });
  });

  it("delays new or moved index entries by indexLagMs", async () => {
    proxy().indexLagMs = 300;
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { ...smallImage("lag", 1), order_id: { N: "1" }, order_block: { S: "lag#0" } },
      }),
    );
    const query = new QueryCommand({
      TableName: tableName,
      IndexName: INDEX,
      KeyConditionExpression: "order_block = :b",
      ExpressionAttributeValues: { ":b": { S: "lag#0" } },
      ProjectionExpression: "img_id",
    });
    expect((await client.send(query)).Count).toBe(0);
    clock.advance(299);
    expect((await client.send(query)).Count).toBe(0);
    clock.advance(1);
    const later = await client.send(query);
    expect(later.Items).toEqual([{ img_id: { S: "img-000001" } }]);
  });
});
