import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { itemSize } from "../support/capacity-model/index.ts";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy/index.ts";
import {
  clientAt,
  direct,
  endpoint,
  errorName,
  INDEX,
  type SdkItem,
  smallImage,
  tableName,
  testClock,
  useModelTable,
} from "./model-table.ts";

useModelTable();

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
