import { describe, expect, it } from "vitest";
import { backoffMs, chunk, forEachLimited, limited, sleep } from "../../lib/concurrency.ts";

describe("forEachLimited", () => {
  it("never has more than the limit in flight and visits every item once", async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];

    await forEachLimited(
      Array.from({ length: 40 }, (_, i) => i),
      4,
      async (item) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await sleep(item % 3);
        seen.push(item);
        inFlight--;
      },
    );

    expect(peak).toBe(4);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it("stops starting new work after the first failure and throws it", async () => {
    const started: number[] = [];

    const run = forEachLimited([1, 2, 3, 4, 5, 6], 2, async (item) => {
      started.push(item);
      if (item === 2) throw new Error("boom");
      await sleep(5);
    });

    await expect(run).rejects.toThrow("boom");
    expect(started.length).toBeLessThan(6);
  });
});

describe("limited", () => {
  it("runs at most the limit at once, the rest in the order they came, a failure passing its turn on", async () => {
    const gate = limited(2);
    let inFlight = 0;
    let peak = 0;
    const order: number[] = [];
    const job = (i: number) =>
      gate(async () => {
        order.push(i);
        inFlight++;
        peak = Math.max(peak, inFlight);
        await sleep(5 + (i % 3));
        inFlight--;
        if (i === 3) throw new Error(`job ${i}`);
        return i;
      });

    const results = await Promise.allSettled(Array.from({ length: 9 }, (_, i) => job(i)));

    expect(peak).toBe(2);
    expect(order.slice(0, 2).sort()).toEqual([0, 1]);
    expect(order).toHaveLength(9);
    expect(order.slice(2)).toEqual([2, 3, 4, 5, 6, 7, 8].filter((i) => order.slice(2).includes(i)));
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : -1))).toEqual([0, 1, 2, -1, 4, 5, 6, 7, 8]);
    // the gate is free again: a later job starts at once
    let startedAt = -1;
    await gate(async () => {
      startedAt = inFlight;
    });
    expect(startedAt).toBe(0);
  });
});

describe("backoffMs", () => {
  it("grows exponentially, is capped, and jitters over [0, ceiling)", () => {
    expect(backoffMs(0, 50, 2000, () => 0.999)).toBe(49);
    expect(backoffMs(3, 50, 2000, () => 0.999)).toBe(399);
    expect(backoffMs(10, 50, 2000, () => 0.999)).toBe(1998);
    expect(backoffMs(10, 50, 2000, () => 0)).toBe(0);
  });
});

it("chunk splits into pieces of the given size, the last one shorter", () => {
  expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
});
