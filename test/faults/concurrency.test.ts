import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ServiceError } from "../../lib/errors.ts";
import type { SplitResult } from "../../lib/model.ts";
import { createStore } from "../../lib/store.ts";
import { type FaultProxy, seededRandom, startFaultProxy } from "../support/fault-proxy.ts";
import { counts, expectCompleteSplit, freshStore, registerImages, registrationOrder } from "../support/store.ts";

/**
 * Guarantee 3 under real contention: twenty splits of one task at once, each from its own store
 * and client (twenty Lambdas), with every call delayed at random on the wire so arrivals and
 * flips interleave differently on every round.
 */

let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await startFaultProxy(inject("dynamoEndpoint"));
});
afterAll(async () => proxy.close());

describe("concurrent splits of one task (guarantee 3)", () => {
  it("20 concurrent splits with different seeds, 3 rounds: the final state is exactly one winner's response, every loser got 1008", async () => {
    // Arrange
    const { store: truth, config } = await freshStore();
    const taskId = "twenty";
    await registerImages(truth, taskId, 300);
    const splitters = Array.from({ length: 20 }, () => createStore({ ...config, endpoint: proxy.endpoint }));
    const random = seededRandom(0xc0c0);
    proxy.policy = () => ({ kind: "delay", ms: Math.floor(random() * 25) });
    let winners = 0;
    let losers = 0;

    for (let round = 0; round < 3; round++) {
      // Act: different seeds and different sizes, so any mix of two splits would show
      const results = await Promise.allSettled(
        splitters.map((store, i) =>
          store.splitTask({
            taskId,
            counts: counts(100 + i, 50 + round, 20 + ((i * 7) % 13)),
            seed: `round${round}-${i}`,
          }),
        ),
      );

      // Assert: each answer is a success or 1008, nothing else
      const won = results
        .filter((r): r is PromiseFulfilledResult<SplitResult> => r.status === "fulfilled")
        .map((r) => r.value)
        .sort((a, b) => a.version - b.version);
      const refused = results
        .filter((r): r is PromiseRejectedResult => r.status === "rejected")
        .map((r) => r.reason as unknown);
      for (const reason of refused) {
        expect(reason).toBeInstanceOf(ServiceError);
        expect((reason as ServiceError).code).toBe(1008);
        expect((reason as ServiceError).status).toBe(409);
      }
      expect(won.length).toBeGreaterThanOrEqual(1);
      expect(won.length + refused.length).toBe(20);
      // Winners ran one after another (each took the lease after the previous flip), never side by side
      expect(new Set(won.map((w) => w.version)).size).toBe(won.length);
      // The final state is the last winner's, whole: its exact sets, sizes and order
      const last = won.at(-1) as SplitResult;
      expect((await truth.lastSplit(taskId))?.version).toBe(last.version);
      await expectCompleteSplit(truth, last, registrationOrder(taskId));
      winners += won.length;
      losers += refused.length;
    }
    expect(losers).toBeGreaterThan(winners);
  });
});
