import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { ServiceError } from "../../lib/errors.ts";
import { SET_TYPES } from "../../lib/model.ts";
import {
  type FaultProxy,
  imageWrites,
  isFlip,
  isWrite,
  seededRandom,
  startFaultProxy,
} from "../support/fault-proxy.ts";
import {
  codeOf,
  counts,
  expectCompleteSplit,
  type freshStore,
  readWholeSet,
  registerImages,
  registrationOrder,
  storesThrough,
} from "../support/store.ts";

/**
 * Storage faults a live process sees and must ride out: failed and dropped calls, answers lost on
 * the wire (the write happened, the SDK retries it), a lagging index. A store as createStore builds
 * it (the SDK's standard retries) talks to DynamoDB Local through the fault proxy; a second store
 * on the same table talks to DynamoDB Local directly and is the ground truth.
 */

let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await startFaultProxy(inject("dynamoEndpoint"));
});
beforeEach(() => proxy.reset());
afterAll(async () => proxy.close());

/** A table of its own, reached through the proxy (`faulty`) and directly (`truth`). */
const stores = (overrides: Parameters<typeof freshStore>[0] = {}) => storesThrough(proxy.endpoint, overrides);

/** A set's membership as one comparable string. */
const members = (images: readonly (string | { img_id: string })[]) =>
  images
    .map((image) => (typeof image === "string" ? image : image.img_id))
    .sort()
    .join(",");

/** How many calls since `start` (a log position) met the fault `kind`. */
const faultsSeen = (kind: string, start: number) => proxy.log.slice(start).filter((call) => call.fault === kind).length;

describe("failed and dropped calls are retried without changing the outcome", () => {
  it("a 500 on a single write of a split (the lease, the first, middle and last image write, the flip) is retried and the split completes", async () => {
    const { faulty, truth } = await stores({ writeConcurrency: 1, leaseMs: 30_000 });
    const taskId = "nth-write";
    await registerImages(truth, taskId, 100);
    // How many writes a clean split makes: lease, image writes, flip.
    let writes = 0;
    proxy.policy = (call) => (isWrite(call.operation) ? ((writes += 1), undefined) : undefined);
    await faulty.splitTask({ taskId, counts: counts(70, 20, 10), seed: "count" });
    const total = writes;

    for (const n of new Set([1, 2, Math.ceil(total / 2), total - 1, total])) {
      writes = 0;
      proxy.policy = (call) =>
        isWrite(call.operation) && ++writes === n
          ? { kind: "error", status: 500, type: "InternalServerError" }
          : undefined;
      const start = proxy.log.length;

      const split = await faulty.splitTask({ taskId, counts: counts(70, 20, 10), seed: `nth-${n}` });

      await expectCompleteSplit(truth, split, registrationOrder(taskId));
      expect(proxy.log.slice(start).filter((call) => call.fault === "error")).toHaveLength(1);
      expect({ n, writes }).toEqual({ n, writes: total + 1 }); // the failed write was sent again
    }
  });

  it("connections dropped before DynamoDB saw 30% of the calls are retried and every split completes", async () => {
    const { faulty, truth } = await stores({ maxAttempts: 12, writeConcurrency: 4 });
    const taskId = "dropped";
    await registerImages(truth, taskId, 300);
    const random = seededRandom(0xd40b);
    proxy.policy = () => (random() < 0.3 ? { kind: "drop" } : undefined);
    const start = proxy.log.length;

    for (const seed of ["d1", "d2", "d3"]) {
      const split = await faulty.splitTask({ taskId, counts: counts(150, 100, 50), seed });
      await expectCompleteSplit(truth, split, registrationOrder(taskId));
    }
    expect(faultsSeen("drop", start)).toBeGreaterThan(10);
  });

  it("image writes whose answers were lost on the wire are simply written again", async () => {
    const { faulty, truth } = await stores({ writeConcurrency: 2 });
    const taskId = "lost-image-write-answers";
    await registerImages(truth, taskId, 200);
    let imageCalls = 0;
    proxy.policy = (call) =>
      imageWrites(call).imgIds.length > 0 && ++imageCalls % 3 === 1 ? { kind: "dropAnswer" } : undefined;
    const start = proxy.log.length;

    const split = await faulty.splitTask({ taskId, counts: counts(100, 50, 50), seed: "lost" });

    await expectCompleteSplit(truth, split, registrationOrder(taskId));
    expect(faultsSeen("dropAnswer", start)).toBeGreaterThan(0);
  });

  it("a lease write whose answer was lost is not mistaken for another split's lease", async () => {
    const { faulty, truth } = await stores();
    const taskId = "lost-lease-answer";
    await registerImages(truth, taskId, 50);
    let first = true;
    proxy.policy = (call) => {
      if (call.operation !== "UpdateItem" || !first) return undefined;
      first = false;
      return { kind: "dropAnswer" }; // DynamoDB took the lease; the SDK retries the same write
    };

    const outcome = await codeOf(faulty.splitTask({ taskId, counts: counts(30, 10, 10), seed: "lease" }));

    expect(outcome).toBe(0);
  });

  it("a registration's lease write whose answer was lost does not leave the task blocked behind its own lease", async () => {
    const { faulty, truth } = await stores({ registerWaitMs: 300 });
    const taskId = "lost-register-lease-answer";
    let first = true;
    proxy.policy = (call) => {
      if (call.operation !== "UpdateItem" || !first) return undefined;
      first = false;
      return { kind: "dropAnswer" }; // DynamoDB took the lease; the SDK retries the same write
    };

    const images = [{ imgId: "img1", imgName: "a.jpg", state: 0 }];
    const outcome = await codeOf(faulty.registerImages({ taskId, images }));
    const again = await codeOf(truth.registerImages({ taskId, images }));

    expect({ outcome, again }).toEqual({ outcome: 0, again: 0 });
  });

  it("a flip whose answer was lost is reported as the success it was", async () => {
    const { faulty, truth } = await stores();
    const taskId = "lost-flip-answer";
    await registerImages(truth, taskId, 50);
    let first = true;
    proxy.policy = (call) => {
      if (!isFlip(call) || !first) return undefined;
      first = false;
      return { kind: "dropAnswer" }; // DynamoDB flipped; the SDK retries the same conditional write
    };

    const outcome = await faulty
      .splitTask({ taskId, counts: counts(30, 10, 10), seed: "flip" })
      .catch((e: unknown) => e);

    expect(outcome).not.toBeInstanceOf(Error);
    const live = await truth.lastSplit(taskId);
    expect(live?.version).toBe(1);
  });

  it("a registration whose counter update's answer was lost still numbers its images 1, 2, 3 … and counts them once", async () => {
    const { faulty, truth } = await stores();
    const taskId = "lost-counter-answer";
    let first = true;
    proxy.policy = (call) => {
      const counter =
        call.operation === "UpdateItem" && /next_order = next_order \+/.test(String(call.input.UpdateExpression));
      if (!counter || !first) return undefined;
      first = false;
      return { kind: "dropAnswer" };
    };

    const result = await faulty.registerImages({
      taskId,
      images: Array.from({ length: 5 }, (_, i) => ({ imgId: `img${i + 1}`, imgName: `img_${i + 1}.jpg`, state: 0 })),
    });
    await truth.splitTask({ taskId, counts: counts(5, 0, 0), seed: "s" });

    expect(result.total).toBe(5);
    expect((await readWholeSet(truth, taskId, 0)).map((image) => [image.img_id, image.order_id])).toEqual([
      ["img1", 1],
      ["img2", 2],
      ["img3", 3],
      ["img4", 4],
      ["img5", 5],
    ]);
  });
});

describe("a lagging index (DynamoDB Local's never lags)", () => {
  it("a split flips only once its index shows every image; readers meanwhile see the previous assignment", async () => {
    // Arrange: readers and the split both go through the lagging proxy
    const { faulty, truth } = await stores({ writeConcurrency: 2 });
    const taskId = "lagging";
    await registerImages(truth, taskId, 200);
    const previous = await truth.splitTask({ taskId, counts: counts(100, 50, 50), seed: "previous" });
    proxy.indexLagMs = 700;
    const start = proxy.log.length;

    // Act: read every set, whole, again and again while the split waits for its index
    let splitting = true;
    const running = faulty
      .splitTask({ taskId, counts: counts(120, 40, 40), seed: "next" })
      .finally(() => (splitting = false));
    const observed: string[][] = [];
    while (splitting) {
      observed.push(
        await Promise.all(SET_TYPES.map(async (setType) => members(await readWholeSet(faulty, taskId, setType, 30)))),
      );
    }
    const next = await running;

    // Assert: the flip came after the last image write had become visible, and the new split reads whole
    const calls = proxy.log.slice(start);
    const lastWrite = Math.max(...calls.filter((c) => imageWrites(c).imgIds.length > 0).map((c) => c.done));
    const flip = calls.find(isFlip);
    expect(flip?.at).toBeGreaterThanOrEqual(lastWrite + proxy.indexLagMs);
    await expectCompleteSplit(faulty, next, registrationOrder(taskId));
    // Each set as read was the previous one whole, or (once flipped) the new one whole
    expect(observed.length).toBeGreaterThan(3);
    for (const seen of observed) {
      for (const setType of SET_TYPES) {
        expect([members(previous.drawn[setType]), members(next.drawn[setType])]).toContain(seen[setType]);
      }
    }
  });

  it("an index still behind after INDEX_WAIT_MS is 1500 (503): the previous assignment stays and the task is free at once", async () => {
    const { faulty, truth } = await stores({ indexWaitMs: 400 });
    const taskId = "lag-timeout";
    await registerImages(truth, taskId, 100);
    const previous = await truth.splitTask({ taskId, counts: counts(50, 25, 25), seed: "previous" });
    proxy.indexLagMs = 60_000;

    const failure = await faulty
      .splitTask({ taskId, counts: counts(40, 40, 20), seed: "late" })
      .catch((e: unknown) => e);

    expect(failure).toMatchObject({ code: 1500, status: 503 });
    await expectCompleteSplit(truth, previous, registrationOrder(taskId));
    const next = await truth.splitTask({ taskId, counts: counts(40, 40, 20), seed: "late" });
    await expectCompleteSplit(truth, next, registrationOrder(taskId));
  });
});
