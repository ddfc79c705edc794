import { describe, expect, it } from "vitest";
import { TESTING, TRAINING, VERIFYING } from "../../../lib/model.ts";
import {
  ALGORITHM_VERSION,
  ALGORITHM_VERSIONS,
  type PlanImage,
  type PlanRequest,
  planSplit,
  type SplitPlan,
} from "../../../lib/split/plan/index.ts";
import { seededRandom, shuffle } from "../../../lib/split/shuffle.ts";
import { expectConsistent, img, range, sets, sizes } from "./plan-fixtures.ts";

describe("ALGORITHM_VERSION", () => {
  it('is "v1", the only version that can be reproduced, and is reported with every plan', () => {
    expect(ALGORITHM_VERSION).toBe("v1");
    expect(ALGORITHM_VERSIONS).toEqual(["v1"]);
    expect(planSplit([img(0)], { counts: sizes(1, 0, 0) }, "s").algorithm).toBe("v1");
    expect(planSplit([img(0)], { counts: sizes(1, 0, 0), options: { stratifyBy: "label" } }, "s").algorithm).toBe("v1");
  });
});

describe("independence from input order", () => {
  it("gives every image the same set whatever order the images arrive in, in every mode", () => {
    const images = range(0, 40).map((i) =>
      img(i, {
        label: ["a", "b", "c"][i % 3]!,
        ...(i % 5 === 0 ? {} : { group: `g${i % 7}` }),
        ...(i < 30 ? { current: ([TRAINING, TESTING, VERIFYING] as const)[i % 3] } : {}),
      }),
    );
    const requests: PlanRequest[] = [
      { counts: sizes(20, 8, 8), options: { stratifyBy: "label" } },
      { counts: sizes(20, 8, 8), options: { groupBy: "group", stratifyBy: "label" } },
      { counts: sizes(12, 12, 12), options: { mode: "keep" } },
      { ratios: { [TRAINING]: 0.5, [VERIFYING]: 0.25, [TESTING]: 0.2 }, options: { lockTesting: true } },
    ];
    const scrambled = shuffle([...images], seededRandom("arrival"));
    for (const request of requests) {
      const a = planSplit(images, request, "order");
      const b = planSplit(scrambled, request, "order");
      expect(b.drawn).toEqual(a.drawn);
      const setOf = (plan: SplitPlan, list: PlanImage[]) =>
        Object.fromEntries(list.map((image, i) => [image.imgId, plan.setOf[i]]));
      expect(setOf(b, scrambled)).toEqual(setOf(a, images));
    }
  });
});

describe("pinned outputs of v1 (a change here changes splits users can reproduce: bump ALGORITHM_VERSION)", () => {
  const LABELS = ["cat", "dog", "dog", "bird", "cat", "dog"];
  const GROUPS = ["p1", "p1", "p1", "p2", "p2", undefined, "p3", "p3", "p3", "p3", undefined, undefined];
  /** 24 images: 8 cats, 12 dogs, 4 birds; groups p1 (3), p2 (2), p3 (4) twice over; ids 2018070417860564100…123. */
  const FIXTURE: PlanImage[] = range(0, 24).map((i) => ({
    imgId: `20180704178605641${String(i).padStart(2, "0")}`,
    orderId: i + 1,
    label: LABELS[i % 6]!,
    ...(GROUPS[i % 12] === undefined ? {} : { group: `${GROUPS[i % 12]}-${Math.floor(i / 12)}` }),
  }));
  const CURRENT = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 1, 1, 1, 1] as const;
  const WITH_CURRENT = FIXTURE.map((image, i) => (i < CURRENT.length ? { ...image, current: CURRENT[i] } : image));
  const COUNTS = sizes(14, 5, 4);
  const tails = (plan: SplitPlan) => {
    const { training, verifying, testing } = sets(plan);
    const tail = (list: string[]) => list.map((id) => id.slice(-2)).join(" ");
    return { training: tail(training), verifying: tail(verifying), testing: tail(testing) };
  };

  it.each([
    [
      "ratios 0.6 / 0.2 / 0.15",
      FIXTURE,
      { ratios: { [TRAINING]: 0.6, [VERIFYING]: 0.2, [TESTING]: 0.15 } },
      { training: "23 14 06 11 01 08 05 22 17 21 15 09 19 13", verifying: "12 07 18 16 10", testing: "04 20 03 02" },
    ],
    [
      "stratified",
      FIXTURE,
      { counts: COUNTS, options: { stratifyBy: "label" } },
      { training: "23 14 06 11 01 08 05 22 17 21 15 12 18 16", verifying: "09 19 13 10 04", testing: "07 20 03 00" },
    ],
    [
      "grouped",
      FIXTURE,
      { counts: COUNTS, options: { groupBy: "group" } },
      { training: "14 06 08 05 21 09 19 13 12 07 18 04 20 03", verifying: "23 01 22 02 00", testing: "11 17 15 16" },
    ],
    [
      "stratified and grouped",
      FIXTURE,
      { counts: COUNTS, options: { stratifyBy: "label", groupBy: "group" } },
      { training: "23 14 06 08 22 21 09 19 13 12 07 18 10 20", verifying: "01 04 03 02 00", testing: "11 05 15 16" },
    ],
    [
      "keep",
      WITH_CURRENT,
      { counts: sizes(12, 5, 5), options: { mode: "keep" } },
      { training: "23 06 01 08 05 22 09 07 04 03 02 00", verifying: "11 21 13 12 10", testing: "14 17 15 19 16" },
    ],
    [
      "lock_testing",
      WITH_CURRENT,
      { counts: COUNTS, options: { lockTesting: true } },
      { training: "23 06 11 01 08 05 22 21 09 19 13 12 07 18", verifying: "10 04 20 03 02", testing: "14 17 15 16" },
    ],
  ] as [string, PlanImage[], PlanRequest, ReturnType<typeof tails>][])(
    'seed "pinned-v1", %s',
    (_name, images, request, expected) => {
      const plan = planSplit(images, request, "pinned-v1");
      expect(tails(plan)).toEqual(expected);
      expectConsistent(plan, images);
    },
  );
});

describe("speed", () => {
  it("plans 100k labelled, grouped images in every mode quickly (well under a second each on an idle machine)", () => {
    const n = 100_000;
    const images = Array.from({ length: n }, (_, i) => ({
      imgId: `2018070417${String(i).padStart(9, "0")}`,
      orderId: i + 1,
      label: `class${i % 37}`,
      ...(i % 3 === 0 ? {} : { group: `patient${Math.floor(i / 6)}` }),
      ...(i < 80_000 ? { current: ([TRAINING, VERIFYING, TESTING] as const)[i % 3] } : {}),
    }));
    const counts = sizes(70_000, 20_000, 10_000);
    const requests: PlanRequest[] = [
      { ratios: { [TRAINING]: 0.5, [VERIFYING]: 0.2, [TESTING]: 0.1 }, options: { lockTesting: true } },
      { counts, options: { stratifyBy: "label" } },
      { counts, options: { groupBy: "group" } },
      { counts, options: { stratifyBy: "label", groupBy: "group" } },
      { counts: sizes(40_000, 30_000, 30_000), options: { mode: "keep", stratifyBy: "label" } },
    ];
    for (const request of requests) {
      const start = performance.now();
      const plan = planSplit(images, request, "speed");
      const ms = performance.now() - start;
      expect(plan.sizes[TRAINING] + plan.sizes[VERIFYING] + plan.sizes[TESTING]).toBeGreaterThan(90_000);
      expect(ms).toBeLessThan(3000); // 50–200 ms on an idle machine; the bound only catches a blow-up (a loaded box is slow)
    }
  });
});
