import { expect } from "vitest";
import { ServiceError } from "../../../lib/errors.ts";
import { type SetSizes, type SetType, TESTING, TRAINING, VERIFYING } from "../../../lib/model.ts";
import type { PlanImage, SplitPlan } from "../../../lib/split/plan/index.ts";

/** Sizes by set type, given in the legacy API's response order: training, verifying, testing. */
export const sizes = (training: number, verifying: number, testing: number): SetSizes => ({
  [TRAINING]: training,
  [TESTING]: testing,
  [VERIFYING]: verifying,
});

/** Image i: id `img00`…, order_id i + 1. */
export const img = (i: number, extra: Partial<PlanImage> = {}): PlanImage => ({
  imgId: `img${String(i).padStart(2, "0")}`,
  orderId: i + 1,
  ...extra,
});
export const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

/** The plan's sets as id lists in draw order, keyed by name. */
export const sets = (plan: SplitPlan) => ({
  training: plan.drawn[TRAINING],
  verifying: plan.drawn[VERIFYING],
  testing: plan.drawn[TESTING],
});
/** Sorted ids of one set. */
export const sorted = (ids: readonly string[]) => [...ids].sort();
export const ids = (...indexes: number[]) => indexes.map((i) => img(i).imgId).sort();

export function serviceError(fn: () => unknown): ServiceError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    return error as ServiceError;
  }
  throw new Error("expected a ServiceError");
}

/** Checks what every plan must satisfy: setOf aligned with the images, disjoint sets matching setOf. */
export function expectConsistent(plan: SplitPlan, images: readonly PlanImage[]) {
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
