import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { TABLE } from "../../lib/store/table.ts";
import {
  appTableSchema,
  attributeValueSize,
  CapacityModel,
  type Item,
  itemSize,
  itemWriteCharges,
  numberSize,
  pageReadUnits,
  queryPartition,
  readUnitsFor,
  updateEstimate,
  writeUnitsFor,
} from "../support/capacity-model/index.ts";
import { type FaultProxy, startFaultProxy, useFaultProxy } from "../support/fault-proxy/index.ts";

const schema = appTableSchema();
const INDEX = TABLE.orderIndex.indexName;

/** An item of exactly `bytes` bytes: a one-letter attribute holding a string. */
const sized = (bytes: number): Item => ({ p: { S: "x".repeat(bytes - 1) } });

describe("item size (DynamoDB's sizing rules)", () => {
  it("strings count UTF-8 bytes of name and value", () => {
    expect(itemSize({ name: { S: "Alice" } })).toBe(9);
    expect(itemSize({ é: { S: "ü€" } })).toBe(2 + 2 + 3);
  });

  it("numbers count about one byte per two significant digits, plus one", () => {
    expect(numberSize("123")).toBe(3);
    expect(numberSize("12345.6700")).toBe(5); // 1234567: 7 significant digits
    expect(numberSize("0.0012")).toBe(2);
    expect(numberSize("-1E+10")).toBe(2);
    expect(numberSize("0")).toBe(1);
    expect(itemSize({ order_id: { N: "1234" } })).toBe(8 + 3);
  });

  it("binary counts raw bytes, booleans and null one byte", () => {
    expect(attributeValueSize({ B: Buffer.alloc(10).toString("base64") })).toBe(10);
    expect(attributeValueSize({ BOOL: true })).toBe(1);
    expect(attributeValueSize({ NULL: true })).toBe(1);
  });

  it("lists and maps cost 3 bytes plus one per element; sets the sum of their elements", () => {
    expect(attributeValueSize({ L: [{ S: "ab" }, { N: "1" }] })).toBe(3 + (1 + 2) + (1 + 2));
    expect(attributeValueSize({ M: { a: { S: "xy" } } })).toBe(3 + 1 + 1 + 2);
    expect(itemSize({ m: { M: {} } })).toBe(1 + 3); // "an empty List or Map is (name) + 3 bytes"
    expect(attributeValueSize({ SS: ["ab", "c"] })).toBe(3);
    expect(attributeValueSize({ NS: ["12", "1"] })).toBe(2 + 2);
  });

  it("units follow the guide's worked examples", () => {
    // Reads: "reading a 3,500-byte item consumes the same throughput as reading a 4 KB item".
    expect(readUnitsFor(itemSize(sized(3500)), true)).toBe(1);
    // "if your item size is 8 KB, you require 2 read units [strong], 1 eventually consistent".
    expect(readUnitsFor(8 * 1024, true)).toBe(2);
    expect(readUnitsFor(8 * 1024, false)).toBe(1);
    // GetItem "reading a 10 KB item rounds to 12 KB".
    expect(readUnitsFor(10 * 1024, true)).toBe(3);
    // BatchGetItem of 1.5 KB and 6.5 KB items is 12 KB (4 + 8), not 8 KB.
    expect(readUnitsFor(1.5 * 1024, true) + readUnitsFor(6.5 * 1024, true)).toBe(3);
    // Writes round up to 1 KB: 500 bytes = 1 WCU, 3.5 KB = 4 WCU.
    expect(writeUnitsFor(500)).toBe(1);
    expect(writeUnitsFor(3.5 * 1024)).toBe(4);
    // Eventual reads are half, 0.5 at the least.
    expect(readUnitsFor(100, false)).toBe(0.5);
  });
});

describe("write and read units", () => {
  const image = (extra: Item = {}): Item => ({
    task_id: { S: "t" },
    img_id: { S: "img1" },
    img_name: { S: "a.jpg" },
    state: { N: "0" },
    order_id: { N: "1" },
    order_block: { S: "t#0" },
    ...extra,
  });
  const units = (charges: { index?: string; units: number }[], index?: string) =>
    charges.filter((c) => c.index === index).reduce((sum, c) => sum + c.units, 0);

  it("a new item with the index key costs one table write and one index write in its index partition", () => {
    const charges = itemWriteCharges("T", schema, undefined, image());
    expect(charges).toEqual([
      { table: "T", partition: "t", units: 1 },
      { table: "T", index: INDEX, partition: "t#0", units: 1 },
    ]);
  });

  it("the table write is the larger of before and after, per started KB", () => {
    const before = image({ note: { S: "x".repeat(1500) } });
    expect(units(itemWriteCharges("T", schema, before, image()))).toBe(2);
    expect(units(itemWriteCharges("T", schema, undefined, undefined))).toBe(1); // deleting nothing
  });

  it("transactions cost twice in the table (index maintenance once)", () => {
    const charges = itemWriteCharges("T", schema, undefined, image(), { transactional: true });
    expect(units(charges)).toBe(2);
    expect(units(charges, INDEX)).toBe(1);
  });

  it("an index key that changes costs 2 index writes: delete in the old partition, put in the new", () => {
    const charges = itemWriteCharges("T", schema, image(), image({ order_block: { S: "t#1" } }));
    expect(charges.filter((c) => c.index)).toEqual([
      { table: "T", index: INDEX, partition: "t#0", units: 1 },
      { table: "T", index: INDEX, partition: "t#1", units: 1 },
    ]);
  });

  it("a projected attribute changed = 1 index write, a non-projected one = 0, the key removed = 1", () => {
    expect(units(itemWriteCharges("T", schema, image(), image({ state: { N: "2" } })), INDEX)).toBe(1);
    expect(units(itemWriteCharges("T", schema, image(), image({ expires_at: { N: "9" } })), INDEX)).toBe(0);
    const { order_block: _gone, ...unindexed } = image();
    expect(units(itemWriteCharges("T", schema, image(), unindexed), INDEX)).toBe(1);
    expect(units(itemWriteCharges("T", schema, unindexed, unindexed), INDEX)).toBe(0);
  });

  it("an index write is sized by the projected entry, not the whole item", () => {
    const big = image({ blob: { S: "x".repeat(5000) } }); // not projected
    const charges = itemWriteCharges("T", schema, undefined, big);
    expect(units(charges)).toBe(5);
    expect(units(charges, INDEX)).toBe(1);
  });

  it("an UpdateItem is estimated from its before-image and the attributes it names", () => {
    const rename = { UpdateExpression: "SET #n = :n", ExpressionAttributeNames: { "#n": "img_name" } };
    expect(units(updateEstimate("T", schema, image(), rename), INDEX)).toBe(1);
    expect(units(updateEstimate("T", schema, image(), { UpdateExpression: "SET expires_at = :e" }), INDEX)).toBe(0);
  });

  it("a Query is charged on the summed size of its page, rounded up once", () => {
    const page = Array.from({ length: 10 }, () => sized(1000));
    expect(pageReadUnits(page, true)).toBe(3); // 10,000 bytes, not 10 × 1 unit
    expect(pageReadUnits(page, false)).toBe(1.5);
    expect(pageReadUnits([], true)).toBe(1);
  });

  it("finds the partition a key condition fixes", () => {
    const query = {
      KeyConditionExpression: "#b = :b AND order_id BETWEEN :lo AND :hi",
      ExpressionAttributeNames: { "#b": "order_block" },
      ExpressionAttributeValues: { ":b": { S: "t#3" }, ":lo": { N: "1" }, ":hi": { N: "9" } },
    };
    expect(queryPartition(query, "order_block")).toBe("t#3");
    expect(queryPartition({ ...query, KeyConditionExpression: ":b = #b" }, "order_block")).toBe("t#3");
  });
});

describe("token buckets (injected clock)", () => {
  const clock = () => {
    let t = 0;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };
  const at = { table: "T", partition: "p" };

  it("start full with one second of capacity, refill continuously, and hold no more than a second", () => {
    const time = clock();
    const model = new CapacityModel({ now: time.now });
    expect(model.takeWrites([{ ...at, units: 1000 }])).toEqual([]);
    expect(model.takeWrites([{ ...at, units: 1 }])).toHaveLength(1);
    time.advance(1);
    expect(model.takeWrites([{ ...at, units: 1 }])).toEqual([]);
    expect(model.takeWrites([{ ...at, units: 1 }])).toHaveLength(1);
    time.advance(10_000);
    expect(model.tokens("write", at)).toBe(1000);
    expect(model.consumed().writeUnits).toBe(1001);
  });

  it("keeps one bucket per partition key value, table and index apart", () => {
    const model = new CapacityModel({ now: () => 0 });
    expect(model.takeWrites([{ ...at, units: 1000 }])).toEqual([]);
    expect(model.takeWrites([{ table: "T", partition: "q", units: 1000 }])).toEqual([]);
    expect(model.takeWrites([{ ...at, index: INDEX, units: 1000 }])).toEqual([]);
    expect(model.consumed()).toMatchObject({
      writeUnits: 3000,
      table: { writeUnits: 2000 },
      indexes: { [INDEX]: { writeUnits: 1000 } },
    });
  });

  it("takes a call's writes all or nothing, summed per bucket", () => {
    const model = new CapacityModel({ now: () => 0, writeUnitsPerSecond: 10 });
    model.takeWrites([{ ...at, units: 4 }]);
    const short = model.takeWrites([
      { table: "T", partition: "other", units: 1 },
      { ...at, units: 4 },
      { ...at, units: 4 },
    ]);
    expect(short.map((c) => c.partition)).toEqual(["p", "p"]);
    expect(model.tokens("write", { table: "T", partition: "other" })).toBe(10);
    expect(model.tokens("write", at)).toBe(6);
  });

  it("admits a cost above a bucket's capacity only when it is full, leaving it in debt", () => {
    const time = clock();
    const model = new CapacityModel({ now: time.now, writeUnitsPerSecond: 10 });
    expect(model.takeWrites([{ ...at, units: 15 }])).toEqual([]);
    expect(model.tokens("write", at)).toBe(-5);
    time.advance(1000);
    expect(model.takeWrites([{ ...at, units: 6 }])).toHaveLength(1);
  });

  it("admits reads while the bucket is above zero, reserving the most a page costs, then settles", () => {
    const model = new CapacityModel({ now: () => 0 });
    const admitted = Array.from({ length: 20 }, () => model.admitRead(at, 256)).filter(Boolean).length;
    expect(admitted).toBe(12); // 3000 / 256 = 11.7: the 12th finds 184 left
    for (let i = 0; i < admitted; i++) model.settleRead(at, 256, 1);
    expect(model.tokens("read", at)).toBe(3000 - 12);
    expect(model.consumed().readUnits).toBe(12);
  });

  it("settles an estimated write to its actual cost, into debt when it cost more", () => {
    const model = new CapacityModel({ now: () => 0, writeUnitsPerSecond: 10 });
    const estimate = [{ ...at, units: 8 }];
    model.takeWrites(estimate);
    model.settleWrites(estimate, [{ ...at, units: 12 }]);
    expect(model.tokens("write", at)).toBe(-2);
    expect(model.consumed().writeUnits).toBe(12);
    model.reset();
    expect(model.tokens("write", at)).toBe(10);
    expect(model.consumed().writeUnits).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Through the proxy, against DynamoDB Local

const endpoint = () => inject("dynamoEndpoint");
const clientAt = (url: string) =>
  new DynamoDBClient({
    endpoint: url,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
const tableName = `capacity-${Math.random().toString(36).slice(2, 8)}`;
const direct = clientAt(endpoint());

beforeAll(async () => {
  await direct.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "task_id", AttributeType: "S" },
        { AttributeName: "img_id", AttributeType: "S" },
        { AttributeName: "order_block", AttributeType: "S" },
        { AttributeName: "order_id", AttributeType: "N" },
      ],
      KeySchema: [
        { AttributeName: "task_id", KeyType: "HASH" },
        { AttributeName: "img_id", KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: INDEX,
          KeySchema: [
            { AttributeName: "order_block", KeyType: "HASH" },
            { AttributeName: "order_id", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: [...TABLE.projectedAttributes] },
        },
      ],
    }),
  );
});

/** An item as the SDK types it. */
type SdkItem = Record<string, AttributeValue>;

/** ~100 bytes: 1 WCU. */
const smallImage = (task: string, i: number): SdkItem => ({
  task_id: { S: task },
  img_id: { S: `img-${String(i).padStart(6, "0")}` },
  img_name: { S: `img_${String(i).padStart(6, "0")}.jpg` },
  state: { N: "0" },
  pad: { S: "x".repeat(40) },
});

const errorName = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return "none";
  } catch (error) {
    return (error as Error).name;
  }
};

/**
 * The proxy's clock (its capacity model's and its index lag's) stands still unless a test moves it:
 * a bucket refills only when the test says a second has passed, however slow the machine.
 */
const testClock = () => {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

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

/** Sends each batch once, `parallel` at a time; returns the batches (or their unprocessed rest) still to write. */
async function writeRound(client: DynamoDBClient, batches: WriteRequest[][], parallel: number) {
  const queue = [...batches];
  const left: WriteRequest[][] = [];
  let admitted = 0;
  let unprocessedAnswers = 0;
  let throttledAnswers = 0;
  const worker = async () => {
    for (let batch = queue.pop(); batch; batch = queue.pop()) {
      try {
        const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: batch } }));
        const rest = out.UnprocessedItems?.[tableName] ?? [];
        admitted += batch.length - rest.length;
        if (rest.length > 0) {
          unprocessedAnswers++;
          left.push(rest);
        }
      } catch (error) {
        if ((error as Error).name !== "ProvisionedThroughputExceededException") throw error;
        throttledAnswers++;
        left.push(batch);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { left, admitted, refusals: unprocessedAnswers + throttledAnswers };
}

describe("through the proxy on a clock the test moves (the model's time, not the machine's)", () => {
  const clock = testClock();
  let proxy: FaultProxy;
  let client: DynamoDBClient;
  beforeAll(async () => {
    proxy = await startFaultProxy(endpoint(), { capacity: true, now: clock.now });
    client = clientAt(proxy.endpoint);
  });
  afterAll(() => proxy.close());

  const batchesOf = (items: SdkItem[]) =>
    Array.from({ length: Math.ceil(items.length / 25) }, (_, b) =>
      items.slice(b * 25, b * 25 + 25).map((Item) => ({ PutRequest: { Item } }) as WriteRequest),
    );

  it("3,000 ~100-byte items into one partition key go through at 1,000 WCU a second; spread over 30 keys, all at once", async () => {
    const hot = Array.from({ length: 3000 }, (_, i) => smallImage("hot-clock", i));
    expect(itemSize(hot[0])).toBeLessThan(1024);

    // Every pending batch is sent once a round, however fast or slow this machine is; between
    // rounds the model's clock moves one second. Only the bucket decides what gets in.
    const admittedPerRound: number[] = [];
    let refusals = 0;
    let pending = batchesOf(hot);
    while (pending.length > 0 && admittedPerRound.length < 10) {
      if (admittedPerRound.length > 0) clock.advance(1000);
      const round = await writeRound(client, pending, 16);
      admittedPerRound.push(round.admitted);
      refusals += round.refusals;
      pending = round.left;
    }
    // A full bucket holds one second (1,000 WCU), then 1,000 a second: 3,000 take two seconds of model time.
    expect(admittedPerRound).toEqual([1000, 1000, 1000]);
    expect(refusals).toBeGreaterThan(0);
    const consumed = proxy.capacity!.consumed();
    expect(consumed.writeUnits).toBe(3000);
    expect(consumed.table.writeUnits).toBe(3000);
    expect(consumed.indexes).toEqual({});
    expect(consumed.unprocessedItems).toBe(2000 + 1000); // refused in round 1, then in round 2

    // The same load over 30 partition keys (100 each) at one instant: every key's bucket has room.
    proxy.capacity!.reset();
    const spread = Array.from({ length: 3000 }, (_, i) => smallImage(`spread-clock-${i % 30}`, i));
    const once = await writeRound(client, batchesOf(spread), 16);
    expect(once).toEqual({ left: [], admitted: 3000, refusals: 0 });
    expect(proxy.capacity!.consumed()).toMatchObject({ writeUnits: 3000, unprocessedItems: 0, throttledCalls: 0 });
  });
});

describe("through the proxy at low rates (10 units/s)", () => {
  let proxy: FaultProxy;
  let client: DynamoDBClient;
  beforeAll(async () => {
    proxy = await startFaultProxy(endpoint(), {
      capacity: { readUnitsPerSecond: 10, writeUnitsPerSecond: 10 },
      now: testClock().now,
    });
    client = clientAt(proxy.endpoint);
  });
  afterAll(() => proxy.close());

  it("BatchGetItem admits keys while the bucket is above zero and returns the rest as UnprocessedKeys", async () => {
    const items = Array.from(
      { length: 20 },
      (_, i): SdkItem => ({ ...smallImage("bg", i), blob: { S: "x".repeat(5000) } }),
    );
    for (let i = 0; i < items.length; i += 10)
      await direct.send(
        new BatchWriteItemCommand({
          RequestItems: { [tableName]: items.slice(i, i + 10).map((Item) => ({ PutRequest: { Item } })) },
        }),
      );
    const keys = items.map((item) => ({ task_id: item.task_id!, img_id: item.img_id! }));
    const out = await client.send(
      new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } } }),
    );
    // 10 keys reserve the 10 units (one 4 KB item each); the 11th finds the bucket at zero. Each then
    // costs 2 units (5 KB, strongly consistent), leaving the bucket in debt.
    const read = out.Responses?.[tableName]?.length ?? 0;
    expect(read).toBe(10);
    expect(out.UnprocessedKeys?.[tableName]?.Keys).toHaveLength(20 - read);
    expect(proxy.capacity!.consumed()).toMatchObject({ readUnits: 2 * read, unprocessedKeys: 20 - read });
    // The bucket is empty: nothing at all is admitted, and DynamoDB then throws.
    expect(
      await errorName(
        client.send(new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: keys.slice(0, 2) } } })),
      ),
    ).toBe("ProvisionedThroughputExceededException");
  });

  it("a throttled index partition throttles the table write", async () => {
    const capacity = proxy.capacity!;
    const indexed = (i: number, blockSize: number) => ({
      ...smallImage(`ixw-${i}`, i), // a table partition of its own each time
      order_id: { N: String(i) },
      order_block: { S: "ixw#0" },
      img_name: { S: "n".repeat(blockSize) },
    });
    await client.send(new PutItemCommand({ TableName: tableName, Item: indexed(1, 8 * 1024) })); // 9 units in the index
    expect(await errorName(client.send(new PutItemCommand({ TableName: tableName, Item: indexed(2, 2 * 1024) })))).toBe(
      "ProvisionedThroughputExceededException",
    );
    expect(capacity.consumed().indexes[INDEX]?.writeUnits).toBe(9);
  });
});
