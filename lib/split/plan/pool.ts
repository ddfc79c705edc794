import { ServiceError } from "../../errors.ts";
import { type SetSizes, type SetType, TESTING, TRAINING, VERIFYING } from "../../model.ts";
import { SET_NAMES } from "./names.ts";
import { BIN_OF_SET, NO_SET } from "./types.ts";

/** The images that stay where they are, and what is left to place. */
export interface Pool {
  /** Bin of images[i]: set for the fixed images, -1 for the pool's until they are placed. */
  bin: Int8Array;
  /** The images to place, in permutation order. */
  pool: Int32Array;
  /** Per bin (training, verifying, testing, none): images the pool must still give it. */
  deficit: number[];
  /** The target sizes (with lock_testing, testing's is the locked set's size). */
  requested: SetSizes;
}

/**
 * Fixes the images that stay where they are (`keep`: every assigned image; `lock`: the current
 * testing set; `current[i]` is image i's set in the live split), and sets each bin's deficit: its
 * target minus its fixed images. Refuses with 1022 (lock_testing without a current testing set),
 * 1007 (targets beyond the images) and 1021 (a set already above its target).
 */
export function preparePool(
  current: Int8Array | undefined,
  order: Int32Array,
  counts: SetSizes,
  keep: boolean,
  lock: boolean,
): Pool {
  const n = order.length;
  const bin = new Int8Array(n).fill(-1);
  const fixed = [0, 0, 0];
  if (current && (keep || lock)) {
    for (let i = 0; i < n; i++) {
      const setType = current[i]!;
      if (setType === -1 || (!keep && setType !== TESTING)) continue;
      bin[i] = BIN_OF_SET[setType as SetType];
      fixed[bin[i]!]!++;
    }
  }
  if (lock && fixed[2] === 0) {
    throw new ServiceError(1022, {}, { detail: "lock_testing needs a live split whose testing set has images" });
  }
  const target = [counts[TRAINING], counts[VERIFYING], lock ? fixed[2]! : counts[TESTING]];
  const sum = target[0]! + target[1]! + target[2]!;
  if (sum > n) throw tooMany(sum, n);
  for (let b = 0; b < 3; b++) {
    if (fixed[b]! > target[b]!) {
      throw new ServiceError(
        1021,
        { reason: `${SET_NAMES[b]}已有 ${fixed[b]} 张图像，超过目标 ${target[b]}` },
        {
          detail: `mode keep: the ${["training", "verifying", "testing"][b]} set already holds ${fixed[b]} images, more than its target ${target[b]}`,
        },
      );
    }
  }
  const pool = new Int32Array(n - fixed[0]! - fixed[1]! - fixed[2]!);
  let next = 0;
  for (const i of order) if (bin[i] === -1) pool[next++] = i;
  const deficit = [target[0]! - fixed[0]!, target[1]! - fixed[1]!, target[2]! - fixed[2]!];
  deficit.push(pool.length - deficit[0]! - deficit[1]! - deficit[2]!);
  const requested = { [TRAINING]: target[0]!, [VERIFYING]: target[1]!, [TESTING]: target[2]! };
  return { bin, pool, deficit, requested };
}

/** Fresh: the pool, in permutation order, fills training, then verifying, then testing; the rest go in no set. */
export function fillInOrder(pool: Int32Array, bin: Int8Array, deficit: number[]): void {
  let b = 0;
  for (const i of pool) {
    while (b < NO_SET && deficit[b] === 0) b++;
    if (b < NO_SET) deficit[b]!--;
    bin[i] = b;
  }
}

/**
 * keep: each pool image, in permutation order, goes to the set furthest below its target (ties:
 * training, verifying, testing); once every set is full the rest go in no set.
 */
export function fillKeep(pool: Int32Array, bin: Int8Array, deficit: number[]): void {
  for (const i of pool) {
    let best = NO_SET;
    for (let b = 0; b < 3; b++) if (deficit[b]! > 0 && (best === NO_SET || deficit[b]! > deficit[best]!)) best = b;
    deficit[best]!--;
    bin[i] = best;
  }
}

/** 1007: the sets would need more images than the task has. */
export const tooMany = (sum: number, total: number) =>
  new ServiceError(1007, { sum, total }, { detail: `the sets need ${sum} images, the task has ${total}` });
