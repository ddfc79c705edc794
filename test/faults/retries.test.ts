import { describe, expect, it } from "vitest";
import { ServiceError } from "../../lib/errors.ts";
import { SET_TYPES } from "../../lib/model.ts";
import { createStore, type Store } from "../../lib/store/index.ts";
import { TASK_ITEM_SK } from "../../lib/store/table.ts";
import type { Json } from "../support/capacity-model/index.ts";
import {
  type Call,
  type Fault,
  isWrite,
  type LoggedCall,
  seededRandom,
  useFaultProxy,
} from "../support/fault-proxy/index.ts";
import {
  codeOf,
  counts,
  expectCompleteSplit,
  freshStore,
  imageId,
  readWholeSet,
  registerImages,
  registrationOrder,
  split,
} from "../support/store.ts";

/**
 * Guarantee 6 and registration under storage faults a live process must ride out: throttling
 * (retried against a deadline, never a count of attempts), failed and dropped calls, answers lost
 * on the wire after DynamoDB did the work, a lagging order index. A store as createStore builds it
 * talks to DynamoDB Local through the fault proxy (`faulty`); a second store on the same table,
 * reached directly, is the ground truth (`truth`).
 */
const proxy = useFaultProxy();

/** A fresh table reached through the proxy (`faulty`) and directly (`truth`). */
async function stores(overrides: Parameters<typeof freshStore>[0] = {}) {
  const { store: truth, config } = await freshStore(overrides);
  const faulty: Store = createStore({ ...config, endpoint: proxy().endpoint });
  return { truth, faulty, tableName: config.tableName };
}

/** The calls on `tableName` since log position `start`. */
const callsOn = (tableName: string, start = 0): LoggedCall[] =>
  proxy()
    .log.slice(start)
    .filter(
      (call) =>
        call.input.TableName === tableName ||
        call.input.RequestItems?.[tableName] !== undefined ||
        call.input.TransactItems?.some((item: Record<string, { TableName?: string }>) =>
          Object.values(item).some((action) => action.TableName === tableName),
        ),
    );

/** The registration's allocation of order_ids: an UpdateItem of the task item that ADDs to next_order. */
const isAllocation = (call: Pick<Call, "operation" | "input">) =>
  call.operation === "UpdateItem" &&
  call.input.Key?.img_id?.S === TASK_ITEM_SK &&
  /\bADD\s+next_order\b/.test(String(call.input.UpdateExpression));

const throttle: Fault = { kind: "throttle", error: "ProvisionedThroughputExceededException" };

describe("throttling is retried within a time budget, not a count of attempts (guarantee 6)", () => {
  it("the split's first call throttled 12 times in a row, then let through: the split succeeds, far past any fixed count of attempts", async () => {
    // Arrange: counted in throttles, not in time, so a slow machine cannot make fewer attempts cover it
    const { truth, faulty, tableName } = await stores();
    const taskId = "sustained";
    await registerImages(truth, taskId, 200);
    const start = proxy().log.length;
    let throttles = 12;
    proxy().policy = () => (throttles-- > 0 ? throttle : undefined);

    // Act
    const result = await split(faulty, { taskId, counts: counts(100, 50, 50), seed: "sustained" });

    // Assert: one call (the first, alone in flight) sent 13 times, the last let through
    const throttled = callsOn(tableName, start).filter((call) => call.fault === "throttle");
    expect(throttled).toHaveLength(12);
    expect(new Set(throttled.map((call) => JSON.stringify([call.operation, call.input]))).size).toBe(1);
    expect(result.version).toBe(1);
    await expectCompleteSplit(truth, result, registrationOrder(taskId));
  });

  it("throttling that outlasts the deadline: 1500/503 with retryAfter 1, within the deadline, the live split intact", async () => {
    // Arrange
    const { truth, faulty } = await stores();
    const taskId = "exhausted";
    await registerImages(truth, taskId, 100);
    const previous = await split(truth, { taskId, counts: counts(50, 25, 25), seed: "previous" });
    proxy().policy = () => throttle;

    // Act
    const started = Date.now();
    const failure = await split(faulty, { taskId, counts: counts(40, 40, 20), seed: "late" }, started + 1_500).catch(
      (error: unknown) => error,
    );
    const took = Date.now() - started;

    // Assert: exhaustion surfaces as 1500/503, in time for the caller's deadline
    expect(failure).toBeInstanceOf(ServiceError);
    expect(failure).toMatchObject({ code: 1500, status: 503, retryAfter: 1 });
    // within the answer margin a handler keeps after its storage deadline (ANSWER_MARGIN_MS, 1.5 s)
    expect(took).toBeLessThanOrEqual(1_500 + 1_500);
    expect(proxy().log.filter((call) => call.fault === "throttle").length).toBeGreaterThan(1);
    // Nothing changed, nothing is blocked
    proxy().policy = undefined;
    await expectCompleteSplit(truth, previous, registrationOrder(taskId));
    const next = await split(truth, { taskId, counts: counts(40, 40, 20), seed: "next" });
    expect(next.version).toBe(previous.version + 1);
  });

  it("with 30% of all calls throttled or part-processed, registrations of 3,000 images and 5 splits complete exactly", async () => {
    // Arrange: 30% of calls meet a fault, the first of each operation always (so each kind meets one);
    // a transaction is cancelled for throttling or a conflict
    const { truth, faulty, tableName } = await stores();
    const taskId = "noisy";
    const random = seededRandom(0x5eed);
    const met = new Set<string>();
    proxy().policy = (call) => {
      const r = met.has(call.operation) ? random() : 0.1;
      met.add(call.operation);
      if (r >= 0.3) return undefined;
      if (call.operation === "TransactWriteItems")
        return { kind: "cancel", reason: r < 0.15 ? "TransactionConflict" : "ThrottlingError" };
      if (call.operation === "BatchWriteItem" || call.operation === "BatchGetItem")
        return r < 0.15
          ? { kind: "unprocessed", keep: Math.floor(random() * (call.operation === "BatchWriteItem" ? 25 : 100)) }
          : throttle;
      return { kind: "throttle", error: r < 0.15 ? "ProvisionedThroughputExceededException" : "ThrottlingException" };
    };
    const start = proxy().log.length;

    // Act + Assert: registration, the same registration again (every image known), five splits
    await registerImages(faulty, taskId, 3_000);
    const again = await faulty.registerImages({
      taskId,
      images: [{ imgId: imageId(taskId, 1), imgName: "img_1.jpg", state: 0 }],
    });
    expect(again).toMatchObject({ added: 0, updated: 0, unchanged: 1, total: 3_000 });
    expect((await truth.readTask(taskId))?.imageCount).toBe(3_000);
    for (let i = 0; i < 5; i++) {
      const result = await split(faulty, { taskId, counts: counts(1_500 + i * 100, 600, 300), seed: `noisy-${i}` });
      expect(result.version).toBe(i + 1);
      await expectCompleteSplit(truth, result, registrationOrder(taskId));
    }

    // The faults really happened, on every kind of call the store made
    const calls = callsOn(tableName, start);
    const faulted = calls.filter((call) => call.fault !== "pass");
    expect(faulted.length / calls.length).toBeGreaterThan(0.2);
    expect(new Set(faulted.map((call) => call.operation))).toEqual(new Set(calls.map((call) => call.operation)));
    expect(faulted.filter((call) => call.fault === "unprocessed").length).toBeGreaterThan(0);
    expect(faulted.filter((call) => call.fault === "cancel").length).toBeGreaterThan(0);
  });
});

describe("failed and dropped calls are retried without changing the outcome", () => {
  it("a 500 on any one write of a split (run item, chunks, publish) is retried and the split completes", async () => {
    const { truth, faulty } = await stores();
    const taskId = "nth-write";
    await registerImages(truth, taskId, 100);
    // How many writes a clean split makes: run item, chunk batch, publish
    await split(truth, { taskId, counts: counts(70, 20, 10), seed: "first" });
    let writes = 0;
    proxy().policy = (call) => {
      if (isWrite(call.operation)) writes++;
      return undefined;
    };
    await split(faulty, { taskId, counts: counts(70, 20, 10), seed: "count" });
    const total = writes;

    for (let n = 1; n <= total; n++) {
      writes = 0;
      proxy().policy = (call) =>
        isWrite(call.operation) && ++writes === n
          ? { kind: "error", status: 500, type: "InternalServerError" }
          : undefined;
      const start = proxy().log.length;

      const result = await split(faulty, { taskId, counts: counts(70, 20, 10), seed: `nth-${n}` });

      await expectCompleteSplit(truth, result, registrationOrder(taskId));
      expect(
        proxy()
          .log.slice(start)
          .filter((call) => call.fault === "error"),
      ).toHaveLength(1);
    }
    expect(total).toBeGreaterThanOrEqual(3);
  });

  it("connections dropped before DynamoDB on 30% of the calls are retried and every split completes", async () => {
    const { truth, faulty } = await stores();
    const taskId = "dropped";
    await registerImages(truth, taskId, 300);
    const random = seededRandom(0xd40b);
    proxy().policy = () => (random() < 0.3 ? { kind: "drop" } : undefined);
    const start = proxy().log.length;

    for (const seed of ["d1", "d2", "d3"]) {
      const result = await split(faulty, { taskId, counts: counts(150, 100, 50), seed });
      await expectCompleteSplit(truth, result, registrationOrder(taskId));
    }
    expect(
      proxy()
        .log.slice(start)
        .filter((call) => call.fault === "drop").length,
    ).toBeGreaterThan(3);
  });
});

describe("registration answers lost on the wire (docs/design.md, Registration)", () => {
  it("the allocation's answer lost: a hole in the order_ids, the images still numbered distinct and ascending, and the next split ignores the hole", async () => {
    // Arrange: DynamoDB applies the first allocation (order_ids 1..250), its answer never arrives, the retry allocates 251..500
    const { truth, faulty, tableName } = await stores();
    const taskId = "lost-allocation";
    let dropped = 0;
    proxy().policy = (call) => (isAllocation(call) && dropped++ === 0 ? { kind: "dropAnswer" } : undefined);
    const images = Array.from({ length: 250 }, (_, i) => ({
      imgId: imageId(taskId, i + 1),
      imgName: `img_${i + 1}.jpg`,
    }));

    // Act
    const registered = await faulty.registerImages({ taskId, images });
    const result = await split(truth, { taskId, counts: counts(150, 60, 40), seed: "after-hole" });

    // Assert: the allocation went out twice, one range became a hole, nothing was counted twice
    expect(callsOn(tableName).filter(isAllocation)).toHaveLength(2);
    expect(registered).toMatchObject({ added: 250, updated: 0, total: 250 });
    expect((await truth.readTask(taskId))?.imageCount).toBe(250);
    // Every image assigned (the hole is not an image), in distinct ascending order_ids in request order
    expect(result.unassignedCount).toBe(0);
    const listed = (await Promise.all(SET_TYPES.map((setType) => readWholeSet(truth, taskId, setType)))).flat();
    const orderOf = new Map(listed.map((image) => [image.img_id, image.order_id]));
    const orders = images.map((image) => orderOf.get(image.imgId) as number);
    expect(orders).toEqual(Array.from({ length: 250 }, (_, i) => 251 + i));
    await expectCompleteSplit(truth, result, (imgId) => orderOf.get(imgId));
  });

  it("a transaction's answer lost: retried with the same ClientRequestToken, every image created once, image_count exact", async () => {
    // Arrange: the first creation transaction (98 images) is applied, its answer dropped
    const { truth, faulty, tableName } = await stores();
    const taskId = "lost-transaction";
    let dropped = 0;
    proxy().policy = (call) =>
      call.operation === "TransactWriteItems" && dropped++ === 0 ? { kind: "dropAnswer" } : undefined;

    // Act
    const images = Array.from({ length: 150 }, (_, i) => ({
      imgId: imageId(taskId, i + 1),
      imgName: `img_${i + 1}.jpg`,
    }));
    const registered = await faulty.registerImages({ taskId, images });

    // Assert: the lost transaction was sent again with the same token (DynamoDB answers it as done)
    const creations = callsOn(tableName).filter(
      (call) =>
        call.operation === "TransactWriteItems" &&
        ((call.input.TransactItems ?? []) as Json[]).some(
          (item) => !String(item.Put?.Item?.img_id?.S ?? "#").startsWith("#"),
        ),
    );
    const token = (call: (typeof creations)[number]) => call.input.ClientRequestToken;
    const lost = creations.find((call) => call.fault === "dropAnswer");
    expect(creations).toHaveLength(3);
    expect(creations.filter((call) => token(call) === token(lost!)).map((call) => call.fault)).toEqual([
      "dropAnswer",
      "pass",
    ]);
    expect(new Set(creations.map(token)).size).toBe(2);
    // Counted once, numbered once: 1..150 in request order
    expect(registered).toMatchObject({ added: 150, updated: 0, total: 150 });
    expect((await truth.readTask(taskId))?.imageCount).toBe(150);
    const result = await split(truth, { taskId, counts: counts(150, 0, 0), seed: "once" });
    await expectCompleteSplit(truth, result, registrationOrder(taskId));
  });
});

describe("a lagging order index (DynamoDB Local's never lags)", () => {
  it("index lag at listing time: a listing right after registering and splitting waits for the index and is complete, never short", async () => {
    // Arrange: registration through the lagging proxy, so the new index entries show up 500 ms late
    const { faulty, tableName } = await stores();
    const taskId = "lagging";
    proxy().indexLagMs = 500;
    await registerImages(faulty, taskId, 300);
    const result = await split(faulty, { taskId, counts: counts(150, 100, 50), seed: "lag" });
    const start = proxy().log.length;

    // Act: the training set while the index still lacks the images (however long registering and
    // splitting took on this machine), caught up 300 ms later
    proxy().indexLagMs = 60_000;
    const caughtUp = setTimeout(() => {
      proxy().indexLagMs = 0;
    }, 300);
    const listed = await readWholeSet(faulty, taskId, 0).finally(() => clearTimeout(caughtUp));

    // Assert: the page waited for the index (read it again) and holds the whole set
    const indexReads = callsOn(tableName, start).filter((call) => call.input.IndexName !== undefined);
    expect(indexReads.length).toBeGreaterThanOrEqual(2);
    expect(listed.map((image) => image.img_id).sort()).toEqual([...result.drawn[0]].sort());
    await expectCompleteSplit(faulty, result, registrationOrder(taskId));
  });

  it("index lag beyond INDEX_WAIT_MS: the page answers 1500/503 rather than a short page", async () => {
    // Arrange
    const { faulty, truth } = await stores({ indexWaitMs: 300 });
    const taskId = "lag-timeout";
    proxy().indexLagMs = 3_000;
    await registerImages(faulty, taskId, 100);
    const result = await split(faulty, { taskId, counts: counts(50, 25, 25), seed: "late" });

    // Act: the index still lacks the images, however long registering and splitting took
    proxy().indexLagMs = 60_000;
    const started = Date.now();
    const failure = await faulty
      .listSet({ taskId, setType: 0, limit: 100, cursor: undefined })
      .catch((e: unknown) => e);

    // Assert
    expect(failure).toBeInstanceOf(ServiceError);
    expect(failure).toMatchObject({ code: 1500, status: 503, retryAfter: 1 });
    expect(Date.now() - started).toBeLessThan(1_500);
    // Once the index has caught up, the same page is whole
    proxy().indexLagMs = 0;
    expect(await codeOf(truth.listSet({ taskId, setType: 0, limit: 100, cursor: undefined }))).toBe(0);
    await expectCompleteSplit(faulty, result, registrationOrder(taskId));
  });
});
