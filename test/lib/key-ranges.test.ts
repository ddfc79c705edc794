import { describe, expect, it } from "vitest";
import { splitPoints } from "../../lib/key-ranges.ts";

describe("splitPoints", () => {
  it("spreads points evenly between two 19-digit ids, ascending and strictly inside", () => {
    const points = splitPoints("2018070400000000000", "2018070499999999999", 4);

    expect(points).toHaveLength(3);
    expect([...points].sort()).toEqual(points);
    for (const point of points) {
      expect(point > "2018070400000000000" && point < "2018070499999999999").toBe(true);
    }
    // The common prefix 20180704 is kept; the next digit splits 0…9 in quarters.
    expect(points.map((point) => point.slice(0, 9))).toEqual(["201807042", "201807044", "201807046"]);
  });

  it("gives ascending distinct points between ids that differ only in their last digit", () => {
    const points = splitPoints("2018070400000000001", "2018070400000000009", 16);

    expect(points.length).toBe(15);
    expect(new Set(points).size).toBe(15);
    expect([...points].sort()).toEqual(points);
    expect(points.every((p) => p > "2018070400000000001" && p < "2018070400000000009")).toBe(true);
  });

  it("handles ids of different lengths and letters, never repeating a point", () => {
    const points = splitPoints("a", "zzzz", 16);

    expect(points.length).toBeGreaterThan(10);
    expect(new Set(points).size).toBe(points.length);
    expect([...points].sort()).toEqual(points);
    expect(points.every((p) => p > "a" && p < "zzzz")).toBe(true);
  });
});
