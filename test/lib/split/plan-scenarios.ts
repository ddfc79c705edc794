import fc from "fast-check";
import { expect } from "vitest";
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
  type SplitPlan,
  sizesFromRatios,
} from "../../../lib/split/plan/index.ts";
import { seededRandom, shuffle } from "../../../lib/split/shuffle.ts";

/** Enough runs to meet every combination of modes many times, few enough for a few seconds. */
export const RUNS = 400;
/** Share of the runs that must reach a property's checks (the rest: refusals, each checked to be justified). */
export const REACHED = 0.8;
export const SETS: readonly SetType[] = [TRAINING, VERIFYING, TESTING];

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
export const runs = (): Runs => ({ reached: 0, refused: {} });
export const refusedIn = (tally: Runs, code: number) => {
  tally.refused[code] = (tally.refused[code] ?? 0) + 1;
};

const setTypeArb = fc.constantFrom<SetType>(TRAINING, TESTING, VERIFYING);
export const seedArb = fc.string({ minLength: 1, maxLength: 8 });

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
export const imagesArb = imagesOfArb(1);

export const countsArb = (n: number) =>
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
export const ratiosArb = (minTraining = 1) =>
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
export const optionsArb = anyOptionsArb.map((options) =>
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
export const plannableArb = (options: fc.Arbitrary<Partial<SplitOptions>>): fc.Arbitrary<Scenario> =>
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
export const anyScenarioArb: fc.Arbitrary<Scenario> = imagesArb.chain((images) =>
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
export const scenarioArb = fc.oneof(
  { weight: 9, arbitrary: plannableArb(optionsArb) },
  { weight: 1, arbitrary: anyScenarioArb },
);

export function attempt(scenario: Scenario): SplitPlan | ServiceError {
  try {
    return planSplit(scenario.images, scenario.request, scenario.seed);
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
}

/** set type of each image id, or -1. */
export const placement = (plan: SplitPlan, images: readonly PlanImage[]) =>
  new Map(images.map((image, i) => [image.imgId, plan.setOf[i]!]));

/** The targets the request asks for, before lock_testing replaces testing's. */
export const asked = (scenario: Scenario): SetSizes =>
  scenario.request.counts ?? sizesFromRatios(scenario.request.ratios!, scenario.images.length, scenario.seed);

/** With options replaced (the sizes stay). */
export const withOptions = (scenario: Scenario, options: Partial<SplitOptions>): Scenario => ({
  ...scenario,
  request: { ...scenario.request, options },
});

/** What a stratified plan of the scenario has to work with: the pool's deficits and its rare labels (code-unit order). */
export function strataOf({ images, request }: Scenario, target: SetSizes, fixed: (image: PlanImage) => boolean) {
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
export function refusalOf(scenario: Scenario): number | undefined {
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
export function planOrJustifiedRefusal(scenario: Scenario, tally: Runs): SplitPlan | undefined {
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
