import { describe, expect, it } from "vitest";
import { type SetType, TESTING, TRAINING, VERIFYING } from "../../../lib/model.ts";
import { planSplit } from "../../../lib/split/plan/index.ts";
import { shuffleIds } from "../../../lib/split/shuffle.ts";
import { expectConsistent, ids, img, range, serviceError, sets, sizes, sorted } from "./plan-fixtures.ts";

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
