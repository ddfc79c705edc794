import { describe, expect, it } from "vitest";
import { backoffMs, chunk, forEachLimited, sleep } from "../../lib/concurrency.ts";

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
