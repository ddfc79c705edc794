import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ServiceError } from "../../../lib/errors.ts";
import {
  type SetRatios,
  type SetSizes,
  type SetType,
  type SplitOptions,
  type SplitSizes,
  TESTING,
  TRAINING,
  VERIFYING,
} from "../../../lib/model.ts";
import {
  type PlanImage,
  type PlanRequest,
  planSplit,
  RATIO_SCALE,
  roundShares,
  type SplitPlan,
  sizesFromRatios,
} from "../../../lib/split/plan/index.ts";
import { seededRandom, shuffle, shuffleIds } from "../../../lib/split/shuffle.ts";

/** Enough runs to meet every combination of modes many times, few enough for a few seconds. */
const RUNS = 400;
/** Share of the runs that must reach a property's checks (the rest: refusals, each checked to be justified). */
const REACHED = 0.8;
const SETS: readonly SetType[] = [TRAINING, VERIFYING, TESTING];

interface Scenario {
  images: PlanImage[];
  request: PlanRequest;
  seed: string;
}

/** How many runs of one property reached its checks, and the refusals met on the way (by code). */
interface Runs {
  reached: number;
  refused: Record<number, number>;
}
const runs = (): Runs => ({ reached: 0, refused: {} });
const refusedIn = (tally: Runs, code: number) => {
  tally.refused[code] = (tally.refused[code] ?? 0) + 1;
};

const setTypeArb = fc.constantFrom<SetType>(TRAINING, TESTING, VERIFYING);
const seedArb = fc.string({ minLength: 1, maxLength: 8 });

const imageArb = fc.record({
  label: fc.option(fc.constantFrom("a", "b", "c", "d", "rare"), { nil: undefined, freq: 4 }),
  group: fc.option(fc.constantFrom("g1", "g2", "g3", "g4", "g5", "g6"), { nil: undefined, freq: 2 }),
  current: fc.option(setTypeArb, { nil: undefined, freq: 3 }),
});

/** n ≥ minLength images (ids i000…, order_ids a seeded permutation of 1..n) in a seeded arrival order. */
const imagesOfArb = (minLength: number) =>
  fc.tuple(fc.array(imageArb, { minLength, maxLength: 40 }), fc.string({ maxLength: 6 })).map(([list, arrival]) => {
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
const imagesArb = imagesOfArb(1);

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

/** Ratios in hundredths: training at least `minTraining`, the others 0–the rest. */
const ratiosArb = (minTraining = 1) =>
  fc.integer({ min: minTraining, max: 100 }).chain((training) =>
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

/** Sizes a fresh split of n images can meet: counts that fit, or ratios that give training at least one image. */
const freshSizesArb = (n: number): fc.Arbitrary<SplitSizes> =>
  fc.oneof(
    countsArb(n).map((counts): SplitSizes => ({ counts })),
    ratiosArb(Math.ceil(100 / n)).map((ratios): SplitSizes => ({ ratios })),
  );

/** Any options, keep with lock_testing included; rare_labels "error" (which refuses any rare label) less often. */
const anyOptionsArb: fc.Arbitrary<Partial<SplitOptions>> = fc.record({
  stratifyBy: fc.constantFrom<"label" | undefined>("label", undefined),
  groupBy: fc.constantFrom<"group" | undefined>("group", undefined),
  rareLabels: fc.oneof(
    { weight: 6, arbitrary: fc.constant("random" as const) },
    { weight: 3, arbitrary: fc.constant("training" as const) },
    { weight: 1, arbitrary: fc.constant("error" as const) },
  ),
  mode: fc.constantFrom("fresh" as const, "keep" as const),
  lockTesting: fc.boolean(),
});
/** Options a request can combine (keep never with lock_testing). */
const optionsArb = anyOptionsArb.map((options) =>
  options.mode === "keep" ? { ...options, lockTesting: false } : options,
);

/** keep: the assigned images of a group all in one set (`setOfGroup`), and room for training. */
function keepable(images: PlanImage[], setOfGroup: readonly SetType[]): PlanImage[] {
  const coherent = images.map((image) =>
    image.group === undefined || image.current === undefined
      ? image
      : { ...image, current: setOfGroup[Number(image.group.slice(1)) - 1]! },
  );
  if (coherent.some((image) => image.current === undefined || image.current === TRAINING)) return coherent;
  return coherent.map((image, i) => (i === 0 ? { ...image, current: undefined } : image));
}

/** keep: counts of at least the sets' current sizes, the new images shared out (training gets at least one image). */
function keepSizesArb(images: readonly PlanImage[]): fc.Arbitrary<SplitSizes> {
  const held = (setType: SetType) => images.filter((image) => image.current === setType).length;
  const free = images.filter((image) => image.current === undefined).length;
  const atLeast = held(TRAINING) === 0 ? 1 : 0;
  return fc
    .integer({ min: atLeast, max: Math.max(atLeast, free) })
    .chain((a) => fc.tuple(fc.constant(a), fc.nat(Math.max(0, free - a))))
    .chain(([a, b]) => fc.tuple(fc.constant(a), fc.constant(b), fc.nat(Math.max(0, free - a - b))))
    .map(([a, b, c]) => ({
      counts: { [TRAINING]: held(TRAINING) + a, [VERIFYING]: held(VERIFYING) + b, [TESTING]: held(TESTING) + c },
    }));
}

/** lock_testing (at least two images): a current testing set and an image outside it (images 0 and 1 make sure). */
function lockable(images: PlanImage[]): PlanImage[] {
  const some = images.some((image) => image.current === TESTING);
  const all = images.every((image) => image.current === TESTING);
  return images.map((image, i) =>
    i === 0 && !some ? { ...image, current: TESTING } : i === 1 && all ? { ...image, current: undefined } : image,
  );
}

/** lock_testing: training and verifying that fit beside the locked testing set (testing's count is ignored). */
function lockSizesArb(images: readonly PlanImage[]): fc.Arbitrary<SplitSizes> {
  const rest = images.filter((image) => image.current !== TESTING).length;
  return fc
    .integer({ min: 1, max: rest })
    .chain((training) => fc.tuple(fc.constant(training), fc.nat(rest - training), fc.nat(images.length)))
    .map(([training, verifying, testing]) => ({
      counts: { [TRAINING]: training, [VERIFYING]: verifying, [TESTING]: testing },
    }));
}

/**
 * Scenarios built to be plannable: keep gets group-coherent current sets and counts of at least
 * them, lock_testing a testing set and counts beside it, fresh counts or ratios that fit. What can
 * still refuse: rare labels (1020).
 */
const plannableArb = (options: fc.Arbitrary<Partial<SplitOptions>>): fc.Arbitrary<Scenario> =>
  options
    .chain((opts) =>
      fc.tuple(
        imagesOfArb(opts.lockTesting ? 2 : 1),
        fc.constant(opts),
        fc.array(setTypeArb, { minLength: 6, maxLength: 6 }),
        seedArb,
      ),
    )
    .chain(([list, opts, setOfGroup, seed]) => {
      const images = opts.mode === "keep" ? keepable(list, setOfGroup) : opts.lockTesting ? lockable(list) : list;
      const sizes =
        opts.mode === "keep"
          ? keepSizesArb(images)
          : opts.lockTesting
            ? lockSizesArb(images)
            : freshSizesArb(images.length);
      return sizes.map((size): Scenario => ({ images, request: { ...size, options: opts }, seed }));
    });

/** Anything: any counts or ratios with any options over any current sets; refusals are common. */
const anyScenarioArb: fc.Arbitrary<Scenario> = imagesArb.chain((images) =>
  fc.record({
    images: fc.constant(images),
    request: fc
      .record({
        sizes: fc.oneof(
          countsArb(images.length).map((counts): SplitSizes => ({ counts })),
          ratiosArb().map((ratios): SplitSizes => ({ ratios })),
        ),
        options: anyOptionsArb,
      })
      .map(({ sizes, options }): PlanRequest => ({ ...sizes, options })),
    seed: seedArb,
  }),
);

/** Mostly plannable scenarios, and a tenth of anything, so that every refusal is met and checked. */
const scenarioArb = fc.oneof(
  { weight: 9, arbitrary: plannableArb(optionsArb) },
  { weight: 1, arbitrary: anyScenarioArb },
);

function attempt(scenario: Scenario): SplitPlan | ServiceError {
  try {
    return planSplit(scenario.images, scenario.request, scenario.seed);
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
}

/** set type of each image id, or -1. */
const placement = (plan: SplitPlan, images: readonly PlanImage[]) =>
  new Map(images.map((image, i) => [image.imgId, plan.setOf[i]!]));

/** The targets the request asks for, before lock_testing replaces testing's. */
const asked = (scenario: Scenario): SetSizes =>
  scenario.request.counts ?? sizesFromRatios(scenario.request.ratios!, scenario.images.length, scenario.seed);

/** With options replaced (the sizes stay). */
const withOptions = (scenario: Scenario, options: Partial<SplitOptions>): Scenario => ({
  ...scenario,
  request: { ...scenario.request, options },
});

/** What a stratified plan of the scenario has to work with: the pool's deficits and its rare labels (code-unit order). */
function strataOf({ images, request }: Scenario, target: SetSizes, fixed: (image: PlanImage) => boolean) {
  const held = (setType: SetType) => images.filter((image) => fixed(image) && image.current === setType).length;
  const deficit = SETS.map((setType) => target[setType] - held(setType));
  const receiving = deficit.filter((d) => d > 0).length;
  const sizes = new Map<string, number>();
  for (const image of images) {
    if (fixed(image) || image.label === undefined) continue;
    sizes.set(image.label, (sizes.get(image.label) ?? 0) + 1);
  }
  const rare = [...sizes.keys()].filter((label) => sizes.get(label)! < receiving).sort();
  const rareTotal = rare.reduce((total, label) => total + sizes.get(label)!, 0);
  return { deficit, rare, rareTotal, policy: request.options?.rareLabels ?? "training" };
}

/**
 * The refusal the documented rules require for a scenario, recomputed from the request alone (in
 * the documented order), or undefined when it must be planned.
 */
function refusalOf(scenario: Scenario): number | undefined {
  const { images, request } = scenario;
  const options = request.options ?? {};
  const keep = options.mode === "keep";
  const lock = options.lockTesting === true;
  if (keep && lock) return 1019;
  const target = { ...asked(scenario) };
  if (target[TRAINING] < 1) return 1009;
  const fixed = (image: PlanImage) => image.current !== undefined && (keep || (lock && image.current === TESTING));
  const held = (setType: SetType) => images.filter((image) => fixed(image) && image.current === setType).length;
  if (lock && held(TESTING) === 0) return 1022;
  if (lock) target[TESTING] = held(TESTING);
  if (target[TRAINING] + target[VERIFYING] + target[TESTING] > images.length) return 1007;
  if (SETS.some((setType) => held(setType) > target[setType])) return 1021;
  if (options.stratifyBy === "label") {
    const { deficit, rare, rareTotal, policy } = strataOf(scenario, target, fixed);
    if (rare.length > 0 && (policy === "error" || (policy === "training" && rareTotal > deficit[0]!))) return 1020;
  }
  if (options.groupBy === "group" && keep) {
    const setsOfGroup = new Map<string, Set<SetType>>();
    for (const image of images) {
      if (image.group === undefined || image.current === undefined) continue;
      setsOfGroup.set(image.group, (setsOfGroup.get(image.group) ?? new Set()).add(image.current));
    }
    if ([...setsOfGroup.values()].some((sets) => sets.size > 1)) return 1021;
  }
  return undefined;
}

/**
 * Plans the scenario; a refusal must be exactly the one refusalOf requires (counted in `tally`),
 * and a plan must come exactly when none is. Returns the plan, or undefined after a refusal.
 */
function planOrJustifiedRefusal(scenario: Scenario, tally: Runs): SplitPlan | undefined {
  const result = attempt(scenario);
  const required = refusalOf(scenario);
  if (result instanceof ServiceError) {
    expect(result.code).toBe(required);
    refusedIn(tally, result.code);
    return undefined;
  }
  expect(required).toBeUndefined();
  return result;
}

describe("every planner (fast-check)", () => {
  it("returns disjoint sets that match setOf, and refuses exactly when a documented rule requires it", () => {
    const tally = runs();
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { images } = scenario;
        const plan = planOrJustifiedRefusal(scenario, tally);
        if (plan === undefined) return;
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
        // Moves and histogram as defined.
        expect(plan.moved).toBe(
          images.filter((image) => image.current !== undefined && where.get(image.imgId) !== image.current).length,
        );
        expect(plan.newlyAssigned).toBe(
          images.filter((image) => image.current === undefined && where.get(image.imgId) !== -1).length,
        );
        const counted = plan.labelCounts.reduce(
          (n, entry) => n + entry.unassigned + entry.sizes[TRAINING] + entry.sizes[VERIFYING] + entry.sizes[TESTING],
          0,
        );
        expect(counted).toBe(images.some((image) => image.label !== undefined) ? images.length : 0);
        tally.reached++;
      }),
      { numRuns: RUNS },
    );
    expect(tally.reached).toBeGreaterThanOrEqual(REACHED * RUNS);
    // Refusals were met too, and each was checked to be the one the rules require.
    expect(Object.values(tally.refused).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(0.05 * RUNS);
  });

  it("meets the promised sizes exactly for counts, ratios and stratified plans (no group_by)", () => {
    const tally = runs();
    fc.assert(
      fc.property(plannableArb(optionsArb.map((options) => ({ ...options, groupBy: undefined }))), (scenario) => {
        const plan = planOrJustifiedRefusal(scenario, tally);
        if (plan === undefined) return;
        const target = asked(scenario);
        if (scenario.request.options?.lockTesting) {
          target[TESTING] = scenario.images.filter((image) => image.current === TESTING).length;
        }
        expect(plan.requested).toEqual(target);
        expect(plan.sizes).toEqual(target);
        tally.reached++;
      }),
      { numRuns: RUNS },
    );
    expect(tally.reached).toBeGreaterThanOrEqual(REACHED * RUNS);
  });

  it("gives ratios sizes that are the floor or ceiling of ratio × images and never exceed the images", () => {
    const tally = runs();
    fc.assert(
      fc.property(ratiosArb(), fc.integer({ min: 0, max: 5000 }), fc.string({ maxLength: 4 }), (ratios, n, seed) => {
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
        tally.reached++;
      }),
      { numRuns: RUNS },
    );
    expect(tally.reached).toBe(RUNS);
  });

  it("keeps every group whole with group_by", () => {
    const tally = runs();
    fc.assert(
      fc.property(
        plannableArb(optionsArb.map((options) => ({ ...options, groupBy: "group" as const }))),
        (scenario) => {
          const plan = planOrJustifiedRefusal(scenario, tally);
          if (plan === undefined) return;
          const setOfGroup = new Map<string, number>();
          scenario.images.forEach((image, i) => {
            const setType = plan.setOf[i]!;
            if (image.group === undefined || setType === -1) return;
            expect(setOfGroup.get(image.group) ?? setType).toBe(setType);
            setOfGroup.set(image.group, setType);
          });
          expect(plan.leakedGroups).toEqual([]);
          tally.reached++;
        },
      ),
      { numRuns: RUNS },
    );
    expect(tally.reached).toBeGreaterThanOrEqual(REACHED * RUNS);
  });

  it('never moves an assigned image with mode "keep", and refuses (1021) exactly when it would have to', () => {
    const tally = runs();
    let planned = 0;
    const keepArb = fc.oneof(
      plannableArb(optionsArb.map((options) => ({ ...options, mode: "keep" as const, lockTesting: false }))),
      anyScenarioArb.map((scenario) =>
        withOptions(scenario, { ...scenario.request.options, mode: "keep", lockTesting: false }),
      ),
    );
    fc.assert(
      fc.property(keepArb, (scenario) => {
        const plan = planOrJustifiedRefusal(scenario, tally);
        if (plan === undefined) {
          if (refusalOf(scenario) === 1021) tally.reached++;
          return;
        }
        scenario.images.forEach((image, i) => {
          if (image.current !== undefined) expect(plan.setOf[i]).toBe(image.current);
        });
        expect(plan.moved).toBe(0);
        planned++;
        tally.reached++;
      }),
      { numRuns: RUNS },
    );
    // Both sides of "exactly when" are met many times.
    expect(tally.reached).toBeGreaterThanOrEqual(REACHED * RUNS);
    expect(planned).toBeGreaterThanOrEqual(0.3 * RUNS);
    expect(tally.refused[1021]).toBeGreaterThanOrEqual(0.15 * RUNS);
  });

  it("keeps the current testing set exactly with lock_testing, and meets the other sizes unless groups forbid", () => {
    const tally = runs();
    const lockArb = plannableArb(
      optionsArb.map((options) => ({ ...options, mode: "fresh" as const, lockTesting: true })),
    );
    fc.assert(
      fc.property(lockArb, (scenario) => {
        const plan = planOrJustifiedRefusal(scenario, tally);
        if (plan === undefined) return;
        const before = scenario.images.filter((image) => image.current === TESTING).map((image) => image.imgId);
        expect([...plan.drawn[TESTING]].sort()).toEqual(before.sort());
        if (scenario.request.options?.groupBy !== "group") {
          expect(plan.sizes[TRAINING]).toBe(scenario.request.counts![TRAINING]);
          expect(plan.sizes[VERIFYING]).toBe(scenario.request.counts![VERIFYING]);
        }
        tally.reached++;
      }),
      { numRuns: RUNS },
    );
    expect(tally.reached).toBeGreaterThanOrEqual(REACHED * RUNS);
  });

  it('never moves an assigned image with mode "keep" and fills the sizes exactly unless groups forbid', () => {
    const tally = runs();
    const keepArb = plannableArb(
      optionsArb.map((options) => ({ ...options, mode: "keep" as const, lockTesting: false })),
    );
    fc.assert(
      fc.property(keepArb, (scenario) => {
        const plan = planOrJustifiedRefusal(scenario, tally);
        if (plan === undefined) return;
        scenario.images.forEach((image, i) => {
          if (image.current !== undefined) expect(plan.setOf[i]).toBe(image.current);
        });
        expect(plan.moved).toBe(0);
        if (scenario.request.options?.groupBy !== "group") expect(plan.sizes).toEqual(scenario.request.counts);
        else expect(plan.leakedGroups).toEqual([]);
        tally.reached++;
      }),
      { numRuns: RUNS },
    );
    expect(tally.reached).toBeGreaterThanOrEqual(REACHED * RUNS);
  });

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
