import { describe, expect, it } from "vitest";
import { ServiceError } from "../../../lib/errors.ts";
import { type SetType, TESTING, TRAINING, VERIFYING } from "../../../lib/model.ts";
import { type PlanImage, planSplit, type SplitPlan } from "../../../lib/split/plan/index.ts";
import { seededRandom, shuffle, shuffleIds } from "../../../lib/split/shuffle.ts";

/** `n` images with 19-digit ids; order_id i+1 unless `orderIds` says otherwise. */
function makeImages(n: number, orderIds?: number[]): PlanImage[] {
  return Array.from({ length: n }, (_, i) => ({
    imgId: String(2018070417860000000n + BigInt(i) * 37n),
    orderId: orderIds ? orderIds[i]! : i + 1,
  }));
}

const sizes = (training: number, testing: number, verifying: number) => ({
  [TRAINING]: training,
  [TESTING]: testing,
  [VERIFYING]: verifying,
});

/** Set of every placed image, keyed by imgId, read through `setOf`, which is aligned with `images` (the array planned). */
function placementOf(plan: SplitPlan, images: readonly PlanImage[]): Map<string, SetType> {
  expect(plan.setOf).toBeInstanceOf(Int8Array);
  expect(plan.setOf).toHaveLength(images.length);
  const placement = new Map<string, SetType>();
  images.forEach((img, i) => {
    const setType = plan.setOf[i]!;
    if (setType !== -1) placement.set(img.imgId, setType as SetType);
  });
  return placement;
}

function serviceError(fn: () => unknown): ServiceError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    return error as ServiceError;
  }
  throw new Error("expected a ServiceError");
}

describe("planSplit with counts only (the legacy API's request)", () => {
  const images = makeImages(100);
  const counts = sizes(60, 10, 20);
  const plan = planSplit(images, { counts }, "plan-seed");
  const placement = placementOf(plan, images);

  it("gives every set exactly the requested size and counts the rest as unassigned", () => {
    expect(plan.drawn[TRAINING]).toHaveLength(60);
    expect(plan.drawn[TESTING]).toHaveLength(10);
    expect(plan.drawn[VERIFYING]).toHaveLength(20);
    expect(plan.sizes).toEqual(counts);
    expect(plan.unassignedCount).toBe(10);
  });

  it("reports the account of a plain split: v1, sizes as asked, nothing moved, no labels or groups", () => {
    const { drawn: _drawn, setOf: _setOf, ...account } = plan;
    expect(account).toEqual({
      sizes: counts,
      unassignedCount: 10,
      algorithm: "v1",
      requested: counts,
      labelCounts: [],
      rareLabelPolicy: "training",
      rareLabels: [],
      moved: 0,
      newlyAssigned: 90,
      leakedGroups: [],
      heldBack: 0,
    });
  });

  it("keeps the sets disjoint and places exactly the drawn images, each in its own set", () => {
    const all = [...plan.drawn[TRAINING], ...plan.drawn[TESTING], ...plan.drawn[VERIFYING]];
    expect(new Set(all).size).toBe(90);
    const known = new Set(images.map((img) => img.imgId));
    for (const id of all) expect(known.has(id)).toBe(true);
    expect(placement.size).toBe(90);
    for (const setType of [TRAINING, TESTING, VERIFYING] as SetType[]) {
      for (const id of plan.drawn[setType]) expect(placement.get(id)).toBe(setType);
    }
  });

  it("draws training, then verifying, then testing from the front of shuffleIds' permutation", () => {
    const permutation = shuffleIds(
      images.map((img) => img.imgId),
      "plan-seed",
    );
    expect(plan.drawn[TRAINING]).toEqual(permutation.slice(0, 60));
    expect(plan.drawn[VERIFYING]).toEqual(permutation.slice(60, 80));
    expect(plan.drawn[TESTING]).toEqual(permutation.slice(80, 90));
    for (const id of permutation.slice(90)) expect(placement.has(id)).toBe(false);
  });

  it("gives the same plan for the same seed whatever order the images arrive in", () => {
    const scrambled = shuffle([...images], seededRandom("arrival"));
    const again = planSplit(scrambled, { counts }, "plan-seed");
    expect(again.drawn).toEqual(plan.drawn);
    expect([...placementOf(again, scrambled)].sort()).toEqual([...placement].sort());
  });

  it("gives a different draw for a different seed", () => {
    expect(planSplit(images, { counts }, "other-seed").drawn[TRAINING]).not.toEqual(plan.drawn[TRAINING]);
  });

  it("returns [] for a set asked to be empty, and can assign every image", () => {
    const full = planSplit(images, { counts: sizes(100, 0, 0) }, "all");
    expect(full.drawn[TESTING]).toEqual([]);
    expect(full.drawn[VERIFYING]).toEqual([]);
    expect(full.unassignedCount).toBe(0);
    expect(placementOf(full, images).size).toBe(100);
  });

  it("refuses counts that add up to more than the images with 1007", () => {
    const error = serviceError(() => planSplit(images, { counts: sizes(60, 21, 20) }, "too-many"));
    expect([error.code, error.message]).toEqual([1007, "三个集合的图像个数之和 101 超过了任务下的图像总数 100"]);
    expect(serviceError(() => planSplit([], { counts: sizes(1, 0, 0) }, "none")).code).toBe(1007);
  });

  it("throws a plain Error for counts that are not non-negative integers (a caller bug)", () => {
    for (const bad of [sizes(1, -1, 0), sizes(1.5, 0, 0), sizes(1, 0, Number.NaN)]) {
      expect(() => planSplit(images, { counts: bad }, "bad")).toThrow(/not a non-negative integer/);
    }
  });

  it("throws when an img_id appears twice", () => {
    const twice = [...images, { imgId: images[5]!.imgId, orderId: 101 }];
    expect(() => planSplit(twice, { counts: sizes(1, 0, 0) }, "dup")).toThrow(/more than once/);
  });
});

describe("planSplit's plain draw and order_ids", () => {
  it("does not depend on order_ids: dense, sparse, fractional or repeated ones give the same draw", () => {
    const n = 2_000;
    const dense = shuffle(
      Array.from({ length: n }, (_, i) => i + 1),
      seededRandom("dense"),
    );
    const counts = sizes(1_500, 200, 100);
    const want = planSplit(makeImages(n, dense), { counts }, "sparse");
    for (const orderIds of [
      dense.map((orderId) => orderId * 1_000_003 + 0.5), // same relative order, huge gaps, not integers
      new Array<number>(n).fill(7), // all the same
    ]) {
      const images = makeImages(n, orderIds);
      const plan = planSplit(images, { counts }, "sparse");
      expect(plan.drawn).toEqual(want.drawn);
      expect(plan.setOf).toEqual(want.setOf);
    }
  });

  it("throws a plain Error when an order_id is not a finite number", () => {
    for (const bad of [Number.NaN, Infinity]) {
      const images = makeImages(3, [1, bad, 3]);
      expect(() => planSplit(images, { counts: sizes(1, 0, 0) }, "nan")).toThrow(/order_id/);
    }
  });
});
