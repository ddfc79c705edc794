import { describe, expect, it } from "vitest";
import { ServiceError } from "../../../lib/errors.ts";
import { type SetSizes, type SetType, TESTING, TRAINING, VERIFYING } from "../../../lib/model.ts";
import {
  ALGORITHM_VERSION,
  ALGORITHM_VERSIONS,
  largestRemainder,
  type PlanImage,
  type PlanRequest,
  placeUnits,
  planSplit,
  roundShares,
  type SplitPlan,
  sizesFromRatios,
  type Units,
} from "../../../lib/split/plan/index.ts";
import { seededRandom, shuffle, shuffleIds } from "../../../lib/split/shuffle.ts";

/** Sizes by set type, given in the legacy API's response order: training, verifying, testing. */
const sizes = (training: number, verifying: number, testing: number): SetSizes => ({
  [TRAINING]: training,
  [TESTING]: testing,
  [VERIFYING]: verifying,
});

/** Image i: id `img00`…, order_id i + 1. */
const img = (i: number, extra: Partial<PlanImage> = {}): PlanImage => ({
  imgId: `img${String(i).padStart(2, "0")}`,
  orderId: i + 1,
  ...extra,
});
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

/** The plan's sets as id lists in draw order, keyed by name. */
const sets = (plan: SplitPlan) => ({
  training: plan.drawn[TRAINING],
  verifying: plan.drawn[VERIFYING],
  testing: plan.drawn[TESTING],
});
/** Sorted ids of one set. */
const sorted = (ids: readonly string[]) => [...ids].sort();
const ids = (...indexes: number[]) => indexes.map((i) => img(i).imgId).sort();

function serviceError(fn: () => unknown): ServiceError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    return error as ServiceError;
  }
  throw new Error("expected a ServiceError");
}

/** Checks what every plan must satisfy: setOf aligned with the images, disjoint sets matching setOf. */
function expectConsistent(plan: SplitPlan, images: readonly PlanImage[]) {
  expect(plan.setOf).toHaveLength(images.length);
  const setOfId = new Map(images.map((image, i) => [image.imgId, plan.setOf[i]!]));
  const all: string[] = [];
  for (const setType of [TRAINING, TESTING, VERIFYING] as SetType[]) {
    expect(plan.sizes[setType]).toBe(plan.drawn[setType].length);
    for (const id of plan.drawn[setType]) expect(setOfId.get(id)).toBe(setType);
    all.push(...plan.drawn[setType]);
  }
  expect(new Set(all).size).toBe(all.length);
  expect(plan.unassignedCount).toBe(images.length - all.length);
  expect(images.filter((_, i) => plan.setOf[i] !== -1)).toHaveLength(all.length);
}

describe("ALGORITHM_VERSION", () => {
  it('is "v1", the only version that can be reproduced, and is reported with every plan', () => {
    expect(ALGORITHM_VERSION).toBe("v1");
    expect(ALGORITHM_VERSIONS).toEqual(["v1"]);
    expect(planSplit([img(0)], { counts: sizes(1, 0, 0) }, "s").algorithm).toBe("v1");
    expect(planSplit([img(0)], { counts: sizes(1, 0, 0), options: { stratifyBy: "label" } }, "s").algorithm).toBe("v1");
  });
});

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

describe('mode "keep"', () => {
  // A split of 10 (training 0–5, verifying 6–7, testing 8–9), then 5 images added (10–14).
  const current: SetType[] = [
    TRAINING,
    TRAINING,
    TRAINING,
    TRAINING,
    TRAINING,
    TRAINING,
    VERIFYING,
    VERIFYING,
    TESTING,
    TESTING,
  ];
  const afterAdding = range(0, 15).map((i) => img(i, current[i] === undefined ? {} : { current: current[i] }));

  it("after additions: keeps every assigned image, gives each new one to the set furthest below its target", () => {
    const plan = planSplit(afterAdding, { counts: sizes(9, 3, 3), options: { mode: "keep" } }, "keep");
    expectConsistent(plan, afterAdding);
    afterAdding.forEach((image, i) => {
      if (image.current !== undefined) expect(plan.setOf[i]).toBe(image.current);
    });
    // deficits 3, 1, 1: the first new image in permutation order (11) and the next (12) go to training,
    // then all three are 1 short and training wins the tie (13), then verifying (10), then testing (14).
    expect(sets(plan)).toEqual({
      training: ["img11", "img00", "img12", "img13", "img03", "img05", "img01", "img02", "img04"],
      verifying: ["img10", "img06", "img07"],
      testing: ["img08", "img09", "img14"],
    });
    expect([plan.moved, plan.newlyAssigned, plan.unassignedCount]).toEqual([0, 5, 0]);
  });

  it("leaves the new images beyond the targets unassigned", () => {
    const plan = planSplit(afterAdding, { counts: sizes(7, 2, 2), options: { mode: "keep" } }, "keep");
    expect(plan.sizes).toEqual(sizes(7, 2, 2));
    expect(plan.unassignedCount).toBe(4);
  });

  it("answers 1021 when a set already holds more than its target", () => {
    const error = serviceError(() =>
      planSplit(afterAdding, { counts: sizes(5, 3, 3), options: { mode: "keep" } }, "k"),
    );
    expect([error.code, error.message]).toEqual([
      1021,
      "mode keep 需要移动已分配的图像: 训练集已有 6 张图像，超过目标 5",
    ]);
  });

  it("on a task never split, distributes every image like a fresh split of the same sizes", () => {
    const fresh = range(0, 12).map((i) => img(i));
    const plan = planSplit(fresh, { counts: sizes(6, 3, 3), options: { mode: "keep" } }, "k");
    expect(plan.sizes).toEqual(sizes(6, 3, 3));
  });

  it("with group_by, a new image joins the set its group already is in", () => {
    const images = afterAdding.map((image, i) => (i === 7 || i === 12 ? { ...image, group: "g" } : image));
    const plan = planSplit(images, { counts: sizes(9, 3, 3), options: { mode: "keep", groupBy: "group" } }, "k");
    expect(plan.setOf[12]).toBe(VERIFYING);
    expect(plan.leakedGroups).toEqual([]);
  });

  it("with group_by, answers 1021 when a group is already spread over several sets", () => {
    const images = afterAdding.map((image, i) => (i === 0 || i === 8 ? { ...image, group: "g" } : image));
    const error = serviceError(() =>
      planSplit(images, { counts: sizes(9, 3, 3), options: { mode: "keep", groupBy: "group" } }, "k"),
    );
    expect(error.message).toBe("mode keep 需要移动已分配的图像: 组 g 已分布在多个集合中");
  });

  it("refuses lock_testing with keep (1019)", () => {
    expect(
      serviceError(() =>
        planSplit(afterAdding, { counts: sizes(9, 3, 3), options: { mode: "keep", lockTesting: true } }, "k"),
      ).code,
    ).toBe(1019);
  });
});

describe("lock_testing", () => {
  // Current split: testing 0–1, training 2–6, verifying 7–9; 10 and 11 unassigned.
  const current: (SetType | undefined)[] = [TESTING, TESTING, 0, 0, 0, 0, 0, VERIFYING, VERIFYING, VERIFYING];
  const images = range(0, 12).map((i) => img(i, current[i] === undefined ? {} : { current: current[i] }));

  it("keeps the current testing set exactly and redraws the rest with the remaining counts", () => {
    const plan = planSplit(images, { counts: sizes(7, 3, 5), options: { lockTesting: true } }, "lock");
    expectConsistent(plan, images);
    expect(sorted(plan.drawn[TESTING])).toEqual(ids(0, 1));
    // testing's target is the locked set's size, whatever the request said
    expect(plan.requested).toEqual(sizes(7, 3, 2));
    expect(plan.sizes).toEqual(sizes(7, 3, 2));
    const again = planSplit(images, { counts: sizes(7, 3, 5), options: { lockTesting: true } }, "other seed");
    expect(sorted(again.drawn[TESTING])).toEqual(ids(0, 1));
    expect(again.drawn[TRAINING]).not.toEqual(plan.drawn[TRAINING]);
  });

  it("draws the rest from the front of the permutation of the remaining images", () => {
    const plan = planSplit(images, { counts: sizes(6, 3, 1), options: { lockTesting: true } }, "lock");
    // The permutation is the seeded one over all images; the locked ones are skipped.
    const permutation = shuffleIds(
      images.map((image) => image.imgId),
      "lock",
    ).filter((id) => id > "img01");
    expect(plan.drawn[TRAINING]).toEqual(permutation.slice(0, 6));
    expect(plan.drawn[VERIFYING]).toEqual(permutation.slice(6, 9));
    expect(plan.unassignedCount).toBe(1);
  });

  it("answers 1022 when there is no current testing set", () => {
    const unsplit = range(0, 5).map((i) => img(i));
    const error = serviceError(() =>
      planSplit(unsplit, { counts: sizes(2, 1, 1), options: { lockTesting: true } }, "l"),
    );
    expect([error.code, error.message]).toEqual([1022, "lock_testing 需要任务当前的分集已有非空的测试集"]);
  });

  it("answers 1007 when training + verifying + the locked testing set exceed the images", () => {
    const error = serviceError(() =>
      planSplit(images, { counts: sizes(8, 3, 0), options: { lockTesting: true } }, "l"),
    );
    expect(error.message).toBe("三个集合的图像个数之和 13 超过了任务下的图像总数 12");
  });

  it("with group_by, holds back the other images of a group that is in the locked testing set", () => {
    const grouped = images.map((image, i) => (i === 0 || i === 5 || i === 10 ? { ...image, group: "t" } : image));
    const plan = planSplit(
      grouped,
      { counts: sizes(6, 3, 1), options: { lockTesting: true, groupBy: "group" } },
      "lock",
    );
    expect(sorted(plan.drawn[TESTING])).toEqual(ids(0, 1));
    expect([plan.setOf[5], plan.setOf[10]]).toEqual([-1, -1]);
    expect(plan.heldBack).toBe(2);
    expect(plan.leakedGroups).toEqual([]);
    expect(plan.sizes).toEqual(sizes(6, 2, 2)); // 8 images left for 6 + 3
  });

  it("with stratify_by, spreads the labels of the rest over training and verifying", () => {
    const labelled = images.map((image, i) => ({ ...image, label: i % 2 ? "odd" : "even" }));
    const plan = planSplit(
      labelled,
      { counts: sizes(6, 4, 1), options: { lockTesting: true, stratifyBy: "label" } },
      "l",
    );
    expect(sorted(plan.drawn[TESTING])).toEqual(ids(0, 1));
    expect(plan.labelCounts).toEqual([
      { label: "even", sizes: sizes(3, 2, 1), unassigned: 0 },
      { label: "odd", sizes: sizes(3, 2, 1), unassigned: 0 },
    ]);
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

describe("independence from input order", () => {
  it("gives every image the same set whatever order the images arrive in, in every mode", () => {
    const images = range(0, 40).map((i) =>
      img(i, {
        label: ["a", "b", "c"][i % 3]!,
        ...(i % 5 === 0 ? {} : { group: `g${i % 7}` }),
        ...(i < 30 ? { current: ([TRAINING, TESTING, VERIFYING] as const)[i % 3] } : {}),
      }),
    );
    const requests: PlanRequest[] = [
      { counts: sizes(20, 8, 8), options: { stratifyBy: "label" } },
      { counts: sizes(20, 8, 8), options: { groupBy: "group", stratifyBy: "label" } },
      { counts: sizes(12, 12, 12), options: { mode: "keep" } },
      { ratios: { [TRAINING]: 0.5, [VERIFYING]: 0.25, [TESTING]: 0.2 }, options: { lockTesting: true } },
    ];
    const scrambled = shuffle([...images], seededRandom("arrival"));
    for (const request of requests) {
      const a = planSplit(images, request, "order");
      const b = planSplit(scrambled, request, "order");
      expect(b.drawn).toEqual(a.drawn);
      const setOf = (plan: SplitPlan, list: PlanImage[]) =>
        Object.fromEntries(list.map((image, i) => [image.imgId, plan.setOf[i]]));
      expect(setOf(b, scrambled)).toEqual(setOf(a, images));
    }
  });
});

describe("pinned outputs of v1 (a change here changes splits users can reproduce: bump ALGORITHM_VERSION)", () => {
  const LABELS = ["cat", "dog", "dog", "bird", "cat", "dog"];
  const GROUPS = ["p1", "p1", "p1", "p2", "p2", undefined, "p3", "p3", "p3", "p3", undefined, undefined];
  /** 24 images: 8 cats, 12 dogs, 4 birds; groups p1 (3), p2 (2), p3 (4) twice over; ids 2018070417860564100…123. */
  const FIXTURE: PlanImage[] = range(0, 24).map((i) => ({
    imgId: `20180704178605641${String(i).padStart(2, "0")}`,
    orderId: i + 1,
    label: LABELS[i % 6]!,
    ...(GROUPS[i % 12] === undefined ? {} : { group: `${GROUPS[i % 12]}-${Math.floor(i / 12)}` }),
  }));
  const CURRENT = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 1, 1, 1, 1] as const;
  const WITH_CURRENT = FIXTURE.map((image, i) => (i < CURRENT.length ? { ...image, current: CURRENT[i] } : image));
  const COUNTS = sizes(14, 5, 4);
  const tails = (plan: SplitPlan) => {
    const { training, verifying, testing } = sets(plan);
    const tail = (list: string[]) => list.map((id) => id.slice(-2)).join(" ");
    return { training: tail(training), verifying: tail(verifying), testing: tail(testing) };
  };

  it.each([
    [
      "ratios 0.6 / 0.2 / 0.15",
      FIXTURE,
      { ratios: { [TRAINING]: 0.6, [VERIFYING]: 0.2, [TESTING]: 0.15 } },
      { training: "23 14 06 11 01 08 05 22 17 21 15 09 19 13", verifying: "12 07 18 16 10", testing: "04 20 03 02" },
    ],
    [
      "stratified",
      FIXTURE,
      { counts: COUNTS, options: { stratifyBy: "label" } },
      { training: "23 14 06 11 01 08 05 22 17 21 15 12 18 16", verifying: "09 19 13 10 04", testing: "07 20 03 00" },
    ],
    [
      "grouped",
      FIXTURE,
      { counts: COUNTS, options: { groupBy: "group" } },
      { training: "14 06 08 05 21 09 19 13 12 07 18 04 20 03", verifying: "23 01 22 02 00", testing: "11 17 15 16" },
    ],
    [
      "stratified and grouped",
      FIXTURE,
      { counts: COUNTS, options: { stratifyBy: "label", groupBy: "group" } },
      { training: "23 14 06 08 22 21 09 19 13 12 07 18 10 20", verifying: "01 04 03 02 00", testing: "11 05 15 16" },
    ],
    [
      "keep",
      WITH_CURRENT,
      { counts: sizes(12, 5, 5), options: { mode: "keep" } },
      { training: "23 06 01 08 05 22 09 07 04 03 02 00", verifying: "11 21 13 12 10", testing: "14 17 15 19 16" },
    ],
    [
      "lock_testing",
      WITH_CURRENT,
      { counts: COUNTS, options: { lockTesting: true } },
      { training: "23 06 11 01 08 05 22 21 09 19 13 12 07 18", verifying: "10 04 20 03 02", testing: "14 17 15 16" },
    ],
  ] as [string, PlanImage[], PlanRequest, ReturnType<typeof tails>][])(
    'seed "pinned-v1", %s',
    (_name, images, request, expected) => {
      const plan = planSplit(images, request, "pinned-v1");
      expect(tails(plan)).toEqual(expected);
      expectConsistent(plan, images);
    },
  );
});

describe("speed", () => {
  it("plans 100k labelled, grouped images in every mode quickly (well under a second each on an idle machine)", () => {
    const n = 100_000;
    const images = Array.from({ length: n }, (_, i) => ({
      imgId: `2018070417${String(i).padStart(9, "0")}`,
      orderId: i + 1,
      label: `class${i % 37}`,
      ...(i % 3 === 0 ? {} : { group: `patient${Math.floor(i / 6)}` }),
      ...(i < 80_000 ? { current: ([TRAINING, VERIFYING, TESTING] as const)[i % 3] } : {}),
    }));
    const counts = sizes(70_000, 20_000, 10_000);
    const requests: PlanRequest[] = [
      { ratios: { [TRAINING]: 0.5, [VERIFYING]: 0.2, [TESTING]: 0.1 }, options: { lockTesting: true } },
      { counts, options: { stratifyBy: "label" } },
      { counts, options: { groupBy: "group" } },
      { counts, options: { stratifyBy: "label", groupBy: "group" } },
      { counts: sizes(40_000, 30_000, 30_000), options: { mode: "keep", stratifyBy: "label" } },
    ];
    for (const request of requests) {
      const start = performance.now();
      const plan = planSplit(images, request, "speed");
      const ms = performance.now() - start;
      expect(plan.sizes[TRAINING] + plan.sizes[VERIFYING] + plan.sizes[TESTING]).toBeGreaterThan(90_000);
      expect(ms).toBeLessThan(3000); // 50–200 ms on an idle machine; the bound only catches a blow-up (a loaded box is slow)
    }
  });
});
