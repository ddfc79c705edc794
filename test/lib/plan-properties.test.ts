import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ServiceError } from "../../lib/errors.ts";
import {
  type SetRatios,
  type SetSizes,
  type SetType,
  type SplitOptions,
  type SplitSizes,
  TESTING,
  TRAINING,
  VERIFYING,
} from "../../lib/model.ts";
import {
  BLOCK_SIZE,
  type PlanImage,
  type PlanRequest,
  planSplit,
  planSplitWith,
  type SplitPlanReport,
} from "../../lib/plan.ts";
import { roundShares } from "../../lib/plan-rounding.ts";
import { RATIO_SCALE, sizesFromRatios } from "../../lib/plan-sizes.ts";
import { seededRandom, shuffle } from "../../lib/shuffle.ts";

/** Enough runs to meet every combination of modes many times, few enough for a few seconds. */
const RUNS = 400;
const SETS: readonly SetType[] = [TRAINING, VERIFYING, TESTING];

interface Scenario {
  images: PlanImage[];
  request: PlanRequest;
  seed: string;
}

const imageArb = fc.record({
  label: fc.option(fc.constantFrom("a", "b", "c", "d", "rare"), { nil: undefined, freq: 4 }),
  group: fc.option(fc.constantFrom("g1", "g2", "g3", "g4", "g5", "g6"), { nil: undefined, freq: 2 }),
  current: fc.option(fc.constantFrom<SetType>(TRAINING, TESTING, VERIFYING), { nil: undefined, freq: 3 }),
});

/** n images (ids i000…, order_ids a seeded permutation of 1..n) in a seeded arrival order. */
const imagesArb = fc
  .tuple(fc.array(imageArb, { minLength: 1, maxLength: 40 }), fc.string({ maxLength: 6 }))
  .map(([list, arrival]) => {
    const orderIds = shuffle(
      list.map((_, i) => i + 1),
      seededRandom(`order-${arrival}`),
    );
    const images = list.map((fields, i) => ({
      imgId: `i${String(i).padStart(3, "0")}`,
      orderId: orderIds[i]!,
      ...fields,
    }));
    return shuffle(images, seededRandom(`arrival-${arrival}`));
  });

const countsArb = (n: number) =>
  fc.integer({ min: 1, max: n }).chain((training) =>
    fc.integer({ min: 0, max: n - training }).chain((verifying) =>
      fc.integer({ min: 0, max: n - training - verifying }).map(
        (testing): SetSizes => ({
          [TRAINING]: training,
          [VERIFYING]: verifying,
          [TESTING]: testing,
        }),
      ),
    ),
  );

/** Ratios in hundredths: training 1–100, the others 0–the rest. */
const ratiosArb = fc.integer({ min: 1, max: 100 }).chain((training) =>
  fc.integer({ min: 0, max: 100 - training }).chain((verifying) =>
    fc.integer({ min: 0, max: 100 - training - verifying }).map(
      (testing): SetRatios => ({
        [TRAINING]: training / 100,
        [VERIFYING]: verifying / 100,
        [TESTING]: testing / 100,
      }),
    ),
  ),
);

const optionsArb: fc.Arbitrary<Partial<SplitOptions>> = fc
  .record({
    stratifyBy: fc.constantFrom<"label" | undefined>("label", undefined),
    groupBy: fc.constantFrom<"group" | undefined>("group", undefined),
    rareLabels: fc.constantFrom("training" as const, "random" as const, "error" as const),
    mode: fc.constantFrom("fresh" as const, "keep" as const),
    lockTesting: fc.boolean(),
  })
  .map((options) => (options.mode === "keep" ? { ...options, lockTesting: false } : options));

const scenarioArb: fc.Arbitrary<Scenario> = imagesArb.chain((images) =>
  fc.record({
    images: fc.constant(images),
    request: fc
      .record({
        sizes: fc.oneof(
          countsArb(images.length).map((counts): SplitSizes => ({ counts })),
          ratiosArb.map((ratios): SplitSizes => ({ ratios })),
        ),
        options: optionsArb,
      })
      .map(({ sizes, options }): PlanRequest => ({ ...sizes, options })),
    seed: fc.string({ minLength: 1, maxLength: 8 }),
  }),
);

/** Images whose assigned members of a group share one set, with counts at least the current sets' sizes: keep can succeed. */
const keepScenarioArb: fc.Arbitrary<Scenario> = fc
  .tuple(imagesArb, fc.array(fc.constantFrom<SetType>(TRAINING, TESTING, VERIFYING), { minLength: 6, maxLength: 6 }))
  .map(([images, setOfGroup]) =>
    images.map((image) =>
      image.group === undefined || image.current === undefined
        ? image
        : { ...image, current: setOfGroup[Number(image.group.slice(1)) - 1]! },
    ),
  )
  .filter((images) => images.some((image) => image.current === undefined || image.current === TRAINING))
  .chain((images) => {
    const held = (setType: SetType) => images.filter((image) => image.current === setType).length;
    const free = images.filter((image) => image.current === undefined).length;
    const atLeast = held(TRAINING) === 0 ? 1 : 0;
    return fc
      .integer({ min: atLeast, max: Math.max(atLeast, free) })
      .chain((a) => fc.tuple(fc.constant(a), fc.nat(Math.max(0, free - a))))
      .chain(([a, b]) => fc.tuple(fc.constant(a), fc.constant(b), fc.nat(Math.max(0, free - a - b))))
      .chain(([a, b, c]) =>
        fc.tuple(fc.constant(a), fc.constant(b), fc.constant(c), optionsArb, fc.string({ minLength: 1, maxLength: 8 })),
      )
      .map(([a, b, c, options, seed]) => ({
        images,
        request: {
          counts: { [TRAINING]: held(TRAINING) + a, [VERIFYING]: held(VERIFYING) + b, [TESTING]: held(TESTING) + c },
          options: { ...options, mode: "keep" as const, lockTesting: false },
        },
        seed,
      }));
  });

/** Images with a current testing set, and counts that fit beside it: lock_testing can succeed. */
const lockScenarioArb: fc.Arbitrary<Scenario> = imagesArb
  .filter(
    (images) => images.some((image) => image.current === TESTING) && images.some((image) => image.current !== TESTING),
  )
  .chain((images) => {
    const rest = images.filter((image) => image.current !== TESTING).length;
    return fc
      .integer({ min: 1, max: rest })
      .chain((training) =>
        fc.tuple(fc.constant(training), fc.nat(rest - training), optionsArb, fc.string({ minLength: 1, maxLength: 8 })),
      )
      .map(([training, verifying, options, seed]) => ({
        images,
        request: {
          counts: { [TRAINING]: training, [VERIFYING]: verifying, [TESTING]: 0 },
          options: { ...options, mode: "fresh" as const, lockTesting: true },
        },
        seed,
      }));
  });

function attempt(scenario: Scenario): SplitPlanReport | ServiceError {
  try {
    return planSplitWith(scenario.images, scenario.request, scenario.seed);
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
}

/** set type of each image id, or -1. */
const placement = (plan: SplitPlanReport, images: readonly PlanImage[]) =>
  new Map(images.map((image, i) => [image.imgId, plan.setOf[i]!]));

/** The targets the request asks for, before lock_testing replaces testing's. */
const asked = (scenario: Scenario): SetSizes =>
  scenario.request.counts ?? sizesFromRatios(scenario.request.ratios!, scenario.images.length, scenario.seed);

describe("every planner (fast-check)", () => {
  it("returns disjoint sets that match setOf and blocks ranked by order_id, or one of the documented refusals", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { images, request } = scenario;
        const options = request.options ?? {};
        const result = attempt(scenario);
        const locked = images.filter((image) => image.current === TESTING).length;
        const target = asked(scenario);

        if (result instanceof ServiceError) {
          switch (result.code) {
            case 1007:
              expect(options.lockTesting).toBe(true);
              expect(target[TRAINING] + target[VERIFYING] + locked).toBeGreaterThan(images.length);
              break;
            case 1009:
              expect(request.ratios).toBeDefined();
              expect(target[TRAINING]).toBe(0);
              break;
            case 1020:
              expect(options.stratifyBy).toBe("label");
              break;
            case 1021:
              expect(options.mode).toBe("keep");
              break;
            case 1022:
              expect([options.lockTesting, locked]).toEqual([true, 0]);
              break;
            default:
              throw new Error(`unexpected code ${result.code}`);
          }
          return;
        }
        const plan = result;
        // Disjoint sets, each image in at most one, drawn and setOf telling the same story.
        const where = placement(plan, images);
        const all = SETS.flatMap((setType) => plan.drawn[setType]);
        expect(new Set(all).size).toBe(all.length);
        for (const setType of SETS) {
          expect(plan.sizes[setType]).toBe(plan.drawn[setType].length);
          for (const id of plan.drawn[setType]) expect(where.get(id)).toBe(setType);
        }
        expect([...where.values()].filter((s) => s !== -1)).toHaveLength(all.length);
        expect(plan.unassignedCount).toBe(images.length - all.length);
        // Blocks: rank in order_id order within the set.
        for (const setType of SETS) {
          const members = images.map((image, i) => ({ image, i })).filter(({ i }) => plan.setOf[i] === setType);
          members.sort((a, b) => a.image.orderId - b.image.orderId);
          for (const [rank, { i }] of members.entries()) expect(plan.blockOf[i]).toBe(Math.floor(rank / BLOCK_SIZE));
        }
        // Moves and histogram as defined.
        expect(plan.moved).toBe(
          images.filter((image) => image.current !== undefined && where.get(image.imgId) !== image.current).length,
        );
        expect(plan.newlyAssigned).toBe(
          images.filter((image) => image.current === undefined && where.get(image.imgId) !== -1).length,
        );
        if (images.some((image) => image.label !== undefined)) {
          const counted = plan.labelCounts.reduce(
            (n, entry) => n + entry.unassigned + entry.sizes[TRAINING] + entry.sizes[VERIFYING] + entry.sizes[TESTING],
            0,
          );
          expect(counted).toBe(images.length);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("meets the promised sizes exactly for counts, ratios and stratified plans (no group_by)", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const plan = attempt(scenario);
        if (plan instanceof ServiceError || scenario.request.options?.groupBy === "group") return;
        const target = asked(scenario);
        if (scenario.request.options?.lockTesting) {
          target[TESTING] = scenario.images.filter((image) => image.current === TESTING).length;
        }
        expect(plan.requested).toEqual(target);
        expect(plan.sizes).toEqual(target);
      }),
      { numRuns: RUNS },
    );
  });

  it("gives ratios sizes that are the floor or ceiling of ratio × images and never exceed the images", () => {
    fc.assert(
      fc.property(ratiosArb, fc.integer({ min: 0, max: 5000 }), fc.string({ maxLength: 4 }), (ratios, n, seed) => {
        const resolved = sizesFromRatios(ratios, n, seed);
        let sum = 0;
        for (const setType of SETS) {
          const exact = (n * Math.round(ratios[setType] * RATIO_SCALE)) / RATIO_SCALE;
          expect(resolved[setType]).toBeGreaterThanOrEqual(Math.floor(exact + 1e-9));
          expect(resolved[setType]).toBeLessThanOrEqual(Math.ceil(exact - 1e-9));
          sum += resolved[setType];
        }
        expect(sum).toBeLessThanOrEqual(n);
        if (ratios[TRAINING] + ratios[VERIFYING] + ratios[TESTING] > 0.999999) expect(sum).toBe(n);
      }),
      { numRuns: RUNS },
    );
  });

  it("keeps every group whole with group_by", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const grouped = {
          ...scenario,
          request: { ...scenario.request, options: { ...scenario.request.options, groupBy: "group" as const } },
        };
        const plan = attempt(grouped);
        if (plan instanceof ServiceError) return;
        const setOfGroup = new Map<string, number>();
        scenario.images.forEach((image, i) => {
          const setType = plan.setOf[i]!;
          if (image.group === undefined || setType === -1) return;
          expect(setOfGroup.get(image.group) ?? setType).toBe(setType);
          setOfGroup.set(image.group, setType);
        });
        expect(plan.leakedGroups).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('never moves an assigned image with mode "keep", and refuses (1021) exactly when it would have to', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const options = { ...scenario.request.options, mode: "keep" as const, lockTesting: false };
        const keep = { ...scenario, request: { ...scenario.request, options } };
        const plan = attempt(keep);
        const target = asked(keep);
        const over = SETS.some(
          (setType) => keep.images.filter((image) => image.current === setType).length > target[setType],
        );
        const spread = new Map<string, Set<number>>();
        for (const image of keep.images) {
          if (image.group === undefined || image.current === undefined) continue;
          spread.set(image.group, (spread.get(image.group) ?? new Set()).add(image.current));
        }
        const groupSpread = options.groupBy === "group" && [...spread.values()].some((sets) => sets.size > 1);
        if (plan instanceof ServiceError) {
          if (plan.code === 1021) expect(over || groupSpread).toBe(true);
          return;
        }
        expect(over || groupSpread).toBe(false);
        keep.images.forEach((image, i) => {
          if (image.current !== undefined) expect(plan.setOf[i]).toBe(image.current);
        });
        expect(plan.moved).toBe(0);
      }),
      { numRuns: RUNS },
    );
  });

  it("keeps the current testing set exactly with lock_testing, and meets the other sizes unless groups forbid", () => {
    fc.assert(
      fc.property(lockScenarioArb, (scenario) => {
        const plan = attempt(scenario);
        if (plan instanceof ServiceError) {
          expect(plan.code).toBe(1020); // rare labels with the "error" policy, or too many for training
          return;
        }
        const before = scenario.images.filter((image) => image.current === TESTING).map((image) => image.imgId);
        expect([...plan.drawn[TESTING]].sort()).toEqual(before.sort());
        if (scenario.request.options?.groupBy !== "group") {
          expect(plan.sizes[TRAINING]).toBe(scenario.request.counts![TRAINING]);
          expect(plan.sizes[VERIFYING]).toBe(scenario.request.counts![VERIFYING]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('never moves an assigned image with mode "keep" and fills the sizes exactly unless groups forbid', () => {
    fc.assert(
      fc.property(keepScenarioArb, (scenario) => {
        const plan = attempt(scenario);
        if (plan instanceof ServiceError) {
          expect(plan.code).toBe(1020);
          return;
        }
        scenario.images.forEach((image, i) => {
          if (image.current !== undefined) expect(plan.setOf[i]).toBe(image.current);
        });
        expect(plan.moved).toBe(0);
        if (scenario.request.options?.groupBy !== "group") expect(plan.sizes).toEqual(scenario.request.counts);
        else expect(plan.leakedGroups).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it("gives each label of a fresh stratified plan the floor or ceiling of its share of every set", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const options = { stratifyBy: "label" as const, rareLabels: "random" as const };
        const plan = attempt({ ...scenario, request: { ...scenario.request, options } });
        if (plan instanceof ServiceError || plan.rareLabels.length > 0) return;
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
      }),
      { numRuns: RUNS },
    );
  });

  it("gives every image the same set whatever order the images arrive in", () => {
    fc.assert(
      fc.property(scenarioArb, fc.string({ maxLength: 4 }), (scenario, arrival) => {
        const a = attempt(scenario);
        const reordered = shuffle([...scenario.images], seededRandom(arrival));
        const b = attempt({ ...scenario, images: reordered });
        if (a instanceof ServiceError || b instanceof ServiceError) {
          expect(b instanceof ServiceError && a instanceof ServiceError && b.code === a.code).toBe(true);
          return;
        }
        expect(b.drawn).toEqual(a.drawn);
        expect(placement(b, reordered)).toEqual(placement(a, scenario.images));
      }),
      { numRuns: RUNS },
    );
  });

  it("plans the plain request exactly as planSplit", () => {
    fc.assert(
      fc.property(
        imagesArb.chain((images) => fc.tuple(fc.constant(images), countsArb(images.length))),
        fc.string(),
        ([images, counts], seed) => {
          const plan = planSplitWith(images, { counts }, seed);
          const plain = planSplit(images, counts, seed);
          expect([plan.drawn, plan.setOf, plan.blockOf, plan.sizes]).toEqual([
            plain.drawn,
            plain.setOf,
            plain.blockOf,
            plain.sizes,
          ]);
        },
      ),
      { numRuns: RUNS },
    );
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
