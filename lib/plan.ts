import { ServiceError } from "./errors.ts";
import {
  type LabelCount,
  type RareLabel,
  type RareLabelPolicy,
  type SetSizes,
  type SetType,
  type SplitDetails,
  type SplitOptions,
  type SplitSizes,
  TESTING,
  TRAINING,
  VERIFYING,
} from "./model.ts";
import { placeUnits } from "./plan-groups.ts";
import { roundShares } from "./plan-rounding.ts";
import { sizesFromRatios, tieBreaker } from "./plan-sizes.ts";
import { isCanonicallySorted, seededRandom, shuffle } from "./shuffle.ts";

/** Images per index block: the block of the image with rank r (1-based, order_id order within its set) is floor((r-1)/BLOCK_SIZE). */
export const BLOCK_SIZE = 10_000;

export interface SplitPlan {
  /** Image ids of each set in the order they were drawn. */
  drawn: Record<SetType, string[]>;
  /** Set type of images[i], or -1 when images[i] is in no set. */
  setOf: Int8Array;
  /** Index block of images[i] within its set (meaningless when setOf[i] is -1). */
  blockOf: Int32Array;
  /** Images per set: planSplit's are the counts asked for; planSplitWith's are the sizes achieved. */
  sizes: SetSizes;
  unassignedCount: number;
}

/** Sets in the order they are drawn from the permutation (the seed's response order). */
const DRAW_ORDER: readonly SetType[] = [TRAINING, VERIFYING, TESTING];

/** Index blocks a set of `size` images occupies. */
export function blockCount(size: number): number {
  return Math.ceil(size / BLOCK_SIZE);
}

/**
 * Plans a split: permutes all images with the seed, then draws training, verifying and testing
 * from the front of the permutation (the rest stay unassigned), and gives every assigned image
 * its block from its rank in order_id order within its set. Set and block are returned as arrays
 * aligned with `images` (`setOf[i]`, `blockOf[i]` describe `images[i]`).
 *
 * The permutation is exactly `shuffleIds(images.map(i => i.imgId), seed)`; it is computed here
 * over image indices (canonically sorted by imgId, then shuffled with the same generator), which
 * yields the same order without a lookup from id back to image.
 *
 * Throws a plain Error when the counts exceed the images or img_ids repeat (callers validate first).
 */
export function planSplit(
  images: readonly { imgId: string; orderId: number }[],
  counts: SetSizes,
  seed: string,
): SplitPlan {
  const n = images.length;
  const total = counts[TRAINING] + counts[VERIFYING] + counts[TESTING];
  for (const setType of DRAW_ORDER) {
    if (!Number.isSafeInteger(counts[setType]) || counts[setType] < 0) {
      throw new Error(`planSplit: count for set ${setType} is not a non-negative integer: ${counts[setType]}`);
    }
  }
  if (total > n) throw new Error(`planSplit: counts sum to ${total}, more than the ${n} images`);

  const { ids, orderIds } = readImages(images, "planSplit");
  const order = permutation(ids, seed, "planSplit");

  // Draw the sets from the front of the permutation.
  const drawn = {} as Record<SetType, string[]>;
  const setOf = new Int8Array(n).fill(-1);
  let next = 0;
  for (const setType of DRAW_ORDER) {
    const members = order.slice(next, next + counts[setType]);
    next += members.length;
    for (const i of members) setOf[i] = setType;
    drawn[setType] = members.map((i) => ids[i]!);
  }

  return {
    drawn,
    setOf,
    blockOf: blocksOf(order.slice(0, total), setOf, orderIds, ids),
    sizes: { [TRAINING]: counts[TRAINING], [TESTING]: counts[TESTING], [VERIFYING]: counts[VERIFYING] },
    unassignedCount: n - total,
  };
}

/** The ids and order_ids of `images` as arrays; throws a plain Error for an order_id that is not a finite number. */
function readImages(images: readonly { imgId: string; orderId: number }[], caller: string) {
  const n = images.length;
  const ids = new Array<string>(n);
  const orderIds = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const { imgId, orderId } = images[i] as { imgId: string; orderId: number };
    if (!Number.isFinite(orderId)) throw new Error(`${caller}: order_id of ${imgId} is not a number: ${orderId}`);
    ids[i] = imgId;
    orderIds[i] = orderId;
  }
  return { ids, orderIds };
}

/**
 * The seeded permutation of the image indices: canonical imgId order (storage usually returns it
 * already), then Fisher–Yates with seededRandom(seed) — the order shuffleIds gives the ids.
 * Throws a plain Error when an img_id repeats.
 */
function permutation(ids: readonly string[], seed: string, caller: string): number[] {
  const n = ids.length;
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (!isCanonicallySorted(ids)) order.sort((a, b) => compareIds(ids[a]!, ids[b]!));
  for (let k = 1; k < n; k++) {
    const id = ids[order[k]!]!;
    if (id === ids[order[k - 1]!]) throw new Error(`${caller}: img_id ${id} appears more than once`);
  }
  return shuffle(order, seededRandom(seed));
}

/** Block of every assigned image (`members`), from its rank within its set in order_id order. */
function blocksOf(members: number[], setOf: Int8Array, orderIds: Float64Array, ids: readonly string[]): Int32Array {
  const blockOf = new Int32Array(setOf.length);
  const rank: Record<SetType, number> = { [TRAINING]: 0, [TESTING]: 0, [VERIFYING]: 0 };
  for (const i of sortByOrderId(members, orderIds, ids)) {
    blockOf[i] = Math.floor(rank[setOf[i] as SetType]++ / BLOCK_SIZE);
  }
  return blockOf;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The image indices `members` in ascending order_id (ties, which storage never produces, by imgId).
 * order_ids count a task's registrations (1, 2, 3 …), so they are usually distinct integers in a
 * narrow range: then placing each index at its order_id puts them in order in linear time.
 * Anything else (gaps far wider than the set, fractions, repeats) is sorted.
 */
function sortByOrderId(members: number[], orderIds: Float64Array, ids: readonly string[]): Int32Array {
  let min = Infinity;
  let max = -Infinity;
  let integers = true;
  for (const i of members) {
    const orderId = orderIds[i]!;
    integers &&= Number.isSafeInteger(orderId);
    if (orderId < min) min = orderId;
    if (orderId > max) max = orderId;
  }
  if (integers && members.length > 0 && max - min < 4 * members.length + 1024) {
    const at = new Int32Array(max - min + 1).fill(-1);
    let distinct = true;
    for (const i of members) {
      const slot = orderIds[i]! - min;
      if (at[slot] !== -1) distinct = false;
      at[slot] = i;
    }
    if (distinct) {
      const sorted = new Int32Array(members.length);
      let k = 0;
      for (const i of at) if (i !== -1) sorted[k++] = i;
      return sorted;
    }
  }
  return Int32Array.from(members).sort((a, b) => orderIds[a]! - orderIds[b]! || compareIds(ids[a]!, ids[b]!));
}

// ---- the split modes of the issue: ratios, stratified, group-aware, keep, lock_testing ----

/**
 * The algorithm every plan below is made with. A split records it with its seed: the same
 * version, seed, request and images give the same plan forever. Any change to what a plan comes
 * out as (tie-breaks, rounding, order of random draws) must bump it and keep the old one callable.
 */
export const ALGORITHM_VERSION = "v1";
/** Versions planSplitWith can still reproduce. */
export const ALGORITHM_VERSIONS: readonly string[] = [ALGORITHM_VERSION];

/** One image as the general planner needs it. */
export interface PlanImage {
  imgId: string;
  orderId: number;
  /** Class label (stratify_by "label"). */
  label?: string | undefined;
  /** Group (group_by "group"): all images of a group land in one set. */
  group?: string | undefined;
  /** Its set in the live split; undefined when it is in none (or the task was never split). */
  current?: SetType | undefined;
}

/** Sizes (counts or ratios) and options, as SplitSpec carries them; missing options take their defaults. */
export type PlanRequest = SplitSizes & { options?: Partial<SplitOptions> | undefined };

/** A plan plus what a response or a dry run reports about it. `sizes` are the sizes achieved. */
export interface SplitPlanReport extends SplitPlan, Omit<SplitDetails, "achieved" | "dryRun"> {}

/** Bins the general planner fills: the sets in draw order, then "in no set". */
const BINS = 4;
const NO_SET = 3;
const BIN_OF_SET: Record<SetType, number> = { [TRAINING]: 0, [VERIFYING]: 1, [TESTING]: 2 };
const SET_NAMES = ["训练集", "验证集", "测试集"] as const;
/** Labels named in an error message at most; the rest are counted. */
const LISTED_LABELS = 20;

const listLabels = (labels: readonly string[]) =>
  labels.length <= LISTED_LABELS
    ? labels.join("、")
    : `${labels.slice(0, LISTED_LABELS).join("、")} 等 ${labels.length} 个`;

/**
 * Plans a split with the options of the issue. One entry for every mode; all randomness comes from
 * `seed` over the images in canonical img_id order, so the plan does not depend on input order.
 * Returns arrays aligned with `images` as planSplit does (`setOf`, `blockOf`; blocks from the rank
 * in order_id order within each set), `drawn` listing each set in the order of the seeded
 * permutation, and a report.
 *
 * - Sizes: `counts` as given, or `ratios` resolved by sizesFromRatios (largest remainder over the
 *   three sets and the rest; ties by the seed).
 * - Plain (no stratify_by, group_by, keep or lock_testing): exactly planSplit(images, sizes, seed).
 * - Otherwise every image is first put in the seeded permutation (the one planSplit draws from).
 *   Images that stay where they are (`keep`: every assigned image; `lock_testing`: the current
 *   testing set) are fixed; the others form the pool, and each bin (training, verifying, testing,
 *   none) has a deficit: its target minus its fixed images (`lock_testing`: testing's is 0).
 * - Fresh (incl. lock_testing): the pool is drawn from the front of the permutation, training,
 *   then verifying, then testing, as planSplit draws.
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
 * set). A plain Error means a caller bug (repeated img_id, bad order_id, bad counts).
 */
export function planSplitWith(
  images: readonly PlanImage[],
  request: PlanRequest,
  seed: string,
  algorithm: string = ALGORITHM_VERSION,
): SplitPlanReport {
  if (!ALGORITHM_VERSIONS.includes(algorithm)) throw new Error(`planSplitWith: unknown algorithm ${algorithm}`);
  const options = request.options ?? {};
  const stratify = options.stratifyBy === "label";
  const grouped = options.groupBy === "group";
  const keep = options.mode === "keep";
  const lock = options.lockTesting === true;
  const policy: RareLabelPolicy = options.rareLabels ?? "training";
  if (keep && lock) throw new ServiceError(1019, { field: "lock_testing", rule: '不能与 mode "keep" 同时使用' });

  const n = images.length;
  const counts = request.counts ?? sizesFromRatios(request.ratios, n, seed);
  for (const setType of DRAW_ORDER) {
    if (!Number.isSafeInteger(counts[setType]) || counts[setType] < 0) {
      throw new Error(`planSplitWith: count for set ${setType} is not a non-negative integer: ${counts[setType]}`);
    }
  }
  if (counts[TRAINING] < 1) throw new ServiceError(1009);

  if (!stratify && !grouped && !keep && !lock) {
    const sum = counts[TRAINING] + counts[VERIFYING] + counts[TESTING];
    if (sum > n) throw new ServiceError(1007, { sum, total: n });
    return report(planSplit(images, counts, seed), images, { ...counts }, policy, [], 0);
  }

  const { ids, orderIds } = readImages(images, "planSplitWith");
  const order = permutation(ids, seed, "planSplitWith");

  // Fixed images and the targets.
  const bin = new Int8Array(n).fill(-1);
  const fixed = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const current = images[i]!.current;
    if (current === undefined) continue;
    if (current !== TRAINING && current !== TESTING && current !== VERIFYING) {
      throw new Error(`planSplitWith: current set of ${ids[i]} is not a set type: ${String(current)}`);
    }
    if (keep || (lock && current === TESTING)) {
      bin[i] = BIN_OF_SET[current];
      fixed[BIN_OF_SET[current]]!++;
    }
  }
  if (lock && fixed[2] === 0) throw new ServiceError(1022);
  const target = [counts[TRAINING], counts[VERIFYING], lock ? fixed[2]! : counts[TESTING]];
  const sum = target[0]! + target[1]! + target[2]!;
  if (sum > n) throw new ServiceError(1007, { sum, total: n });
  for (let b = 0; b < 3; b++) {
    if (fixed[b]! > target[b]!) {
      throw new ServiceError(1021, { reason: `${SET_NAMES[b]}已有 ${fixed[b]} 张图像，超过目标 ${target[b]}` });
    }
  }
  const pool = Int32Array.from(order.filter((i) => bin[i] === -1));
  const deficit = [target[0]! - fixed[0]!, target[1]! - fixed[1]!, target[2]! - fixed[2]!];
  deficit.push(pool.length - deficit[0]! - deficit[1]! - deficit[2]!);

  const strata = stratify ? stratifyPool(images, pool, deficit, policy, seed) : undefined;
  let heldBack = 0;
  if (grouped) {
    heldBack = placeGroups(images, pool, bin, deficit, strata, keep, lock);
  } else if (strata) {
    // Each label's images, in permutation order, fill its quotas in bin order.
    const quota = strata.quota;
    for (const i of pool) {
      const row = strata.rowOf[i]!;
      let b = 0;
      while (quota[row * BINS + b] === 0) b++;
      quota[row * BINS + b]!--;
      bin[i] = b;
    }
  } else if (keep) {
    for (const i of pool) {
      let best = NO_SET;
      for (let b = 0; b < 3; b++) if (deficit[b]! > 0 && (best === NO_SET || deficit[b]! > deficit[best]!)) best = b;
      deficit[best]!--;
      bin[i] = best;
    }
  } else {
    let b = 0;
    for (const i of pool) {
      while (b < NO_SET && deficit[b] === 0) b++;
      if (b < NO_SET) deficit[b]!--;
      bin[i] = b;
    }
  }

  const setOf = new Int8Array(n).fill(-1);
  const drawn: Record<SetType, string[]> = { [TRAINING]: [], [TESTING]: [], [VERIFYING]: [] };
  const members: number[] = [];
  for (const i of order) {
    const b = bin[i]!;
    if (b === NO_SET) continue;
    const setType = DRAW_ORDER[b]!;
    setOf[i] = setType;
    drawn[setType].push(ids[i]!);
    members.push(i);
  }
  const plan: SplitPlan = {
    drawn,
    setOf,
    blockOf: blocksOf(members, setOf, orderIds, ids),
    sizes: {
      [TRAINING]: drawn[TRAINING].length,
      [TESTING]: drawn[TESTING].length,
      [VERIFYING]: drawn[VERIFYING].length,
    },
    unassignedCount: n - members.length,
  };
  const requested = { [TRAINING]: target[0]!, [VERIFYING]: target[1]!, [TESTING]: target[2]! };
  return report(plan, images, requested, policy, strata?.rare ?? [], heldBack);
}

interface Strata {
  /** Stratum (row) of images[i], for pool images. */
  rowOf: Int32Array;
  /** Rows × bins: how many images of each stratum each bin should get (row-major). */
  quota: Float64Array;
  /** Rare labels, code-unit order. */
  rare: string[];
}

/**
 * The strata of the pool and their quotas per bin. Rows in canonical order: the labels (code-unit
 * order), then the unlabelled images, then (rare_labels "random") the rare labels pooled.
 */
function stratifyPool(
  images: readonly PlanImage[],
  pool: Int32Array,
  deficit: readonly number[],
  policy: RareLabelPolicy,
  seed: string,
): Strata {
  // Labels numbered in order of appearance, then sized: one map lookup per image.
  const numberOf = new Map<string, number>();
  const labelOf = new Int32Array(images.length).fill(-1);
  const found: string[] = [];
  const sizes: number[] = [];
  let unlabelled = 0;
  for (const i of pool) {
    const label = images[i]!.label;
    if (label === undefined) {
      unlabelled++;
      continue;
    }
    let k = numberOf.get(label);
    if (k === undefined) {
      k = found.length;
      numberOf.set(label, k);
      found.push(label);
      sizes.push(0);
    }
    sizes[k]!++;
    labelOf[i] = k;
  }
  const receiving = deficit.slice(0, 3).filter((d) => d > 0).length;
  const labels = found.map((_, k) => k).sort((a, b) => compareIds(found[a]!, found[b]!));
  const rare = labels.filter((k) => sizes[k]! < receiving);
  const rareNames = rare.map((k) => found[k]!);
  const rareTotal = rare.reduce((total, k) => total + sizes[k]!, 0);
  if (rare.length > 0 && (policy === "error" || (policy === "training" && rareTotal > deficit[0]!))) {
    throw new ServiceError(1020, { policy, labels: listLabels(rareNames) });
  }

  const isRare = new Uint8Array(found.length);
  for (const k of rare) isRare[k] = 1;
  const rowOfLabel = new Int32Array(found.length);
  const totals: number[] = [];
  const pinned: boolean[] = []; // rows placed whole in training (rare, policy "training")
  for (const k of labels) {
    if (isRare[k] && policy === "random") continue;
    rowOfLabel[k] = totals.length;
    totals.push(sizes[k]!);
    pinned.push(isRare[k] === 1);
  }
  const noLabelRow = totals.length;
  if (unlabelled > 0) {
    totals.push(unlabelled);
    pinned.push(false);
  }
  if (policy === "random" && rare.length > 0) {
    for (const k of rare) rowOfLabel[k] = totals.length;
    totals.push(rareTotal);
    pinned.push(false);
  }

  const rows = totals.length;
  const rank = new Array<number>(rows);
  shuffle(
    Array.from({ length: rows }, (_, r) => r),
    tieBreaker(seed, "strata"),
  ).forEach((row, position) => {
    rank[row] = position;
  });
  const free = totals.map((_, r) => r).filter((r) => !pinned[r]);
  const cols = deficit.slice();
  for (let r = 0; r < rows; r++) if (pinned[r]) cols[0]! -= totals[r]!;
  const rounded = roundShares(
    free.map((r) => totals[r]!),
    cols,
    free.map((r) => rank[r]!),
  );
  const quota = new Float64Array(rows * BINS);
  for (let r = 0; r < rows; r++) if (pinned[r]) quota[r * BINS] = totals[r]!;
  free.forEach((r, k) => {
    for (let b = 0; b < BINS; b++) quota[r * BINS + b] = rounded[k * BINS + b]!;
  });

  const rowOf = new Int32Array(images.length).fill(-1);
  for (const i of pool) rowOf[i] = labelOf[i] === -1 ? noLabelRow : rowOfLabel[labelOf[i]!]!;
  return { rowOf, quota, rare: rareNames };
}

/**
 * Places the pool's groups whole (placeUnits) and writes their bins into `bin`. Returns how many
 * images were held back because their group is in the locked testing set.
 */
function placeGroups(
  images: readonly PlanImage[],
  pool: Int32Array,
  bin: Int8Array,
  deficit: readonly number[],
  strata: Strata | undefined,
  keep: boolean,
  lock: boolean,
): number {
  // Where the fixed images already hold each group.
  const anchor = new Map<string, number>();
  const spread = new Set<string>();
  for (let i = 0; i < images.length; i++) {
    if (bin[i] === -1) continue;
    const group = images[i]!.group;
    if (group === undefined) continue;
    const held = anchor.get(group);
    if (held === undefined) anchor.set(group, bin[i]!);
    else if (held !== bin[i]) spread.add(group);
  }
  if (keep && spread.size > 0) {
    throw new ServiceError(1021, { reason: `组 ${listLabels([...spread].sort(compareIds))} 已分布在多个集合中` });
  }

  // Units numbered in permutation order of their first image.
  const everywhere = lock ? 0b1011 : 0b1111; // a locked testing set takes no new images
  const unitOf = new Int32Array(images.length);
  const unitOfGroup = new Map<string, number>();
  const sizes: number[] = [];
  const allowed: number[] = [];
  for (const i of pool) {
    const group = images[i]!.group;
    let u = group === undefined ? undefined : unitOfGroup.get(group);
    if (u === undefined) {
      u = sizes.length;
      const held = group === undefined ? undefined : anchor.get(group);
      sizes.push(0);
      allowed.push(held === undefined ? everywhere : lock ? 1 << NO_SET : (1 << held) | (1 << NO_SET));
      if (group !== undefined) unitOfGroup.set(group, u);
    }
    sizes[u]!++;
    unitOf[i] = u;
  }
  const count = sizes.length;
  let heldBack = 0;
  for (let u = 0; u < count; u++) if (allowed[u] === 1 << NO_SET) heldBack += sizes[u]!;

  // Each unit's strata and their image counts (CSR): images bucketed by unit, then counted per row.
  const start = new Int32Array(count + 1);
  const rowList: number[] = [];
  const countList: number[] = [];
  if (strata) {
    const first = new Int32Array(count + 1);
    for (let u = 0; u < count; u++) first[u + 1] = first[u]! + sizes[u]!;
    const fill = first.slice(0, count);
    const byUnit = new Int32Array(pool.length);
    for (const i of pool) byUnit[fill[unitOf[i]!]!++] = i;
    const tally = new Int32Array(strata.quota.length / BINS);
    for (let u = 0; u < count; u++) {
      start[u] = rowList.length;
      for (let k = first[u]!; k < first[u + 1]!; k++) {
        const row = strata.rowOf[byUnit[k]!]!;
        if (tally[row]!++ === 0) rowList.push(row);
      }
      for (let k = start[u]!; k < rowList.length; k++) {
        countList.push(tally[rowList[k]!]!);
        tally[rowList[k]!] = 0;
      }
    }
    start[count] = rowList.length;
  } else {
    for (let u = 0; u < count; u++) {
      start[u] = u;
      rowList.push(0);
      countList.push(sizes[u]!);
    }
    start[count] = count;
  }

  const placed = placeUnits(
    {
      size: Int32Array.from(sizes),
      allowed: Uint8Array.from(allowed),
      start,
      rows: Int32Array.from(rowList),
      counts: Int32Array.from(countList),
    },
    strata ? strata.quota : Float64Array.from(deficit),
    Float64Array.from(deficit),
  );
  for (const i of pool) bin[i] = placed[unitOf[i]!]!;
  return heldBack;
}

/** The report around a finished plan: label histogram, rare labels, moves, leaked groups. */
function report(
  plan: SplitPlan,
  images: readonly PlanImage[],
  requested: SetSizes,
  rareLabelPolicy: RareLabelPolicy,
  rare: readonly string[],
  heldBack: number,
): SplitPlanReport {
  const anyLabel = images.some((image) => image.label !== undefined);
  const byLabel = new Map<string | null, LabelCount>();
  const firstSet = new Map<string, number>();
  const leaked = new Set<string>();
  let moved = 0;
  let newlyAssigned = 0;
  for (let i = 0; i < images.length; i++) {
    const { label, group, current } = images[i]!;
    const setType = plan.setOf[i]!;
    if (current === undefined) {
      if (setType !== -1) newlyAssigned++;
    } else if (setType !== current) {
      moved++;
    }
    if (anyLabel) {
      const key = label ?? null;
      let entry = byLabel.get(key);
      if (entry === undefined) {
        entry = { label: key, sizes: { [TRAINING]: 0, [TESTING]: 0, [VERIFYING]: 0 }, unassigned: 0 };
        byLabel.set(key, entry);
      }
      if (setType === -1) entry.unassigned++;
      else entry.sizes[setType as SetType]++;
    }
    if (group !== undefined && setType !== -1) {
      const seen = firstSet.get(group);
      if (seen === undefined) firstSet.set(group, setType);
      else if (seen !== setType) leaked.add(group);
    }
  }
  const labelCounts = [...byLabel.values()].sort((a, b) =>
    a.label === null ? 1 : b.label === null ? -1 : compareIds(a.label, b.label),
  );
  const rareLabels = rare.map((label): RareLabel => ({ ...(byLabel.get(label) as LabelCount), label }));
  return {
    ...plan,
    algorithm: ALGORITHM_VERSION,
    requested,
    labelCounts,
    rareLabelPolicy,
    rareLabels,
    moved,
    newlyAssigned,
    leakedGroups: [...leaked].sort(compareIds),
    heldBack,
  };
}
