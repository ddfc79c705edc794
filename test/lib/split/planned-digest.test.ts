import { describe, expect, it } from "vitest";
import { plannedDigest } from "../../../lib/split/digest.ts";

/** `count` ids in ascending order: im00000000, im00000002, … (even numbers, so an odd one can slip in between). */
const evenIds = (count: number) => Array.from({ length: count }, (_, i) => `im${String(2 * i).padStart(8, "0")}`);

describe("plannedDigest", () => {
  it("is the same whatever order the ids were read in", () => {
    const sorted = evenIds(500);
    const shuffled = [...sorted].reverse();
    shuffled.push(...shuffled.splice(0, 123));

    expect(plannedDigest(shuffled)).toBe(plannedDigest(sorted));
    expect(plannedDigest(["b", "c", "a"])).toBe(plannedDigest(["a", "b", "c"]));
  });

  it("tells apart id lists that differ in any one place, across slices of 10,000", () => {
    const ids = evenIds(20_001);
    const digest = plannedDigest(ids);

    for (const at of [0, 9_998, 9_999, 10_000, 19_999, 20_000]) {
      const other = [...ids];
      other[at] = `im${String(2 * at + 1).padStart(8, "0")}`;
      expect(plannedDigest(other), `id ${at} changed`).not.toBe(digest);
    }
    expect(plannedDigest(ids.slice(0, 20_000))).not.toBe(digest);
  });
});
