import { type SetRatios, type SetSizes, TESTING, TRAINING, VERIFYING } from "../../model.ts";
import { seededRandom, shuffle } from "../shuffle.ts";

/** Ratios are read to nine decimal places: r counts as round(r · 10⁹) / 10⁹, so sizes never depend on binary rounding. */
export const RATIO_SCALE = 1_000_000_000;

/**
 * The generator for the tie-breaks of `purpose` in a split with `seed`: a stream of its own, so
 * breaking ties never shifts the main permutation (which stays exactly `seededRandom(seed)`).
 */
export function tieBreaker(seed: string, purpose: string): (bound: number) => number {
  return seededRandom(`${seed}\n#${purpose}`);
}

/**
 * Largest remainder (Hamilton) apportionment of `total` over shares whose exact values are
 * `total · weights[i] / Σ weights` (weights are non-negative integers, Σ > 0): every share gets
 * its floor, and the units left over go one each to the largest remainders, ties to the smaller
 * `rank`. The result adds up to `total` exactly and each entry is the floor or the ceiling of its
 * exact value. Exact integer arithmetic throughout (BigInt), so no float ever decides a size.
 */
export function largestRemainder(total: number, weights: readonly number[], rank: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const big = BigInt(sum);
  const floors = weights.map((w) => Number((BigInt(total) * BigInt(w)) / big));
  const rests = weights.map((w) => (BigInt(total) * BigInt(w)) % big);
  let left = total - floors.reduce((a, b) => a + b, 0);
  const byRemainder = weights
    .map((_, i) => i)
    .sort((a, b) => (rests[a]! > rests[b]! ? -1 : rests[a]! < rests[b]! ? 1 : rank[a]! - rank[b]!));
  for (const i of byRemainder) {
    if (left === 0) break;
    floors[i]!++;
    left--;
  }
  return floors;
}

/**
 * Set sizes for `ratios` of `total` images. The three ratios and the rest (1 − their sum, the
 * unassigned share) are apportioned by largest remainder, so training + verifying + testing +
 * unassigned = `total` exactly and every size is the floor or the ceiling of ratio · total. Ties
 * between equal remainders are broken by a seeded order of the four shares
 * (`tieBreaker(seed, "sizes")` shuffling [training, verifying, testing, rest]).
 *
 * Training may come out 0 for a tiny task (0.3 of 1 image); the caller decides what that means.
 */
export function sizesFromRatios(ratios: SetRatios, total: number, seed: string): SetSizes {
  const scaled = [ratios[TRAINING], ratios[VERIFYING], ratios[TESTING]].map((r) => Math.round(r * RATIO_SCALE));
  const used = scaled.reduce((a, b) => a + b, 0);
  // A sum just above 1 (allowed by the validator's tolerance) leaves no rest and is read as exactly 1.
  const weights = [...scaled, Math.max(0, RATIO_SCALE - used)];
  const rank = new Array<number>(4);
  shuffle([0, 1, 2, 3], tieBreaker(seed, "sizes")).forEach((share, position) => {
    rank[share] = position;
  });
  const [training, verifying, testing] = largestRemainder(total, weights, rank) as [number, number, number, number];
  return { [TRAINING]: training, [TESTING]: testing, [VERIFYING]: verifying };
}
