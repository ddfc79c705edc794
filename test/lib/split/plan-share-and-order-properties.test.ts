import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ServiceError } from "../../../lib/errors.ts";
import { type SetType, TESTING, TRAINING, VERIFYING } from "../../../lib/model.ts";
import { planSplit, roundShares, type SplitPlan } from "../../../lib/split/plan/index.ts";
import { seededRandom, shuffle, shuffleIds } from "../../../lib/split/shuffle.ts";
import {
  asked,
  attempt,
  countsArb,
  imagesArb,
  placement,
  plannableArb,
  planOrJustifiedRefusal,
  REACHED,
  RUNS,
  refusedIn,
  runs,
  SETS,
  scenarioArb,
  seedArb,
  strataOf,
} from "./plan-scenarios.ts";

describe("every planner (fast-check)", () => {
  it("gives each label of a fresh stratified plan the floor or ceiling of its share of every set", () => {
    const tally = runs();
    const options = { stratifyBy: "label" as const, rareLabels: "random" as const };
    fc.assert(
      fc.property(plannableArb(fc.constant(options)), (scenario) => {
        // Rare labels are pooled, so they have no share of their own: the property is about the others.
        fc.pre(strataOf(scenario, asked(scenario), () => false).rare.length === 0);
        const plan = planOrJustifiedRefusal(scenario, tally);
        if (plan === undefined) return;
        expect(plan.rareLabels).toEqual([]);
        const n = scenario.images.length;
        const sizes = [plan.sizes[TRAINING], plan.sizes[VERIFYING], plan.sizes[TESTING], plan.unassignedCount];
        const labels = new Map<string | undefined, number[]>();
        scenario.images.forEach((image, i) => {
          const row = labels.get(image.label) ?? [0, 0, 0, 0];
          const setType = plan.setOf[i]!;
          row[setType === -1 ? 3 : SETS.indexOf(setType as SetType)]!++;
          labels.set(image.label, row);
        });
        for (const row of labels.values()) {
          const total = row.reduce((a, b) => a + b, 0);
          for (const [b, x] of row.entries()) expect(Math.abs(x - (total * sizes[b]!) / n)).toBeLessThan(1);
        }
        tally.reached++;
      }),
      { numRuns: RUNS },
    );
    expect(tally.reached).toBeGreaterThanOrEqual(REACHED * RUNS);
  });

  it('puts rare labels in training under "training", and refuses (1020) exactly when they outnumber its places', () => {
    const tally = runs();
    let boundary = 0;
    const rareArb = fc.record({
      singles: fc.integer({ min: 1, max: 4 }),
      pairs: fc.integer({ min: 0, max: 2 }),
      common: fc.integer({ min: 6, max: 30 }),
      // training's places against the rare images: one short, exactly enough (twice as likely), one spare
      margin: fc.constantFrom(-1, 0, 0, 1),
      verifying: fc.integer({ min: 1, max: 2 }),
      testing: fc.integer({ min: 1, max: 2 }),
      seed: seedArb,
    });
    fc.assert(
      fc.property(rareArb, ({ singles, pairs, common, margin, verifying, testing, seed }) => {
        // Fewer images than the three receiving sets: the singles and the pairs are rare; "c" is not.
        const labels = [
          ...Array.from({ length: singles }, (_, k) => `s${k}`),
          ...Array.from({ length: 2 * pairs }, (_, k) => `p${k >> 1}`),
          ...Array.from({ length: common }, () => "c"),
        ];
        const images = labels.map((label, i) => ({ imgId: `i${String(i).padStart(3, "0")}`, orderId: i + 1, label }));
        const rareTotal = singles + 2 * pairs;
        const training = Math.max(1, rareTotal + margin);
        const counts = { [TRAINING]: training, [VERIFYING]: verifying, [TESTING]: testing };
        const result = attempt({ images, request: { counts, options: { stratifyBy: "label" } }, seed });
        const rare = [...new Set(labels.filter((label) => label !== "c"))].sort();
        if (rareTotal > training) {
          expect(result).toBeInstanceOf(ServiceError);
          expect((result as ServiceError).message).toBe(
            `以下标签的图像太少，无法按 rare_labels=training 放置: ${rare.join("、")}`,
          );
          refusedIn(tally, 1020);
        } else {
          expect(result).not.toBeInstanceOf(ServiceError);
          const plan = result as SplitPlan;
          expect(plan.rareLabels.map((entry) => entry.label)).toEqual(rare);
          images.forEach((image, i) => {
            if (image.label !== "c") expect(plan.setOf[i]).toBe(TRAINING);
          });
          expect(plan.sizes).toEqual(counts);
          if (rareTotal === training) boundary++;
        }
        tally.reached++;
      }),
      { numRuns: RUNS },
    );
    expect(tally.reached).toBe(RUNS);
    expect(tally.refused[1020]).toBeGreaterThanOrEqual(0.1 * RUNS);
    expect(boundary).toBeGreaterThanOrEqual(0.25 * RUNS); // exactly as many rare images as training places
  });

  it("gives every image the same set whatever order the images arrive in", () => {
    const tally = runs();
    fc.assert(
      fc.property(scenarioArb, fc.string({ maxLength: 4 }), (scenario, arrival) => {
        const a = attempt(scenario);
        const reordered = shuffle([...scenario.images], seededRandom(arrival));
        const b = attempt({ ...scenario, images: reordered });
        if (a instanceof ServiceError) {
          expect(b).toBeInstanceOf(ServiceError);
          expect((b as ServiceError).code).toBe(a.code);
          refusedIn(tally, a.code);
          return;
        }
        expect(b).not.toBeInstanceOf(ServiceError);
        expect((b as SplitPlan).drawn).toEqual(a.drawn);
        expect(placement(b as SplitPlan, reordered)).toEqual(placement(a, scenario.images));
        tally.reached++;
      }),
      { numRuns: RUNS },
    );
    expect(tally.reached).toBeGreaterThanOrEqual(REACHED * RUNS);
  });

  it("plans the plain request as the front of the seeded permutation: training, verifying, testing", () => {
    const tally = runs();
    fc.assert(
      fc.property(
        imagesArb.chain((images) => fc.tuple(fc.constant(images), countsArb(images.length))),
        fc.string(),
        ([images, counts], seed) => {
          const plan = planSplit(images, { counts }, seed);
          const permutation = shuffleIds(
            images.map((image) => image.imgId),
            seed,
          );
          const ends = [counts[TRAINING], counts[TRAINING] + counts[VERIFYING]];
          const total = ends[1]! + counts[TESTING];
          expect(plan.drawn).toEqual({
            [TRAINING]: permutation.slice(0, ends[0]),
            [VERIFYING]: permutation.slice(ends[0], ends[1]),
            [TESTING]: permutation.slice(ends[1], total),
          });
          expect(plan.sizes).toEqual(counts);
          expect(plan.unassignedCount).toBe(images.length - total);
          tally.reached++;
        },
      ),
      { numRuns: RUNS },
    );
    expect(tally.reached).toBe(RUNS);
  });
});

describe("roundShares (fast-check)", () => {
  it("keeps every row and column total and every cell within one of its share", () => {
    const table = fc
      .tuple(
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
      )
      .map(([rows, weights]) => {
        const total = rows.reduce((a, b) => a + b, 0);
        // Column totals adding up to the same N: cut N at sorted points derived from the weights.
        const cuts = weights
          .slice(1)
          .map((w) => (total === 0 ? 0 : w % (total + 1)))
          .sort((a, b) => a - b);
        const cols = [...cuts, total].map((cut, k) => cut - (k === 0 ? 0 : cuts[k - 1]!));
        return { rows, cols, rank: rows.map((_, i) => (i * 7) % rows.length) };
      });
    fc.assert(
      fc.property(table, ({ rows, cols, rank }) => {
        const x = roundShares(rows, cols, rank);
        const N = rows.reduce((a, b) => a + b, 0);
        const K = cols.length;
        rows.forEach((r, i) => {
          let sum = 0;
          for (let j = 0; j < K; j++) {
            const cell = x[i * K + j]!;
            const share = N === 0 ? 0 : (r * cols[j]!) / N;
            expect(cell).toBeGreaterThanOrEqual(Math.floor(share));
            expect(cell).toBeLessThanOrEqual(Math.ceil(share));
            sum += cell;
          }
          expect(sum).toBe(r);
        });
        for (const [j, c] of cols.entries()) expect(rows.reduce((sum, _, i) => sum + x[i * K + j]!, 0)).toBe(c);
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
