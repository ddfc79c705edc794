/** Child process of bench/run.ts: plans a split of N ids and prints {ms, baselineRssMb, peakRssMb}. */
import { planSplit } from "../lib/split/plan/index.ts";

const n = Number(process.argv[2] ?? 1_000_000);
// As storage returns them: sorted by img_id, order_ids 1..n in registration order.
const images = Array.from({ length: n }, (_, i) => ({
  imgId: `2018070417${String(i).padStart(9, "0")}`,
  orderId: i + 1,
}));
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const baselineRssMb = mb(process.memoryUsage().rss);
const counts = { 0: Math.floor(n * 0.7), 1: Math.floor(n * 0.1), 2: Math.floor(n * 0.2) };
const start = performance.now();
const plan = planSplit(images, { counts }, "bench");
const ms = performance.now() - start;
if (plan.drawn[0].length !== Math.floor(n * 0.7)) throw new Error("plan is wrong");
console.log(JSON.stringify({ ms, baselineRssMb, peakRssMb: mb(process.resourceUsage().maxRSS * 1024) }));
