import {
  type SetSizes,
  type SetType,
  type SplitDetails,
  type SplitOptions,
  type SplitSizes,
  TESTING,
  TRAINING,
  VERIFYING,
} from "../../model.ts";

/**
 * The algorithm every plan is made with. A split records it with its seed: the same version,
 * seed, request and images give the same plan forever. Any change to what a plan comes out as
 * (tie-breaks, rounding, order of random draws) must bump it and keep the old one callable.
 */
export const ALGORITHM_VERSION = "v1";
/** Versions planSplit can still reproduce. */
export const ALGORITHM_VERSIONS: readonly string[] = [ALGORITHM_VERSION];

/** One image as the planner needs it. */
export interface PlanImage {
  imgId: string;
  /** Must be a finite number (a caller bug otherwise); the plan does not depend on it. */
  orderId: number;
  /** Class label (stratify_by "label"). */
  label?: string | undefined;
  /** Group (group_by "group"): all images of a group land in one set. */
  group?: string | undefined;
  /** Its set in the live split; undefined when it is in none (or the task was never split). */
  current?: SetType | undefined;
}

/**
 * The images a split plans over, one column per field: image i is `ids[i]`, `orderIds[i]`, … At a
 * million images one object each would be most of a split's memory; here a label or group is a
 * number into its list of distinct names.
 */
export interface PlanColumns {
  ids: readonly string[];
  /** Must be finite numbers (a caller bug otherwise); the plan does not depend on them. */
  orderIds: ArrayLike<number>;
  /** Label of image i: `labels[labelOf[i]]`, or none when -1. The names in `labels` are distinct. */
  labelOf: Int32Array;
  labels: readonly string[];
  /** Group of image i: `groups[groupOf[i]]`, or none when -1. The names in `groups` are distinct. */
  groupOf: Int32Array;
  groups: readonly string[];
  /** Set type of image i in the live split, -1 when in none; absent when the task was never split. */
  current?: Int8Array | undefined;
}

/** Sizes (counts or ratios) and options, as SplitSpec carries them; missing options take their defaults. */
export type PlanRequest = SplitSizes & { options?: Partial<SplitOptions> | undefined };

/** A plan: the sets, aligned with the images it was made from, and what a response or a dry run reports about it. */
export interface SplitPlan extends Omit<SplitDetails, "achieved" | "dryRun"> {
  /** Image ids of each set in the order they were drawn. */
  drawn: Record<SetType, string[]>;
  /** Set type of images[i], or -1 when images[i] is in no set. */
  setOf: Int8Array;
  /** Images per set, as achieved (differs from `requested` only with group_by). */
  sizes: SetSizes;
  unassignedCount: number;
}

/** The sets of a plan before its account is added. */
export type PlanSets = Pick<SplitPlan, "drawn" | "setOf" | "sizes" | "unassignedCount">;

/** Sets in the order they are drawn from the permutation (the legacy API's response order). */
export const DRAW_ORDER: readonly SetType[] = [TRAINING, VERIFYING, TESTING];
/** Bins the general planner fills: the sets in draw order, then "in no set". */
export const BINS = 4;
export const NO_SET = 3;
export const BIN_OF_SET: Record<SetType, number> = { [TRAINING]: 0, [VERIFYING]: 1, [TESTING]: 2 };
