import { TESTING, TRAINING, VERIFYING, type SetSizes, type SetType } from "./model.ts";
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
  /** Images per set (= the counts asked for). */
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

  const ids = new Array<string>(n);
  const orderIds = new Float64Array(n);
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const { imgId, orderId } = images[i] as { imgId: string; orderId: number };
    if (!Number.isFinite(orderId)) throw new Error(`planSplit: order_id of ${imgId} is not a number: ${orderId}`);
    ids[i] = imgId;
    orderIds[i] = orderId;
    order[i] = i;
  }

  // The permutation, over indices: canonical imgId order (storage usually returns it already), then shuffled.
  if (!isCanonicallySorted(ids)) order.sort((a, b) => compareIds(ids[a]!, ids[b]!));
  for (let k = 1; k < n; k++) {
    const id = ids[order[k]!]!;
    if (id === ids[order[k - 1]!]) throw new Error(`planSplit: img_id ${id} appears more than once`);
  }
  shuffle(order, seededRandom(seed));

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

  // Block of every assigned image, from its rank within its set in order_id order.
  const blockOf = new Int32Array(n);
  const rank: Record<SetType, number> = { [TRAINING]: 0, [TESTING]: 0, [VERIFYING]: 0 };
  for (const i of sortByOrderId(order.slice(0, total), orderIds, ids)) {
    blockOf[i] = Math.floor(rank[setOf[i] as SetType]++ / BLOCK_SIZE);
  }

  return {
    drawn,
    setOf,
    blockOf,
    sizes: { [TRAINING]: counts[TRAINING], [TESTING]: counts[TESTING], [VERIFYING]: counts[VERIFYING] },
    unassignedCount: n - total,
  };
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
