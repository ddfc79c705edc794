/**
 * Child process of bench/run.ts (`--million`): one split of an already seeded task, in a process of
 * its own so its peak RSS is the split's (read, plan, pack, publish) and not the bench's.
 * Usage: split-1m.ts <endpoint> <table> <taskId>; prints {ms, baselineRssMb, peakRssMb, drawn}.
 */
import { readConfig } from "../lib/config.ts";
import { splitTask } from "../lib/split/split.ts";
import { createStore } from "../lib/store/index.ts";
import { usualCounts } from "./support.ts";

const [endpoint, tableName, taskId] = process.argv.slice(2) as [string, string, string];
const store = createStore({ ...readConfig(), endpoint, tableName, budgetMs: 600_000 });
const task = await store.readTask(taskId);
if (!task) throw new Error(`no task ${taskId}`);
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const baselineRssMb = mb(process.memoryUsage().rss);
const start = performance.now();
const result = await splitTask(store, { taskId, counts: usualCounts(task.imageCount), seed: "rss" });
const ms = performance.now() - start;
const drawn = result.drawn[0].length + result.drawn[1].length + result.drawn[2].length;
console.log(JSON.stringify({ ms, baselineRssMb, peakRssMb: mb(process.resourceUsage().maxRSS * 1024), drawn }));
