import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { ServiceError } from "../../lib/errors.ts";
import { type Fault, type FaultProxy, imageWrites, seededRandom, startFaultProxy } from "../support/fault-proxy.ts";
import {
  counts,
  expectCompleteSplit,
  type freshStore,
  registerImages,
  registrationOrder,
  storesThrough,
} from "../support/store.ts";

/**
 * Guarantee 6: storage throttling is retried (the SDK's standard retry for throttling errors, the
 * store's own loop for unprocessed batch items and cancelled transactions); only exhaustion
 * surfaces, as 1500 with 503. A store
 * built by createStore talks to DynamoDB Local through the fault proxy; a second store on the same
 * table, reached directly, is the ground truth.
 */

let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await startFaultProxy(inject("dynamoEndpoint"));
});
beforeEach(() => proxy.reset());
afterAll(async () => proxy.close());

/** A table of its own, reached through the proxy (`faulty`) and directly (`truth`). */
const stores = (overrides: Parameters<typeof freshStore>[0] = {}) => storesThrough(proxy.endpoint, overrides);

const isBatch = (operation: string) => operation === "BatchWriteItem" || operation === "BatchGetItem";

describe("storage throttling is retried; only exhaustion is 1500 (guarantee 6)", () => {
  it("with 30% of calls throttled and 30% of batches part-processed, every registration and split completes exactly", async () => {
    // Arrange. A call fails only after 15 throttled attempts in a row (0.3^15 ≈ 1.4e-8), a batch only
    // after 15 part-processed answers in a row; the run makes well under 1,000 calls, so a spurious
    // 1500 has a probability below 2e-5. The first batch of each kind is always part-processed and
    // the second call of each operation always throttled, so each kind of call meets each fault.
    const { faulty, truth } = await stores({ maxAttempts: 15, writeConcurrency: 4 });
    const random = seededRandom(0x5eed);
    const partly = (operation: string): Fault => ({
      kind: "unprocessed",
      keep: Math.floor(random() * (operation === "BatchWriteItem" ? 25 : 100)),
    });
    proxy.policy = (call) => {
      if (isBatch(call.operation) && call.nth === 1) return partly(call.operation);
      const r = random();
      // Transactions (if the store uses them) are throttled or conflict inside the transaction.
      if (call.operation === "TransactWriteItems" && r < 0.3)
        return { kind: "cancel", reason: r < 0.15 ? "TransactionConflict" : "ThrottlingError" };
      if (r < 0.15) return { kind: "throttle", error: "ProvisionedThroughputExceededException" };
      if (r < 0.3 || call.nth === 2) return { kind: "throttle", error: "ThrottlingException" };
      if (isBatch(call.operation) && random() < 0.3) return partly(call.operation);
      return undefined;
    };
    const taskId = "throttled";

    // Act + Assert: registration, registration again (every image known), three splits, each checked whole
    await registerImages(faulty, taskId, 250);
    await registerImages(faulty, taskId, 250);
    for (const [training, verifying, testing] of [
      [120, 80, 50],
      [249, 0, 1],
      [1, 0, 0],
    ] as const) {
      const split = await faulty.splitTask({ taskId, counts: counts(training, verifying, testing), seed: undefined });
      await expectCompleteSplit(truth, split, registrationOrder(taskId));
    }

    // The faults really happened, on every kind of call
    const throttled = proxy.log.filter((call) => call.fault === "throttle" || call.fault === "cancel");
    expect(throttled.length / proxy.log.length).toBeGreaterThan(0.2);
    const kinds = new Set(proxy.log.map((call) => call.operation));
    expect(new Set(throttled.map((call) => call.operation))).toEqual(kinds);
    expect(proxy.log.filter((call) => call.fault === "unprocessed").length).toBeGreaterThan(0);
  });

  it("image writes that never get through (throttled, or left unprocessed) are 1500 with 503, the previous assignment stays and the task is free", async () => {
    const { faulty, truth } = await stores({ maxAttempts: 3 });
    const taskId = "never-written";
    await registerImages(truth, taskId, 100);
    const previous = await truth.splitTask({ taskId, counts: counts(50, 25, 25), seed: "previous" });
    proxy.policy = (call): Fault | undefined => {
      if (imageWrites(call).imgIds.length === 0) return undefined;
      return call.operation === "BatchWriteItem" ? { kind: "unprocessed", keep: 0 } : { kind: "throttle" };
    };

    const failure = await faulty
      .splitTask({ taskId, counts: counts(60, 20, 20), seed: "never" })
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(ServiceError);
    expect(failure).toMatchObject({ code: 1500, status: 503, retryAfter: 1 });
    await expectCompleteSplit(truth, previous, registrationOrder(taskId));
    // A failure the split can see releases the lease at once.
    const next = await truth.splitTask({ taskId, counts: counts(60, 20, 20), seed: "next" });
    await expectCompleteSplit(truth, next, registrationOrder(taskId));
  });
});
