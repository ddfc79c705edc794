import { beforeAll, describe, expect, it } from "vitest";
import type { StoreConfig } from "../../lib/config.ts";
import { createStore, type Store } from "../../lib/store/index.ts";
import { TABLE } from "../../lib/store/table.ts";
import {
  type Fault,
  imageWrites,
  isPublish,
  type LoggedCall,
  seededRandom,
  useFaultProxy,
} from "../support/fault-proxy/index.ts";
import {
  counts,
  expectCompleteSplit,
  freshStore,
  registerImages,
  registrationOrder,
  seedImages,
  split,
} from "../support/store.ts";

/**
 * Guarantees 6 and 7 under DynamoDB's per-partition limits (test/support/capacity-model/: 1,000
 * WCU/s and 3,000 RCU/s per partition key value, applied by the fault proxy; DynamoDB Local alone
 * never throttles). Every task's items share one partition key, so a split that wrote an item per
 * image would be throttled to ~1,000 images/s here; a split that writes a snapshot is not.
 */
const proxy = useFaultProxy({ capacity: true });

/** The calls on `tableName` since log position `start`. */
const callsOn = (tableName: string, start: number): LoggedCall[] =>
  proxy()
    .log.slice(start)
    .filter((call) => call.input.TableName === tableName || call.input.RequestItems?.[tableName] !== undefined);

describe("a big task through the capacity model (guarantee 7)", () => {
  const taskId = "twenty-thousand";
  const IMAGES = 20_000;
  let truth: Store;
  let config: StoreConfig;
  let modelled: Store;
  beforeAll(async () => {
    // Seeded straight into DynamoDB Local: registration is not what these tests measure
    ({ store: truth, config } = await freshStore());
    await seedImages(config, taskId, IMAGES);
    modelled = createStore({ ...config, endpoint: proxy().endpoint });
  });

  it("a split of 20,000 images answers, writes a few packed items (≤ 20 WCU), and no image item", async () => {
    // Arrange
    const start = proxy().log.length;

    // Act
    const started = Date.now();
    const result = await split(modelled, { taskId, counts: counts(12_000, 4_000, 4_000), seed: "big" });
    const took = Date.now() - started;

    // Assert: run item (1 WCU), two 4 KiB chunks (5 WCU each), the task item: a few units, not 20,000
    const consumed = proxy().capacity!.consumed();
    expect(consumed.writeUnits).toBeGreaterThan(0);
    expect(consumed.writeUnits).toBeLessThanOrEqual(20);
    expect(consumed.indexes[TABLE.orderIndex.indexName]?.writeUnits ?? 0).toBe(0);
    // Reading every image item once, strongly consistent: ~20,000 × ~100 B / 4 KB ≈ 500 RCU; the
    // parallel ranges are bounded on the server, so none reads (and pays for) its neighbours' items.
    expect(consumed.table.readUnits).toBeLessThan(800);
    const calls = callsOn(config.tableName, start);
    expect(calls.flatMap((call) => imageWrites(call).imgIds)).toEqual([]);
    expect(calls.filter(isPublish)).toHaveLength(1);
    // A split writing an item per image would need ≥ 20 s here (20,000 WCU at 1,000/s); reads may be throttled and retried
    expect(took).toBeLessThan(10_000);
    await expectCompleteSplit(truth, result, registrationOrder(taskId));
  });

  it("a GET page of 5,000 from the 70% set fits in one second of one partition's read units, unthrottled, whole and in order_id order", async () => {
    // Arrange
    const result = await split(truth, { taskId, counts: counts(14_000, 3_000, 3_000), seed: "seventy" });
    await modelled.listSet({ taskId, setType: 0, limit: 10, cursor: undefined }); // a warm function
    proxy().capacity!.reset();

    // Act
    const page = await modelled.listSet({ taskId, setType: 0, limit: 5_000, cursor: undefined });

    // Assert: modelled time, not the machine's: the units it read take under a second of the
    // 3,000 RCU/s of the one index partition it reads (the bench measures the wall time)
    const consumed = proxy().capacity!.consumed();
    expect(consumed.readUnits).toBeLessThan(3_000);
    expect(page.images).toHaveLength(5_000);
    expect(page.nextCursor).toBeDefined();
    const orders = page.images.map((image) => image.order_id);
    expect(orders).toEqual([...orders].sort((a, b) => a - b));
    const drawn = new Set(result.drawn[0]);
    for (const image of page.images) expect(drawn.has(image.img_id)).toBe(true);
    // The set's first 5,000 members by order_id: none skipped
    const firstIds = new Set(page.images.map((image) => image.img_id));
    const expected = [...drawn].map((id) => registrationOrder(taskId)(id) as number).sort((a, b) => a - b);
    expect(orders).toEqual(expected.slice(0, 5_000));
    expect(firstIds.size).toBe(5_000);
    expect(proxy().capacity!.consumed().throttledCalls).toBe(0);
  });
});

describe("registration and splits through the model with 30% throttling on top (guarantee 6)", () => {
  it("a 2,000-image registration and three splits complete exactly", async () => {
    // Arrange: the model's own limits, plus a policy that throttles 30% of calls before they reach it
    const { store: truth, config } = await freshStore();
    const modelled = createStore({ ...config, endpoint: proxy().endpoint });
    const taskId = "throttled";
    const random = seededRandom(0xcafe);
    proxy().policy = (call): Fault | undefined => {
      const r = random();
      if (r >= 0.3) return undefined;
      if (call.operation === "TransactWriteItems") return { kind: "cancel", reason: "ThrottlingError" };
      if (call.operation === "BatchWriteItem" || call.operation === "BatchGetItem")
        return { kind: "unprocessed", keep: Math.floor(random() * 10) };
      return { kind: "throttle", error: r < 0.15 ? "ProvisionedThroughputExceededException" : "ThrottlingException" };
    };
    const start = proxy().log.length;

    // Act + Assert
    await registerImages(modelled, taskId, 2_000);
    expect((await truth.readTask(taskId))?.imageCount).toBe(2_000);
    for (let i = 0; i < 3; i++) {
      const result = await split(modelled, { taskId, counts: counts(1_000 + i * 200, 400, 200), seed: `t${i}` });
      expect(result.version).toBe(i + 1);
      await expectCompleteSplit(truth, result, registrationOrder(taskId));
    }
    const calls = callsOn(config.tableName, start);
    expect(calls.filter((call) => call.fault !== "pass").length / calls.length).toBeGreaterThan(0.15);
  });
});
