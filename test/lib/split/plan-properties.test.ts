import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TESTING, TRAINING, VERIFYING } from "../../../lib/model.ts";
import { RATIO_SCALE, sizesFromRatios } from "../../../lib/split/plan/index.ts";
import {
  anyScenarioArb,
  asked,
  optionsArb,
  placement,
  plannableArb,
  planOrJustifiedRefusal,
  REACHED,
  RUNS,
  ratiosArb,
  refusalOf,
  runs,
  SETS,
  scenarioArb,
  withOptions,
} from "./plan-scenarios.ts";

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
});
