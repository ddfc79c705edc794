/**
 * Child process of bench/process.ts: plans a split of N images given as the store reads them
 * (columns, in img_id order, order_ids 1..N) and prints {ms, baselineRssMb, peakRssMb}.
 * Usage: plan-1m.ts <n> [tagged]; `tagged`: 1,000 labels and 250,000 groups, planned with
 * stratify_by "label" and group_by "group".
 */
import type { PlanRequest } from "../lib/split/plan/index.ts";
import { planSplit } from "../lib/split/plan/index.ts";
import { groupName, groupOfImage, imageIdOf, labelName, labelOfImage, TAGGED, usualCounts } from "./support.ts";

const n = Number(process.argv[2] ?? 1_000_000);
const tagged = process.argv[3] === "tagged";
const images = {
  ids: Array.from({ length: n }, (_, i) => imageIdOf(i + 1)),
  orderIds: Float64Array.from({ length: n }, (_, i) => i + 1),
  labelOf: tagged ? Int32Array.from({ length: n }, (_, i) => labelOfImage(i + 1)) : new Int32Array(n).fill(-1),
  labels: tagged ? Array.from({ length: TAGGED.labels }, (_, k) => labelName(k)) : [],
  groupOf: tagged ? Int32Array.from({ length: n }, (_, i) => groupOfImage(i + 1)) : new Int32Array(n).fill(-1),
  groups: tagged ? Array.from({ length: TAGGED.groups }, (_, k) => groupName(k)) : [],
};
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const baselineRssMb = mb(process.memoryUsage().rss);
const request: PlanRequest = {
  counts: usualCounts(n),
  ...(tagged ? { options: { stratifyBy: "label", groupBy: "group" } } : {}),
};
const start = performance.now();
const plan = planSplit(images, request, "bench");
const ms = performance.now() - start;
if (plan.sizes[0] + plan.sizes[1] + plan.sizes[2] < n * 0.9) throw new Error("plan is wrong");
console.log(JSON.stringify({ ms, baselineRssMb, peakRssMb: mb(process.resourceUsage().maxRSS * 1024) }));
