/**
 * The split planner: which images go to which set, from a seed, a request and the task's images.
 * `planSplit` is the one entry; the other exports are its types and the pieces tests pin down.
 */
import { ServiceError } from "../../errors.ts";
import { type RareLabelPolicy, type SetSizes, type SplitOptions, TESTING, TRAINING, VERIFYING } from "../../model.ts";
import { checkColumns, columnsOf } from "./columns.ts";
import { drawPlain, permutation, setsFromBins } from "./draw.ts";
import { placeGroups } from "./groups.ts";
import { fillInOrder, fillKeep, preparePool, tooMany } from "./pool.ts";
import { report } from "./report.ts";
import { sizesFromRatios } from "./sizes.ts";
import { fillQuotas, stratifyPool } from "./strata.ts";
import type { PlanColumns, PlanImage, SplitPlan } from "./types.ts";
import { DRAW_ORDER, type PlanRequest } from "./types.ts";

export { placeUnits, type Units } from "./groups.ts";
export { roundShares } from "./rounding.ts";
export { largestRemainder, RATIO_SCALE, sizesFromRatios } from "./sizes.ts";
export {
  ALGORITHM_VERSION,
  ALGORITHM_VERSIONS,
  type PlanColumns,
  type PlanImage,
  type PlanRequest,
  type SplitPlan,
} from "./types.ts";

/**
 * Plans a split, in every mode. All randomness comes from `seed` over the images in canonical
 * img_id order, so the plan does not depend on the order the images arrive in. The images come as
 * objects or, for big tasks, as columns (PlanColumns): the same plan either way. Returns `setOf`
 * aligned with `images`, `drawn` listing each set in the order of the seeded permutation, and the
 * account (sizes achieved, label counts, moves …). Made with ALGORITHM_VERSION.
 *
 * - Sizes: `counts` as given, or `ratios` resolved by sizesFromRatios (largest remainder over the
 *   three sets and the rest; ties by the seed).
 * - The permutation is exactly `shuffleIds(images.map(i => i.imgId), seed)`.
 * - Plain (no stratify_by, group_by, keep or lock_testing): training, then verifying, then testing
 *   from the front of the permutation; the rest stay in no set.
 * - Otherwise images that stay where they are (`keep`: every assigned image; `lock_testing`: the
 *   current testing set) are fixed; the others form the pool, in permutation order, and each bin
 *   (training, verifying, testing, none) has a deficit: its target minus its fixed images
 *   (`lock_testing`: testing's is 0).
 * - Fresh (incl. lock_testing): the pool is drawn from its front, training, then verifying, then
 *   testing, as the plain draw.
 * - keep: each pool image, in permutation order, goes to the set furthest below its target (ties:
 *   training, verifying, testing); once every set is full the rest stay in no set. A set already
 *   above its target would need moves: 1021.
 * - stratify_by "label": the pool's label × bin table is rounded by roundShares (every label gets
 *   the floor or ceiling of its share of every set, totals exact; ties by a seeded order of the
 *   labels) and each label's images, in permutation order, fill its quotas in bin order. A label
 *   with fewer pool images than sets that receive images is rare: "training" puts all its images in
 *   training (1020 if training cannot hold them), "random" pools the rare labels into one stratum
 *   spread in proportion, "error" answers 1020 naming them.
 * - group_by "group": the pool's groups (an image without a group is a group of one) are placed
 *   whole by placeUnits, largest first (ties: permutation order), each into the bin whose deficits
 *   it brings closest to zero (per label when stratified). With keep, a group that already has
 *   images in a set may only join that set (or stay out); with lock_testing, a group that has
 *   images in the locked testing set stays out of every set (`heldBack`). With keep, a group
 *   already spread over several sets cannot be made whole: 1021.
 *
 * Errors the caller answers with: 1007 (sizes exceed the images), 1009 (ratios leave training
 * empty), 1019 (keep with lock_testing), 1020, 1021, 1022 (lock_testing without a current testing
 * set). A plain Error means a caller bug (repeated img_id, bad order_id, bad counts or `current`).
 */
export function planSplit(images: readonly PlanImage[] | PlanColumns, request: PlanRequest, seed: string): SplitPlan {
  const { stratify, grouped, keep, lock, policy } = readOptions(request.options ?? {});
  const columns = "ids" in images ? images : columnsOf(images);
  checkColumns(columns);
  const { ids } = columns;
  const n = ids.length;
  const counts = targetCounts(request, n, seed);
  if (!stratify && !grouped && !keep && !lock) {
    const sum = counts[TRAINING] + counts[VERIFYING] + counts[TESTING];
    if (sum > n) throw tooMany(sum, n);
    return report(drawPlain(ids, counts, seed), columns, { ...counts }, policy, [], 0);
  }

  const order = permutation(ids, seed);
  const { bin, pool, deficit, requested } = preparePool(columns.current, order, counts, keep, lock);
  const strata = stratify ? stratifyPool(columns, pool, deficit, policy, seed) : undefined;
  let heldBack = 0;
  if (grouped) heldBack = placeGroups(columns, pool, bin, deficit, strata, keep, lock);
  else if (strata) fillQuotas(pool, bin, strata);
  else if (keep) fillKeep(pool, bin, deficit);
  else fillInOrder(pool, bin, deficit);
  return report(setsFromBins(order, bin, ids), columns, requested, policy, strata?.rare ?? [], heldBack);
}

/** The modes a request asks for (defaults filled in); keep with lock_testing is refused (1019). */
function readOptions(options: Partial<SplitOptions>) {
  const keep = options.mode === "keep";
  const lock = options.lockTesting === true;
  if (keep && lock) {
    throw new ServiceError(
      1019,
      { field: "lock_testing", rule: '不能与 mode "keep" 同时使用' },
      { detail: 'lock_testing cannot be used with mode "keep"' },
    );
  }
  const policy: RareLabelPolicy = options.rareLabels ?? "training";
  return { stratify: options.stratifyBy === "label", grouped: options.groupBy === "group", keep, lock, policy };
}

/** The counts asked for, or the ratios resolved over `n` images; training must get at least one (1009). */
function targetCounts(request: PlanRequest, n: number, seed: string): SetSizes {
  const counts = request.counts ?? sizesFromRatios(request.ratios, n, seed);
  for (const setType of DRAW_ORDER) {
    if (!Number.isSafeInteger(counts[setType]) || counts[setType] < 0) {
      throw new Error(`planSplit: count for set ${setType} is not a non-negative integer: ${counts[setType]}`);
    }
  }
  if (counts[TRAINING] < 1) {
    throw new ServiceError(
      1009,
      {},
      { detail: `ratios.training of ${n} images rounds to 0 images: training needs at least 1` },
    );
  }
  return counts;
}
