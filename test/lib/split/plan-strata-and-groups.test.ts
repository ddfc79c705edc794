import { describe, expect, it } from "vitest";
import { TESTING, TRAINING, VERIFYING } from "../../../lib/model.ts";
import { type PlanRequest, placeUnits, planSplit, type Units } from "../../../lib/split/plan/index.ts";
import { expectConsistent, ids, img, range, serviceError, sizes, sorted } from "./plan-fixtures.ts";

describe("stratify_by label", () => {
  // 12 cats, 6 dogs, 6 birds, ids interleaved.
  const animals = range(0, 24).map((i) =>
    img(i, { label: i % 4 === 0 || i % 4 === 2 ? "cat" : i % 4 === 1 ? "dog" : "bird" }),
  );

  it("gives each set each label in proportion, totals exact", () => {
    const plan = planSplit(animals, { counts: sizes(12, 6, 6), options: { stratifyBy: "label" } }, "strata");
    expectConsistent(plan, animals);
    expect(plan.sizes).toEqual(sizes(12, 6, 6));
    // cat 12 × (1/2, 1/4, 1/4) = 6, 3, 3; dog and bird 6 × … = 3, 1.5, 1.5
    const byLabel = Object.fromEntries(plan.labelCounts.map((entry) => [entry.label, entry]));
    expect(byLabel.cat?.sizes).toEqual(sizes(6, 3, 3));
    expect(byLabel.dog!.sizes[TRAINING]).toBe(3);
    expect(byLabel.bird!.sizes[TRAINING]).toBe(3);
    expect([byLabel.dog!.sizes[VERIFYING], byLabel.bird!.sizes[VERIFYING]].sort()).toEqual([1, 2]);
    expect(byLabel.dog!.sizes[VERIFYING] + byLabel.dog!.sizes[TESTING]).toBe(3);
    expect(plan.rareLabels).toEqual([]);
  });

  it("with no labels at all draws exactly as the plain request does", () => {
    const plain = range(0, 30).map((i) => img(i));
    const plan = planSplit(plain, { counts: sizes(17, 6, 4), options: { stratifyBy: "label" } }, "nolabel");
    expect(plan.drawn).toEqual(planSplit(plain, { counts: sizes(17, 6, 4) }, "nolabel").drawn);
  });

  it("keeps the unlabelled images a stratum of their own, listed last as null", () => {
    const mixed = range(0, 20).map((i) => img(i, i < 10 ? { label: "a" } : {}));
    const plan = planSplit(mixed, { counts: sizes(10, 5, 5), options: { stratifyBy: "label" } }, "mixed");
    expect(plan.labelCounts).toEqual([
      { label: "a", sizes: sizes(5, 2, 3), unassigned: 0 },
      { label: null, sizes: sizes(5, 3, 2), unassigned: 0 },
    ]);
  });

  describe("a label with one image", () => {
    const solo = range(0, 10).map((i) => img(i, { label: i === 9 ? "solo" : i % 2 ? "a" : "b" }));
    const request = (rareLabels: "training" | "random" | "error"): PlanRequest => ({
      counts: sizes(6, 2, 2),
      options: { stratifyBy: "label", rareLabels },
    });

    it('puts it in training by default ("training") and lists it', () => {
      const plan = planSplit(solo, { counts: sizes(6, 2, 2), options: { stratifyBy: "label" } }, "solo");
      expect(plan.rareLabelPolicy).toBe("training");
      expect(plan.rareLabels).toEqual([{ label: "solo", sizes: sizes(1, 0, 0), unassigned: 0 }]);
      expect(plan.drawn[TRAINING]).toContain("img09");
      expect(plan.sizes).toEqual(sizes(6, 2, 2));
      // the other labels share the rest in proportion: a 4.5 → … of 5 training places, totals exact
      expect(plan.labelCounts.filter((entry) => entry.label !== "solo").map((entry) => entry.sizes)).toEqual([
        sizes(2, 1, 1),
        sizes(3, 1, 1),
      ]);
    });

    it('spreads the rare labels pooled as one stratum with "random", and still lists them', () => {
      const twoSolos = solo.map((image, i) => (i === 8 ? { ...image, label: "solo2" } : image));
      const plan = planSplit(twoSolos, request("random"), "solo");
      expect(plan.rareLabels.map((entry) => entry.label)).toEqual(["solo", "solo2"]);
      expect(plan.sizes).toEqual(sizes(6, 2, 2));
      const rarePlaced = plan.rareLabels.reduce(
        (n, entry) => n + entry.sizes[TRAINING] + entry.sizes[VERIFYING] + entry.sizes[TESTING],
        0,
      );
      expect(rarePlaced).toBe(2);
    });

    it('answers 1020 naming it with "error"', () => {
      const error = serviceError(() => planSplit(solo, request("error"), "solo"));
      expect([error.code, error.status, error.message]).toEqual([
        1020,
        400,
        "以下标签的图像太少，无法按 rare_labels=error 放置: solo",
      ]);
    });

    it("is not rare when only two sets receive images and it has two", () => {
      const pair = range(0, 10).map((i) => img(i, { label: i < 2 ? "pair" : "many" }));
      const plan = planSplit(
        pair,
        { counts: sizes(5, 5, 0), options: { stratifyBy: "label", rareLabels: "error" } },
        "pair",
      );
      expect(plan.rareLabels).toEqual([]);
      expect(plan.labelCounts[1]).toEqual({ label: "pair", sizes: sizes(1, 1, 0), unassigned: 0 });
    });

    it('answers 1020 when "training" cannot hold the rare images', () => {
      const singles = range(0, 6).map((i) => img(i, { label: `l${i}` }));
      const error = serviceError(() =>
        planSplit(singles, { counts: sizes(1, 2, 3), options: { stratifyBy: "label" } }, "s"),
      );
      expect(error.message).toBe("以下标签的图像太少，无法按 rare_labels=training 放置: l0、l1、l2、l3、l4、l5");
    });

    it("names at most 20 labels and counts the rest", () => {
      const singles = range(0, 30).map((i) => img(i, { label: `l${String(i).padStart(2, "0")}` }));
      const error = serviceError(() =>
        planSplit(singles, { counts: sizes(10, 10, 10), options: { stratifyBy: "label", rareLabels: "error" } }, "s"),
      );
      expect(error.message).toMatch(/: l00、l01、.*、l19 等 30 个$/);
    });
  });
});

describe("group_by group", () => {
  it("one giant group: lands whole in one set, requested and achieved sizes both reported", () => {
    const giant = range(0, 12).map((i) => img(i, i < 10 ? { group: "giant" } : {}));
    const plan = planSplit(giant, { counts: sizes(6, 3, 3), options: { groupBy: "group" } }, "giant");
    expectConsistent(plan, giant);
    expect(sorted(plan.drawn[TRAINING])).toEqual(ids(...range(0, 10)));
    expect(plan.requested).toEqual(sizes(6, 3, 3));
    expect(plan.sizes).toEqual(sizes(10, 1, 1));
    expect(plan.leakedGroups).toEqual([]);
  });

  it("groups larger than a set: largest first into the largest deficit, sizes as close as possible", () => {
    // A(8) → training (deficit 10); B(6) → verifying (5, overshoots by 1 as testing would);
    // C(3) → testing; the three lone images fill training's 2 and testing's 2 − 1.
    const images = [
      ...range(0, 8).map((i) => img(i, { group: "A" })),
      ...range(8, 14).map((i) => img(i, { group: "B" })),
      ...range(14, 17).map((i) => img(i, { group: "C" })),
      img(17),
      img(18),
      img(19),
    ];
    const plan = planSplit(images, { counts: sizes(10, 5, 5), options: { groupBy: "group" } }, "groups");
    expectConsistent(plan, images);
    expect(plan.sizes).toEqual(sizes(10, 6, 4));
    expect(sorted(plan.drawn[VERIFYING])).toEqual(ids(...range(8, 14)));
    expect(sorted(plan.drawn[TRAINING]).slice(0, 8)).toEqual(ids(...range(0, 8)));
    expect(plan.leakedGroups).toEqual([]);
  });

  it("meets the sizes exactly when every group is a single image", () => {
    const images = range(0, 20).map((i) => img(i));
    const plan = planSplit(images, { counts: sizes(11, 4, 3), options: { groupBy: "group" } }, "lone");
    expect(plan.sizes).toEqual(sizes(11, 4, 3));
    expect(plan.unassignedCount).toBe(2);
  });

  it("combines with stratify_by: groups whole, labels as close to their shares as whole groups allow", () => {
    // 6 groups of 2 (one label each: 3 × a, 3 × b) and 4 lone images (2 × a, 2 × b).
    const images = range(0, 16).map((i) =>
      img(i, {
        label: (i < 12 ? Math.floor(i / 2) : i) % 2 ? "b" : "a",
        ...(i < 12 ? { group: `g${Math.floor(i / 2)}` } : {}),
      }),
    );
    const plan = planSplit(
      images,
      { counts: sizes(8, 4, 4), options: { groupBy: "group", stratifyBy: "label" } },
      "mix",
    );
    expectConsistent(plan, images);
    expect(plan.sizes).toEqual(sizes(8, 4, 4));
    expect(plan.leakedGroups).toEqual([]);
    expect(plan.labelCounts.map((entry) => entry.sizes)).toEqual([sizes(4, 2, 2), sizes(4, 2, 2)]);
  });
});

describe("placeUnits", () => {
  /** Units of one stratum each: [size, allowed bins mask]. */
  const units = (...list: [number, number][]): Units => ({
    size: Int32Array.from(list.map(([size]) => size)),
    allowed: Uint8Array.from(list.map(([, allowed]) => allowed)),
    start: Int32Array.from({ length: list.length + 1 }, (_, u) => u),
    rows: new Int32Array(list.length),
    counts: Int32Array.from(list.map(([size]) => size)),
  });

  it("puts the largest unit first where it fits, ties to the larger deficit, then the lower bin", () => {
    const deficit = Float64Array.from([5, 3, 3, 0]);
    const placed = placeUnits(
      units([1, 0b1111], [4, 0b1111], [3, 0b1111], [1, 0b1111], [1, 0b1111]),
      deficit,
      Float64Array.from(deficit),
    );
    // 4 → bin 0 (deficit 5 → 1); 3 → bin 1 (as good as bin 2, equal totals, lower bin); the ones fit in
    // bins 0 and 2 alike: the larger total deficit wins (2, 2), then the lower bin (0).
    expect(Array.from(placed)).toEqual([2, 0, 1, 2, 0]);
    expect(Array.from(deficit)).toEqual([0, 0, 1, 0]);
  });

  it("weighs every stratum of a unit: a mixed unit goes where its labels are missing", () => {
    // Two strata × two bins: bin 0 lacks 2 of stratum 0, bin 1 lacks 2 of stratum 1.
    const mixed: Units = {
      size: Int32Array.from([2, 2]),
      allowed: Uint8Array.from([0b11, 0b11]),
      start: Int32Array.from([0, 1, 2]),
      rows: Int32Array.from([1, 0]),
      counts: Int32Array.from([2, 2]),
    };
    const placed = placeUnits(mixed, Float64Array.from([2, 0, 0, 2]), Float64Array.from([2, 2]));
    expect(Array.from(placed)).toEqual([1, 0]);
  });

  it("respects the allowed bins, and refuses a unit allowed nowhere", () => {
    const placed = placeUnits(units([2, 0b1000]), Float64Array.from([5, 0, 0, 0]), Float64Array.from([5, 0, 0, 0]));
    expect(Array.from(placed)).toEqual([3]);
    expect(() => placeUnits(units([1, 0]), new Float64Array(4), new Float64Array(4))).toThrow(/nowhere/);
  });
});
