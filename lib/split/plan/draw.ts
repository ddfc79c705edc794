import { type SetSizes, type SetType, TESTING, TRAINING, VERIFYING } from "../../model.ts";
import { isCanonicallySorted, seededRandom, shuffle } from "../shuffle.ts";
import { compareIds } from "./names.ts";
import { BIN_OF_SET, DRAW_ORDER, NO_SET, type PlanSets } from "./types.ts";

/**
 * The seeded permutation of the image indices: canonical imgId order (storage usually returns it
 * already), then Fisher–Yates with seededRandom(seed). It is exactly the order
 * `shuffleIds(ids, seed)` gives the ids, computed over indices so that no lookup from id back to
 * image is needed. Throws a plain Error when an img_id repeats.
 */
export function permutation(ids: readonly string[], seed: string): Int32Array {
  const n = ids.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (!isCanonicallySorted(ids)) order.sort((a, b) => compareIds(ids[a]!, ids[b]!));
  for (let k = 1; k < n; k++) {
    const id = ids[order[k]!]!;
    if (id === ids[order[k - 1]!]) throw new Error(`planSplit: img_id ${id} appears more than once`);
  }
  return shuffle(order, seededRandom(seed));
}

/**
 * The plain draw: permutes all images (`ids`) with the seed, then takes training, verifying and
 * testing from the front of the permutation; the rest stay in no set. The caller has checked that
 * the counts are non-negative integers that fit the images.
 */
export function drawPlain(ids: readonly string[], counts: SetSizes, seed: string): PlanSets {
  const n = ids.length;
  const order = permutation(ids, seed);
  const drawn = {} as Record<SetType, string[]>;
  const setOf = new Int8Array(n).fill(-1);
  let next = 0;
  for (const setType of DRAW_ORDER) {
    const members = new Array<string>(counts[setType]);
    for (let k = 0; k < members.length; k++) {
      const i = order[next + k]!;
      setOf[i] = setType;
      members[k] = ids[i]!;
    }
    next += members.length;
    drawn[setType] = members;
  }
  return {
    drawn,
    setOf,
    sizes: { [TRAINING]: counts[TRAINING], [TESTING]: counts[TESTING], [VERIFYING]: counts[VERIFYING] },
    unassignedCount: n - next,
  };
}

/** The sets from the bin of every image (`bin[i]`), each set listed in permutation (`order`) order. */
export function setsFromBins(order: Int32Array, bin: Int8Array, ids: readonly string[]): PlanSets {
  const n = ids.length;
  const setOf = new Int8Array(n).fill(-1);
  const sizes = [0, 0, 0];
  for (let i = 0; i < n; i++) if (bin[i]! >= 0 && bin[i]! < NO_SET) sizes[bin[i]!]!++;
  // Each list made at its size: a million pushes would copy the growing lists over and over.
  const drawn = {} as Record<SetType, string[]>;
  for (const setType of DRAW_ORDER) drawn[setType] = new Array<string>(sizes[BIN_OF_SET[setType]]!);
  const filled = [0, 0, 0];
  let assigned = 0;
  for (const i of order) {
    const b = bin[i]!;
    if (b === NO_SET) continue;
    const setType = DRAW_ORDER[b]!;
    setOf[i] = setType;
    drawn[setType][filled[b]!++] = ids[i]!;
    assigned++;
  }
  return {
    drawn,
    setOf,
    sizes: {
      [TRAINING]: drawn[TRAINING].length,
      [TESTING]: drawn[TESTING].length,
      [VERIFYING]: drawn[VERIFYING].length,
    },
    unassignedCount: n - assigned,
  };
}
