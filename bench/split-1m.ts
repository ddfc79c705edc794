/**
 * Child process of bench/process.ts (`--million`): one split of an already seeded task, in a process
 * of its own so its peak RSS is the split's (read, plan, pack, publish) and not the bench's.
 * Usage: split-1m.ts <endpoint> <table> <taskId> [tagged|replay]; `tagged` splits with stratify_by
 * "label" and group_by "group"; `replay` splits nothing and rebuilds the live split's answer, id
 * lists in order, as a retry with its Idempotency-Key does (publishedResult). Prints {ms, cpuMs,
 * baselineRssMb, peakRssMb, drawn}.
 */
import { readConfig } from "../lib/config.ts";
import { DEFAULT_SPLIT_OPTIONS } from "../lib/model.ts";
import { publishedResult, splitTask } from "../lib/split/split.ts";
import { createStore } from "../lib/store/index.ts";
import { usualCounts } from "./support.ts";

const [endpoint, tableName, taskId, mode] = process.argv.slice(2) as [string, string, string, string | undefined];
const store = createStore({ ...readConfig(), endpoint, tableName, budgetMs: 600_000 });
const task = await store.readTask(taskId);
if (!task) throw new Error(`no task ${taskId}`);
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const cpuMs = () => {
  const { userCPUTime, systemCPUTime } = process.resourceUsage();
  return (userCPUTime + systemCPUTime) / 1000;
};
const baselineRssMb = mb(process.memoryUsage().rss);
const start = performance.now();
const cpuStart = cpuMs();
const replayed = async () => {
  const live = task.published[0];
  const record = live && (await store.readRecord(taskId, live));
  if (!record) throw new Error(`task ${taskId} has no live split to replay`);
  const answer = await publishedResult(store, taskId, record);
  if (answer.idsLost) throw new Error(`the answer of split ${record.version} of ${taskId} could not be rebuilt`);
  return answer;
};
const result =
  mode === "replay"
    ? await replayed()
    : await splitTask(store, {
        taskId,
        counts: usualCounts(task.imageCount),
        seed: "rss",
        ...(mode === "tagged" ? { options: { ...DEFAULT_SPLIT_OPTIONS, stratifyBy: "label", groupBy: "group" } } : {}),
      });
const ms = performance.now() - start;
const drawn = result.drawn[0].length + result.drawn[1].length + result.drawn[2].length;
console.log(
  JSON.stringify({
    ms,
    cpuMs: cpuMs() - cpuStart,
    baselineRssMb,
    peakRssMb: mb(process.resourceUsage().maxRSS * 1024),
    drawn,
  }),
);
