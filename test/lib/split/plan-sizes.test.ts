import { describe, expect, it } from "vitest";
import { type SetType, TESTING, TRAINING, VERIFYING } from "../../../lib/model.ts";
import { largestRemainder, planSplit, roundShares, sizesFromRatios } from "../../../lib/split/plan/index.ts";
import { shuffleIds } from "../../../lib/split/shuffle.ts";
import { img, range, serviceError, sets, sizes } from "./plan-fixtures.ts";

describe("the plain request", () => {
  const images = range(0, 50).map((i) => img(i, i % 7 === 0 ? { label: "x" } : {}));

  it("is the front of the seeded permutation whatever options leave the mode plain, sizes as asked", () => {
    const counts = sizes(30, 10, 5);
    const permutation = shuffleIds(
      images.map((image) => image.imgId),
      "plain",
    );
    const plain = planSplit(images, { counts }, "plain");
    expect(sets(plain)).toEqual({
      training: permutation.slice(0, 30),
      verifying: permutation.slice(30, 40),
      testing: permutation.slice(40, 45),
    });
    for (const options of [undefined, {}, { mode: "fresh" as const, rareLabels: "error" as const, dryRun: true }]) {
      const plan = planSplit(images, { counts, options }, "plain");
      expect(plan.drawn).toEqual(plain.drawn);
      expect(plan.setOf).toEqual(plain.setOf);
      expect(plan.sizes).toEqual(counts);
      expect(plan.requested).toEqual(counts);
      expect(plan.unassignedCount).toBe(5);
    }
  });

  it("counts moves against `current`, and the images newly placed", () => {
    const counts = sizes(3, 1, 1);
    const six = range(0, 6).map((i) => img(i));
    const first = planSplit(six, { counts }, "first");
    const withCurrent = six.map((image, i) => {
      const setType = first.setOf[i]!;
      return setType === -1 ? image : { ...image, current: setType as SetType };
    });
    const same = planSplit(withCurrent, { counts }, "first");
    expect([same.moved, same.newlyAssigned]).toEqual([0, 0]);
    const other = planSplit(withCurrent, { counts }, "second");
    const changed = withCurrent.filter((image, i) => image.current !== undefined && other.setOf[i] !== image.current);
    const placed = withCurrent.filter((image, i) => image.current === undefined && other.setOf[i] !== -1);
    expect(other.moved).toBe(changed.length);
    expect(other.newlyAssigned).toBe(placed.length);
    expect(other.moved + other.newlyAssigned).toBeGreaterThan(0);
  });

  it("reports the label histogram (unlabelled last, as null) and groups found in more than one set", () => {
    const grouped = range(0, 8).map((i) => img(i, { label: i < 4 ? "b" : i < 6 ? "a" : undefined, group: "g" }));
    const plan = planSplit(grouped, { counts: sizes(4, 2, 2) }, "report");
    expect(plan.labelCounts.map((entry) => entry.label)).toEqual(["a", "b", null]);
    for (const entry of plan.labelCounts) {
      const total = entry.sizes[TRAINING] + entry.sizes[VERIFYING] + entry.sizes[TESTING] + entry.unassigned;
      expect(total).toBe(entry.label === "b" ? 4 : 2);
    }
    expect(plan.leakedGroups).toEqual(["g"]);
    expect(
      planSplit(
        range(0, 3).map((i) => img(i)),
        { counts: sizes(1, 1, 1) },
        "none",
      ).labelCounts,
    ).toEqual([]);
  });

  it("refuses counts beyond the images with 1007", () => {
    const error = serviceError(() =>
      planSplit(
        range(0, 3).map((i) => img(i)),
        { counts: sizes(2, 1, 1) },
        "s",
      ),
    );
    expect([error.code, error.message]).toEqual([1007, "三个集合的图像个数之和 4 超过了任务下的图像总数 3"]);
  });
});

describe("ratios", () => {
  it("keeps exact ratios exact although 0.7 + 0.2 + 0.1 is not 1 in binary", () => {
    expect(sizesFromRatios({ [TRAINING]: 0.7, [VERIFYING]: 0.2, [TESTING]: 0.1 }, 10, "s")).toEqual(sizes(7, 2, 1));
    expect(sizesFromRatios({ [TRAINING]: 0.29, [VERIFYING]: 0.71, [TESTING]: 0 }, 100, "s")).toEqual(sizes(29, 71, 0));
  });

  it("gives ratios that do not divide evenly their largest remainders, so the sizes add up exactly", () => {
    // 7 × (0.5, 0.25, 0.25) = 3.5, 1.75, 1.75: floors 3 + 1 + 1, the two units left go to the .75s.
    expect(sizesFromRatios({ [TRAINING]: 0.5, [VERIFYING]: 0.25, [TESTING]: 0.25 }, 7, "any")).toEqual(sizes(3, 2, 2));
    // 7 × (0.6, 0.1, 0.1) = 4.2, 0.7, 0.7 and a rest of 1.4: the .7s win, one image stays unassigned.
    expect(sizesFromRatios({ [TRAINING]: 0.6, [VERIFYING]: 0.1, [TESTING]: 0.1 }, 7, "any")).toEqual(sizes(4, 1, 1));
    // 24 × (0.6, 0.2, 0.15) = 14.4, 4.8, 3.6, rest 1.2: floors 14 + 4 + 3 + 1, then .8 and .6.
    expect(sizesFromRatios({ [TRAINING]: 0.6, [VERIFYING]: 0.2, [TESTING]: 0.15 }, 24, "any")).toEqual(sizes(14, 5, 4));
  });

  it("breaks equal remainders by the seed: the same seed always, different seeds differently", () => {
    const half = { [TRAINING]: 0.5, [VERIFYING]: 0.5, [TESTING]: 0 };
    // 3 × (0.5, 0.5): 1.5 and 1.5, one unit left for a tie.
    expect(sizesFromRatios(half, 3, "a")).toEqual(sizes(1, 2, 0));
    expect(sizesFromRatios(half, 3, "b")).toEqual(sizes(2, 1, 0));
    expect(sizesFromRatios(half, 3, "a")).toEqual(sizesFromRatios(half, 3, "a"));
    const thirds = { [TRAINING]: 1 / 3, [VERIFYING]: 1 / 3, [TESTING]: 1 / 3 };
    expect(sizesFromRatios(thirds, 10, "a")).toEqual(sizes(3, 3, 4));
    expect(sizesFromRatios(thirds, 10, "b")).toEqual(sizes(4, 3, 3));
  });

  it("reads a sum a hair above 1 (the validator's tolerance) as 1", () => {
    const r = 0.3333333336;
    expect(sizesFromRatios({ [TRAINING]: r, [VERIFYING]: r, [TESTING]: r }, 9, "s")).toEqual(sizes(3, 3, 3));
  });

  it("plans a ratios request as it plans the resolved counts", () => {
    const images = range(0, 24).map((i) => img(i));
    const plan = planSplit(images, { ratios: { [TRAINING]: 0.6, [VERIFYING]: 0.2, [TESTING]: 0.15 } }, "r");
    expect(plan.requested).toEqual(sizes(14, 5, 4));
    expect(plan.drawn).toEqual(planSplit(images, { counts: sizes(14, 5, 4) }, "r").drawn);
    expect(plan.unassignedCount).toBe(1);
  });

  it("answers 1009 when the ratios leave training empty", () => {
    const error = serviceError(() =>
      planSplit([img(0)], { ratios: { [TRAINING]: 0.3, [VERIFYING]: 0, [TESTING]: 0 } }, "s"),
    );
    expect(error.code).toBe(1009);
  });

  it("largestRemainder: floors, then the largest remainders, ties to the lower rank", () => {
    expect(largestRemainder(10, [1, 1, 1], [0, 1, 2])).toEqual([4, 3, 3]);
    expect(largestRemainder(10, [1, 1, 1], [2, 0, 1])).toEqual([3, 4, 3]);
    expect(largestRemainder(5, [3, 1], [1, 0])).toEqual([4, 1]);
    expect(largestRemainder(0, [1, 2], [0, 1])).toEqual([0, 0]);
  });
});

describe("roundShares", () => {
  it("rounds every cell to the floor or ceiling of its share, rows and columns exact", () => {
    // Shares: 3 × (7,2,1)/10 = 2.1, .6, .3 and 7 × … = 4.9, 1.4, .7
    const x = Array.from(roundShares([3, 7], [7, 2, 1], [0, 1]));
    expect(x).toEqual([2, 1, 0, 5, 1, 1]);
  });

  it("repairs a row the greedy pass leaves short with an augmenting path through a full column", () => {
    // 3 × 3 shares of 2/3: the greedy pass gives rows 0 and 1 columns 0 and 1, which leaves row 2 only
    // column 2. Row 2 takes column 0 from a row that moves to column 2 instead.
    expect(Array.from(roundShares([2, 2, 2], [2, 2, 2], [0, 1, 2]))).toEqual([1, 1, 0, 0, 1, 1, 1, 0, 1]);
  });

  it("refuses totals that differ", () => {
    expect(() => roundShares([1, 2], [2, 2], [0, 1])).toThrow(/totals differ/);
  });
});
