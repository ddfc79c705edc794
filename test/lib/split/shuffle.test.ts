import { createCipheriv, createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { drawSeed, seededRandom, shuffle, shuffleIds } from "../../../lib/split/shuffle.ts";

const TWO_32 = 2 ** 32;

/**
 * The first `count` keystream words of `seed`, computed from the documented definition alone:
 * AES-256-CTR with a zero IV is AES-256 (ECB) applied to the counter blocks 0, 1, 2, … (128-bit big-endian).
 */
function keystreamWords(seed: string, count: number): number[] {
  const key = createHash("sha256").update(`training-sets/shuffle/v1\n${seed}`, "utf8").digest();
  const blocks = Math.ceil(count / 4);
  const counters = Buffer.alloc(16 * blocks);
  for (let b = 0; b < blocks; b++) counters.writeUInt32BE(b, 16 * b + 12);
  const ecb = createCipheriv("aes-256-ecb", key, null).setAutoPadding(false);
  const stream = Buffer.concat([ecb.update(counters), ecb.final()]);
  return Array.from({ length: count }, (_, i) => stream.readUInt32BE(4 * i));
}

/** What `nextInt(bound)` must return over `words`, by the documented rejection rule. */
function boundedFromWords(words: number[], bound: number, count: number): number[] {
  const limit = TWO_32 - (TWO_32 % bound);
  const out: number[] = [];
  for (const word of words) {
    if (out.length === count) break;
    if (word < limit) out.push(word % bound);
  }
  if (out.length < count) throw new Error("not enough words for the expected values");
  return out;
}

const draw = (seed: string, bound: number, count: number): number[] => {
  const next = seededRandom(seed);
  return Array.from({ length: count }, () => next(bound));
};

describe("drawSeed", () => {
  it("gives 32 lowercase hex characters, fresh each time", () => {
    const a = drawSeed();
    const b = drawSeed();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(b).toMatch(/^[0-9a-f]{32}$/);
    expect(a).not.toBe(b);
  });
});

describe("seededRandom", () => {
  it("gives the same sequence for the same seed", () => {
    expect(draw("same", 1_000_000, 50)).toEqual(draw("same", 1_000_000, 50));
  });

  it("gives different sequences for different seeds", () => {
    expect(draw("seed-a", 1_000_000, 20)).not.toEqual(draw("seed-b", 1_000_000, 20));
    expect(draw("1", 1_000_000, 20)).not.toEqual(draw("01", 1_000_000, 20));
  });

  it("stays in [0, bound) for bounds 1, 2, 3 and 2**32, and bound 1 always gives 0", () => {
    for (const bound of [1, 2, 3, 1000, 2 ** 31 + 1, TWO_32]) {
      const values = draw(`range-${bound}`, bound, 2000);
      const outside = values.filter((v) => !Number.isInteger(v) || v < 0 || v >= bound);
      expect(outside).toEqual([]);
      if (bound === 1) expect(new Set(values)).toEqual(new Set([0]));
      if (bound === 2 || bound === 3) expect(new Set(values).size).toBe(bound);
    }
  });

  it("refuses bounds that are not integers in [1, 2**32]", () => {
    const next = seededRandom("bounds");
    for (const bad of [0, -1, 1.5, Number.NaN, TWO_32 + 1, Infinity]) {
      expect(() => next(bad)).toThrow(RangeError);
    }
  });

  it('pins the first five values of seededRandom("42")(1000), recomputed here from AES-256 over counter blocks', () => {
    const pinned = [662, 956, 514, 717, 694];
    expect(boundedFromWords(keystreamWords("42", 16), 1000, 5)).toEqual(pinned);
    expect(draw("42", 1000, 5)).toEqual(pinned);
  });

  it("returns the raw big-endian keystream words when bound is 2**32", () => {
    expect(draw("42", TWO_32, 12)).toEqual(keystreamWords("42", 12));
    expect(draw("img_拓海", TWO_32, 12)).toEqual(keystreamWords("img_拓海", 12));
  });

  it("rejects words at or above the limit and consumes them (bound 2**31 + 1 rejects about half)", () => {
    const bound = 2 ** 31 + 1;
    const words = keystreamWords("reject", 400);
    expect(words.some((w) => w >= bound)).toBe(true); // the rejection path is really taken
    expect(draw("reject", bound, 100)).toEqual(boundedFromWords(words, bound, 100));
  });

  it("follows one continuous keystream across chunk boundaries", () => {
    const count = 70_000; // 280,000 bytes: several chunks of every size the generator uses
    const key = createHash("sha256").update("training-sets/shuffle/v1\nlong", "utf8").digest();
    const stream = createCipheriv("aes-256-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(4 * count));
    const expected = Array.from({ length: count }, (_, i) => stream.readUInt32BE(4 * i));
    expect(draw("long", TWO_32, count)).toEqual(expected);
  });

  it("draws a million bounded integers quickly", () => {
    const next = seededRandom("speed");
    const start = performance.now();
    let sum = 0;
    for (let i = 0; i < 1_000_000; i++) sum += next(1_000_000 - i);
    expect(sum).toBeGreaterThan(0);
    expect(performance.now() - start).toBeLessThan(1000); // ~40 ms on an idle machine; generous for CI
  });
});

describe("shuffle", () => {
  it("is Fisher–Yates from the end: asks bounds n, n-1, …, 2 and swaps i with the answer", () => {
    const asked: number[] = [];
    const items = ["a", "b", "c", "d", "e"];
    const result = shuffle(items, (bound) => {
      asked.push(bound);
      return 0;
    });
    expect(result).toBe(items);
    expect(asked).toEqual([5, 4, 3, 2]);
    // i=4 swaps with 0: e b c d a; i=3: d b c e a; i=2: c b d e a; i=1: b c d e a
    expect(items).toEqual(["b", "c", "d", "e", "a"]);
  });

  it("leaves the array alone when every answer is i itself, and handles 0 and 1 items", () => {
    expect(shuffle([1, 2, 3, 4], (bound) => bound - 1)).toEqual([1, 2, 3, 4]);
    expect(shuffle([], () => 0)).toEqual([]);
    expect(shuffle(["only"], () => 0)).toEqual(["only"]);
  });
});

describe("shuffleIds", () => {
  const ids = Array.from({ length: 200 }, (_, i) => `2018070417860564${String(i).padStart(3, "0")}`);

  it("returns a permutation of the ids and leaves the input untouched", () => {
    const input = [...ids].reverse();
    const before = [...input];
    const out = shuffleIds(input, "perm");
    expect(input).toEqual(before);
    expect(out).not.toBe(input);
    expect([...out].sort()).toEqual([...ids].sort());
    expect(out).not.toEqual([...ids].sort()); // 200 ids: identity has probability 1/200!
  });

  it("gives the same permutation for the same seed whatever order the ids arrive in", () => {
    const sorted = shuffleIds(ids, "order-free");
    const reversed = shuffleIds([...ids].reverse(), "order-free");
    const scrambled = shuffleIds(shuffle([...ids], seededRandom("scramble")), "order-free");
    expect(reversed).toEqual(sorted);
    expect(scrambled).toEqual(sorted);
  });

  it("gives different permutations for different seeds", () => {
    expect(shuffleIds(ids, "one")).not.toEqual(shuffleIds(ids, "two"));
  });

  it("orders ids canonically by UTF-16 code units before shuffling (not by locale)", () => {
    const mixed = ["b", "a", "B", "_", "-", "0", "Z", "z", "é", "e"];
    const codeUnitOrder = [...mixed].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(codeUnitOrder).toEqual(["-", "0", "B", "Z", "_", "a", "b", "e", "z", "é"]);
    expect(shuffleIds(mixed, "canon")).toEqual(shuffle([...codeUnitOrder], seededRandom("canon")));
  });
});

/**
 * Chi-square statistic of item-by-position counts over `runs` shuffles of [0..n-1], scaled so that
 * it follows the chi-square distribution with (n-1)**2 degrees of freedom.
 *
 * Every row and column of the table sums to `runs` exactly (each shuffle puts every item in one
 * position and fills every position once). Pearson's sum Σ (O - E)² / E over the n² cells then
 * has mean n(n-1), not (n-1)²: each cell varies as runs·(1/n)(1 - 1/n), like a multinomial cell,
 * but only (n-1)² cells are free. Multiplying by (n-1)/n gives the mean (n-1)² and, for many runs,
 * the chi-square((n-1)²) distribution (the unscaled sum would fail a correct shuffle about 1.2% of
 * the time at the 0.999 quantile instead of 0.1%).
 */
function positionChiSquare(n: number, runs: number, shuffler: (items: number[], seed: string) => number[]): number {
  const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let k = 0; k < runs; k++) {
    const out = shuffler(
      Array.from({ length: n }, (_, i) => i),
      `u${k}`,
    );
    for (const [position, item] of out.entries()) counts[item]![position]!++;
  }
  const expected = runs / n;
  const pearson = counts.flat().reduce((chi, observed) => chi + (observed - expected) ** 2 / expected, 0);
  return (pearson * (n - 1)) / n;
}

/** Chi-square statistic of the frequencies of all n! orders over `runs` shuffles (n! - 1 degrees of freedom). */
function permutationChiSquare(n: number, runs: number, shuffler: (items: number[], seed: string) => number[]): number {
  const seen = new Map<string, number>();
  for (let k = 0; k < runs; k++) {
    const key = shuffler(
      Array.from({ length: n }, (_, i) => i),
      `p${k}`,
    ).join(",");
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  let factorial = 1;
  for (let i = 2; i <= n; i++) factorial *= i;
  const expected = runs / factorial;
  let chi = (factorial - seen.size) * expected; // orders never seen contribute (0 - e)^2 / e each
  for (const observed of seen.values()) chi += (observed - expected) ** 2 / expected;
  return chi;
}

/** The real thing, through the public entry point (ids are single characters, so canonical order is 0..n-1). */
const viaShuffleIds = (items: number[], seed: string): number[] => shuffleIds(items.map(String), seed).map(Number);
/** The classic mistake: swap every position with any position (n^n equally likely paths over n! orders). */
const naiveShuffle = (items: number[], seed: string): number[] => {
  const next = seededRandom(seed);
  for (let i = items.length - 1; i >= 0; i--) {
    const j = next(items.length);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
};

// 0.999 quantiles of the chi-square distribution: a correct shuffle fails one of these fixed-seed
// checks with probability 0.001, and since the seeds are fixed the outcome never changes.
const CHI2_999_DF16 = 39.25;
const CHI2_999_DF23 = 49.73;

describe("uniformity of seeded shuffles", () => {
  it("puts each of 5 items in each position equally often over 20,000 seeds (chi-square, 16 df)", () => {
    expect(positionChiSquare(5, 20_000, viaShuffleIds)).toBeLessThan(CHI2_999_DF16);
  });

  it("gives all 24 orders of 4 items equally often over 24,000 seeds (chi-square, 23 df)", () => {
    expect(permutationChiSquare(4, 24_000, viaShuffleIds)).toBeLessThan(CHI2_999_DF23);
  });

  it("catches a biased shuffle: the naive swap-with-any fails both checks", () => {
    expect(positionChiSquare(5, 20_000, naiveShuffle)).toBeGreaterThan(CHI2_999_DF16);
    expect(permutationChiSquare(4, 24_000, naiveShuffle)).toBeGreaterThan(CHI2_999_DF23);
  });
});
