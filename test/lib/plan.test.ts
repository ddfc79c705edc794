import { describe, expect, it } from "vitest";
import { type SetType, TESTING, TRAINING, VERIFYING } from "../../lib/model.ts";
import { BLOCK_SIZE, blockCount, planSplit } from "../../lib/plan.ts";
import { seededRandom, shuffle, shuffleIds } from "../../lib/shuffle.ts";

interface Img {
  imgId: string;
  orderId: number;
}

/** `n` images with 19-digit ids; order_id i+1 unless `orderIds` says otherwise. */
function makeImages(n: number, orderIds?: number[]): Img[] {
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

type Plan = ReturnType<typeof planSplit>;

/**
 * Set and block of every placed image, keyed by imgId, read through the plan's arrays, which are
 * aligned with `images` — the very array passed to planSplit. Images with setOf -1 are absent.
 */
function placementOf(plan: Plan, images: readonly Img[]): Map<string, { setType: SetType; block: number }> {
  expect(plan.setOf).toBeInstanceOf(Int8Array);
  expect(plan.blockOf).toBeInstanceOf(Int32Array);
  expect(plan.setOf).toHaveLength(images.length);
  expect(plan.blockOf).toHaveLength(images.length);
  const placement = new Map<string, { setType: SetType; block: number }>();
  images.forEach((img, i) => {
    const setType = plan.setOf[i]!;
    if (setType !== -1) placement.set(img.imgId, { setType: setType as SetType, block: plan.blockOf[i]! });
  });
  return placement;
}

/** Blocks expected for one set, computed directly: sort the set by order_id, rank r gets floor((r-1)/BLOCK_SIZE). */
function expectedBlocks(images: Img[], setIds: string[]): Map<string, number> {
  const orderOf = new Map(images.map((img) => [img.imgId, img.orderId]));
  const byOrder = [...setIds].sort((a, b) => orderOf.get(a)! - orderOf.get(b)!);
  return new Map(byOrder.map((id, index) => [id, Math.floor(index / BLOCK_SIZE)]));
}

describe("blockCount", () => {
  it("counts the blocks of BLOCK_SIZE images a set needs", () => {
    expect(BLOCK_SIZE).toBe(10_000);
    expect(blockCount(0)).toBe(0);
    expect(blockCount(1)).toBe(1);
    expect(blockCount(10_000)).toBe(1);
    expect(blockCount(10_001)).toBe(2);
    expect(blockCount(25_000)).toBe(3);
  });
});

describe("planSplit", () => {
  const images = makeImages(100);
  const counts = sizes(60, 10, 20);
  const plan = planSplit(images, counts, "plan-seed");
  const placement = placementOf(plan, images);

  it("gives every set exactly the requested size and counts the rest as unassigned", () => {
    expect(plan.drawn[TRAINING]).toHaveLength(60);
    expect(plan.drawn[TESTING]).toHaveLength(10);
    expect(plan.drawn[VERIFYING]).toHaveLength(20);
    expect(plan.sizes).toEqual(counts);
    expect(plan.unassignedCount).toBe(10);
  });

  it("keeps the sets disjoint and places exactly the drawn images, each in its own set", () => {
    const all = [...plan.drawn[TRAINING], ...plan.drawn[TESTING], ...plan.drawn[VERIFYING]];
    expect(new Set(all).size).toBe(90);
    const known = new Set(images.map((img) => img.imgId));
    for (const id of all) expect(known.has(id)).toBe(true);
    expect(placement.size).toBe(90);
    for (const setType of [TRAINING, TESTING, VERIFYING] as SetType[]) {
      for (const id of plan.drawn[setType]) expect(placement.get(id)?.setType).toBe(setType);
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
    const again = planSplit(scrambled, counts, "plan-seed");
    expect(again.drawn).toEqual(plan.drawn);
    expect([...placementOf(again, scrambled)].sort()).toEqual([...placement].sort());
  });

  it("gives a different draw for a different seed", () => {
    expect(planSplit(images, counts, "other-seed").drawn[TRAINING]).not.toEqual(plan.drawn[TRAINING]);
  });

  it("returns [] for a set asked to be empty, and can assign every image", () => {
    const full = planSplit(images, sizes(100, 0, 0), "all");
    expect(full.drawn[TESTING]).toEqual([]);
    expect(full.drawn[VERIFYING]).toEqual([]);
    expect(full.unassignedCount).toBe(0);
    expect(placementOf(full, images).size).toBe(100);
  });

  it("throws when the counts add up to more than the images", () => {
    expect(() => planSplit(images, sizes(60, 21, 20), "too-many")).toThrow(Error);
    expect(() => planSplit([], sizes(1, 0, 0), "none")).toThrow(Error);
  });

  it("throws when an img_id appears twice", () => {
    const twice = [...images, { imgId: images[5]!.imgId, orderId: 101 }];
    expect(() => planSplit(twice, sizes(1, 0, 0), "dup")).toThrow(/more than once/);
  });
});

describe("planSplit blocks", () => {
  /** Block sizes of one set, block by block, as the placement gives them (`images`: the array passed to planSplit). */
  function blockSizes(plan: Plan, images: readonly Img[], setType: SetType): number[] {
    const placement = placementOf(plan, images);
    const sizesByBlock: number[] = [];
    for (const id of plan.drawn[setType]) {
      const block = placement.get(id)!.block;
      sizesByBlock[block] = (sizesByBlock[block] ?? 0) + 1;
    }
    return sizesByBlock;
  }

  it("puts ranks 1..10000 in block 0, 10001..20000 in block 1 and the rest in block 2 (25,000 images in one set)", () => {
    const images = makeImages(26_000); // order_id = position + 1
    const plan = planSplit(images, sizes(25_000, 0, 0), "blocks");
    const training = plan.drawn[TRAINING];
    const orderOf = new Map(images.map((img) => [img.imgId, img.orderId]));
    const byOrder = [...training].sort((a, b) => orderOf.get(a)! - orderOf.get(b)!);
    const placement = placementOf(plan, images);
    const got = byOrder.map((id) => placement.get(id));
    const want = byOrder.map((_, index) => {
      const rank = index + 1;
      return { setType: TRAINING, block: rank <= 10_000 ? 0 : rank <= 20_000 ? 1 : 2 };
    });
    expect(got).toEqual(want);
    expect(blockSizes(plan, images, TRAINING)).toEqual([10_000, 10_000, 5_000]);
    expect(blockCount(training.length)).toBe(3);
  });

  it("ranks by order_id, not by position or id, when order_ids are scrambled and have gaps", () => {
    const n = 36_000;
    // order_ids: a scrambled permutation of 3, 6, 9, … so neither input position nor img_id order matches them
    const orderIds = shuffle(
      Array.from({ length: n }, (_, i) => 3 * (i + 1)),
      seededRandom("order-ids"),
    );
    const images = shuffle(makeImages(n, orderIds), seededRandom("input-order"));
    const plan = planSplit(images, sizes(21_000, 3_000, 11_500), "scrambled");
    const placement = placementOf(plan, images);
    for (const setType of [TRAINING, TESTING, VERIFYING] as SetType[]) {
      const want = expectedBlocks(images, plan.drawn[setType]);
      const got = [...want.keys()].map((id) => placement.get(id));
      expect(got).toEqual([...want.values()].map((block) => ({ setType, block })));
    }
    expect(blockSizes(plan, images, TRAINING)).toEqual([10_000, 10_000, 1_000]);
    expect(blockSizes(plan, images, VERIFYING)).toEqual([10_000, 1_500]);
    expect(blockSizes(plan, images, TESTING)).toEqual([3_000]);
  });

  it("ranks the same way when order_ids are far apart (too sparse to index directly) as when they are dense", () => {
    const n = 12_000;
    const dense = shuffle(
      Array.from({ length: n }, (_, i) => i + 1),
      seededRandom("dense"),
    );
    const denseImages = makeImages(n, dense);
    const sparseImages = makeImages(
      n,
      dense.map((orderId) => orderId * 1_000_003 + 0.5), // same relative order, huge gaps, not integers
    );
    const densePlan = planSplit(denseImages, sizes(11_000, 500, 500), "sparse");
    const sparsePlan = planSplit(sparseImages, sizes(11_000, 500, 500), "sparse");
    expect(sparsePlan.drawn).toEqual(densePlan.drawn);
    const sparsePlacement = placementOf(sparsePlan, sparseImages);
    expect([...sparsePlacement]).toEqual([...placementOf(densePlan, denseImages)]);
    const want = expectedBlocks(sparseImages, sparsePlan.drawn[TRAINING]);
    expect([...want.keys()].map((id) => sparsePlacement.get(id)?.block)).toEqual([...want.values()]);
    expect(blockSizes(sparsePlan, sparseImages, TRAINING)).toEqual([10_000, 1_000]);
  });

  it("breaks order_id ties by img_id, so even repeated order_ids give one deterministic ranking", () => {
    const images = makeImages(12_000, new Array<number>(12_000).fill(7));
    const arrived = shuffle([...images], seededRandom("ties"));
    const plan = planSplit(arrived, sizes(12_000, 0, 0), "ties");
    const placement = placementOf(plan, arrived);
    const byId = [...plan.drawn[TRAINING]].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(byId.map((id) => placement.get(id)?.block)).toEqual(byId.map((_, index) => (index < 10_000 ? 0 : 1)));
  });

  it("throws when an order_id is not a finite number", () => {
    const images = makeImages(3, [1, Number.NaN, 3]);
    expect(() => planSplit(images, sizes(1, 0, 0), "nan")).toThrow(/order_id/);
  });

  it("keeps every block but the last full, for set sizes on and around block boundaries", () => {
    const images = makeImages(30_001);
    for (const size of [1, 9_999, 10_000, 10_001, 20_000, 30_001]) {
      const plan = planSplit(images, sizes(size, 0, 0), `edge-${size}`);
      const got = blockSizes(plan, images, TRAINING);
      expect(got).toHaveLength(blockCount(size));
      expect(got.slice(0, -1).every((count) => count === BLOCK_SIZE)).toBe(true);
      expect(got.reduce((a, b) => a + b, 0)).toBe(size);
    }
  });
});
