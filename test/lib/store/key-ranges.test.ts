import { describe, expect, it } from "vitest";
import { alphabetOf, splitPoints } from "../../../lib/store/key-ranges.ts";

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

  it("with the ids' own alphabet, splits numeric ids into ranges holding about as many ids each", () => {
    // The platform's ids: one prefix, then digits. 1M of them, the first page already read.
    const id = (n: number) => `2018070417${String(n).padStart(9, "0")}`;
    const ids = Array.from({ length: 1_000_000 }, (_, i) => id(i + 1));
    const counts = (alphabet?: string) => {
      const points = splitPoints(id(12_441), id(1_000_000), 16, alphabet);
      const sizes = new Array(points.length + 1).fill(0);
      for (const value of ids.slice(12_441)) sizes[points.filter((p) => p <= value).length]++;
      return sizes as number[];
    };

    const even = counts(alphabetOf(ids.slice(0, 12_441)));
    const full = counts();

    expect(alphabetOf(ids.slice(0, 100))).toBe("0123456789");
    // Every range gets a share; none more than twice the mean.
    expect(even.length).toBeGreaterThanOrEqual(10);
    expect(Math.max(...even)).toBeLessThan((2 * 987_559) / even.length);
    // The full id alphabet puts over a third of them in one range: the reason for alphabetOf.
    expect(Math.max(...full)).toBeGreaterThan(0.3 * 987_559);
  });
});
