import type { IncomingMessage } from "node:http";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { appTableSchema, CapacityModel, type Item, keyOf } from "../support/capacity-model/index.ts";
import type { Upstream } from "../support/fault-proxy/upstream.ts";
import { admitWrites, readBeforeImages, refusalBeforeReading, writeTargets } from "../support/fault-proxy/writes.ts";

/**
 * The proxy refuses a write whose partition lacks even the least it can cost before reading its
 * items from DynamoDB Local (test/support/fault-proxy/writes.ts, refusalBeforeReading), so a
 * throttled call answers at once. That is only sound if every such refusal is one the full
 * estimate, made from the items as they stand, would also give.
 */
const schema = appTableSchema();
const request = {} as IncomingMessage;

/** DynamoDB Local as the proxy sees it: a known table holding `stored`. */
const upstreamHolding = (stored: Map<string, Item>): Upstream =>
  ({
    schemaOf: async () => schema,
    readItems: async (_request: unknown, _table: string, _schema: unknown, keys: Item[]) =>
      new Map(
        keys.flatMap((key) => (stored.has(key.img_id!.S!) ? [[keyOf(schema, key), stored.get(key.img_id!.S!)!]] : [])),
      ),
  }) as unknown as Upstream;

const image = (imgId: string, padBytes: number): Item => ({
  task_id: { S: "t" },
  img_id: { S: imgId },
  pad: { S: "x".repeat(padBytes) },
});

const transaction = (puts: Item[], updates: string[]) => ({
  TransactItems: [
    ...puts.map((Item) => ({ Put: { TableName: "app", Item } })),
    ...updates.map((imgId) => ({
      Update: {
        TableName: "app",
        Key: { task_id: { S: "t" }, img_id: { S: imgId } },
        UpdateExpression: "SET n = :n",
        ExpressionAttributeValues: { ":n": { N: "1" } },
      },
    })),
  ],
});

describe("a write refused before its items are read", () => {
  it("is refused by the full estimate too, with the same actions throttled", async () => {
    let refusedEarly = 0;
    let admittedLater = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1000 }),
        fc.array(fc.integer({ min: 10, max: 60_000 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 10, max: 60_000 }), { maxLength: 3 }),
        fc.array(fc.option(fc.integer({ min: 10, max: 60_000 })), { minLength: 8, maxLength: 8 }),
        async (spent, putSizes, updateSizes, storedSizes) => {
          const model = new CapacityModel({ now: () => 0 });
          model.takeWrites([{ table: "app", partition: "t", units: spent }]);
          const stored = new Map<string, Item>();
          for (const [i, size] of storedSizes.entries()) if (size !== null) stored.set(`i${i}`, image(`i${i}`, size));
          const puts = putSizes.map((size, i) => image(`i${i}`, size));
          const updates = updateSizes.map((_, i) => `i${7 - i}`);
          const body = transaction(puts, updates);
          const upstream = upstreamHolding(stored);

          const targets = (await writeTargets(upstream, request, "TransactWriteItems", body))!;
          const early = refusalBeforeReading(model, "TransactWriteItems", targets);
          await readBeforeImages(upstream, request, targets);
          const full = admitWrites(model, "TransactWriteItems", targets, body, undefined);

          if (early) {
            refusedEarly++;
            expect(full.refusal).toEqual(early);
          } else if (!full.refusal) admittedLater++;
        },
      ),
      { numRuns: 300 },
    );
    // Both outcomes were reached often enough for the property to mean something.
    expect(refusedEarly).toBeGreaterThan(30);
    expect(admittedLater).toBeGreaterThan(30);
  });

  it.each([
    ["holds exactly what the call costs", 996, false],
    ["holds one unit less", 997, true],
    ["is full, whatever the call costs", 0, false],
  ])("is decided at the bucket's edge: a partition that %s", async (_name, spent, refused) => {
    const model = new CapacityModel({ now: () => 0 });
    model.takeWrites([{ table: "app", partition: "t", units: spent }]);
    const upstream = upstreamHolding(new Map());
    // Two new items of 1 WCU each in a transaction: 4 units; or one of 391 WCU into a full bucket.
    const body =
      spent === 0 ? transaction([image("big", 400_000)], []) : transaction([image("a", 10), image("b", 10)], []);
    const targets = (await writeTargets(upstream, request, "TransactWriteItems", body))!;

    const early = refusalBeforeReading(model, "TransactWriteItems", targets);
    await readBeforeImages(upstream, request, targets);
    const full = admitWrites(model, "TransactWriteItems", targets, body, undefined);

    expect(early !== undefined).toBe(refused);
    expect(full.refusal).toEqual(early);
  });
});
