import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { columnsOf } from "../../../lib/split/plan/columns.ts";
import {
  type PlanColumns,
  type PlanImage,
  type PlanRequest,
  planSplit,
  type SplitPlan,
} from "../../../lib/split/plan/index.ts";

const N = 20_000;
/** 20,000 images: 50 labels (every 11th unlabelled), 4,000 groups (every 5th alone), 9,000 in a live split. */
const IMAGES: PlanImage[] = Array.from({ length: N }, (_, i) => ({
  imgId: `2018070417${String(i * 7).padStart(9, "0")}`,
  orderId: i + 1,
  ...(i % 11 === 0 ? {} : { label: `label-${(i * 7919) % 50}` }),
  ...(i % 5 === 0 ? {} : { group: `group-${i % 4_000}` }),
  ...(i < 12_000 && i % 4 !== 3 ? { current: ((i * 13) % 3) as 0 | 1 | 2 } : {}),
}));
const COUNTS = { 0: 12_000, 1: 2_000, 2: 4_000 };

/** The whole plan (sets, setOf and account) in 16 hex digits. */
const digestOf = (plan: SplitPlan) => {
  const { drawn, setOf, ...account } = plan;
  return createHash("sha256")
    .update(JSON.stringify([drawn, [...setOf], account]))
    .digest("hex")
    .slice(0, 16);
};

describe("v1 plans of 20,000 images, pinned (the digests of plans made before the planner took columns)", () => {
  const cases: [string, PlanRequest, string][] = [
    ["plain", { counts: COUNTS }, "519b2e4ecb06cf82"],
    ["ratios", { ratios: { 0: 0.7, 1: 0.1, 2: 0.15 } }, "08c714bbeac6e039"],
    ["stratified", { counts: COUNTS, options: { stratifyBy: "label" } }, "9afbe3828555b748"],
    ["grouped", { counts: COUNTS, options: { groupBy: "group" } }, "03a4c463bb26be34"],
    [
      "stratified and grouped, rare labels random",
      { counts: COUNTS, options: { stratifyBy: "label", groupBy: "group", rareLabels: "random" } },
      "d1bca8a351625427",
    ],
    [
      "keep, stratified",
      { counts: { 0: 13_000, 1: 3_500, 2: 3_500 }, options: { mode: "keep", stratifyBy: "label" } },
      "1c3fb78bddfa5fcb",
    ],
    ["lock_testing, grouped", { counts: COUNTS, options: { lockTesting: true, groupBy: "group" } }, "5920ce7022dca473"],
  ];
  const columns = columnsOf(IMAGES);

  it.each(cases)("%s: the same plan from objects and from columns", (_name, request, pinned) => {
    expect(digestOf(planSplit(IMAGES, request, "pinned-20k"))).toBe(pinned);
    expect(digestOf(planSplit(columns, request, "pinned-20k"))).toBe(pinned);
  });

  it("does not depend on how labels and groups are numbered", () => {
    const reversed: PlanColumns = {
      ...columns,
      labels: [...columns.labels].reverse(),
      labelOf: columns.labelOf.map((k) => (k === -1 ? -1 : columns.labels.length - 1 - k)),
      groups: [...columns.groups].reverse(),
      groupOf: columns.groupOf.map((k) => (k === -1 ? -1 : columns.groups.length - 1 - k)),
    };
    const request: PlanRequest = { counts: COUNTS, options: { stratifyBy: "label", groupBy: "group" } };
    expect(digestOf(planSplit(reversed, request, "pinned-20k"))).toBe(
      digestOf(planSplit(columns, request, "pinned-20k")),
    );
  });
});

describe("columns a caller got wrong", () => {
  const images: PlanImage[] = [
    { imgId: "a", orderId: 1, label: "x", group: "g", current: 0 },
    { imgId: "b", orderId: 2 },
  ];
  const request: PlanRequest = { counts: { 0: 1, 1: 0, 2: 0 } };

  it("numbers labels and groups in order of first appearance, -1 for none, and keeps the current sets", () => {
    const columns = columnsOf(images);
    expect(columns.labels).toEqual(["x"]);
    expect([...columns.labelOf]).toEqual([0, -1]);
    expect(columns.groups).toEqual(["g"]);
    expect([...columns.groupOf]).toEqual([0, -1]);
    expect([...(columns.current ?? [])]).toEqual([0, -1]);
    expect(columnsOf([{ imgId: "c", orderId: 3 }]).current).toBeUndefined();
  });

  it("throws a plain Error for columns of different lengths, unlisted numbers or a current set that is no set type", () => {
    const good = columnsOf(images);
    expect(() => planSplit({ ...good, orderIds: [1] }, request, "s")).toThrow(/differ in length/);
    expect(() => planSplit({ ...good, labelOf: Int32Array.of(1, -1) }, request, "s")).toThrow(
      /label of a is not listed/,
    );
    expect(() => planSplit({ ...good, groupOf: Int32Array.of(0, -2) }, request, "s")).toThrow(
      /group of b is not listed/,
    );
    expect(() => planSplit({ ...good, current: Int8Array.of(0, 3) }, request, "s")).toThrow(/current set of b/);
    expect(() => planSplit({ ...good, orderIds: [1, Number.NaN] }, request, "s")).toThrow(/order_id of b/);
    const wrong = [{ ...images[0]!, current: 5 as 0 }];
    expect(() => planSplit(wrong, request, "s")).toThrow(/current set of a is not a set type: 5/);
  });
});
