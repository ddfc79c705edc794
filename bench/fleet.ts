/**
 * Scheduled re-splits at fleet scale, through the capacity model: many tasks whose schedules are
 * due the same minute, their runs made at most `DEFAULTS.resplitReservedConcurrency` at a time,
 * the concurrency the stack gives the run function. Each task is seeded, split once (so every run
 * re-splits a task that has sets, as a nightly schedule does), and given a schedule through the
 * API's own code (`setSchedule`) on the local engine. The runs take their input from the engine's
 * schedules exactly as its timers would fire them, without waiting for the clock, and go through
 * `runSchedule`, the code the local server's timers and the Lambda function call.
 *
 * Baseline, measured in the same run: the very same splits (the schedule's split, read the same
 * way, of the same tasks) made with `splitTask` at the same concurrency, without the schedule
 * machinery, in blocks that alternate with the runs'. Their ratio is what a schedule adds to a
 * split (reading the schedule, claiming the run, noting the split, settling and expiring run
 * records): the drain time of a crowd of runs is their number × one run's time / the concurrency,
 * and the ratio says how much of that time is the schedule's and how much the split's.
 */
import { loadavg } from "node:os";
import { chunk, forEachLimited } from "../lib/concurrency.ts";
import { readConfig, type StoreConfig } from "../lib/config.ts";
import { parseSplitOptions, parseSplitSizes } from "../lib/http/validate.ts";
import type { SplitSpec } from "../lib/model.ts";
import { type RunInput, scheduledTimeText } from "../lib/schedule/engine.ts";
import { nextRunAt, parseExpression, scheduleName, setSchedule } from "../lib/schedule/index.ts";
import { LocalScheduleEngine } from "../lib/schedule/local-engine.ts";
import type { ScheduleSettings } from "../lib/schedule/timing.ts";
import { runSchedule } from "../lib/split/resplit.ts";
import { splitTask } from "../lib/split/split.ts";
import { createStore, type Store } from "../lib/store/index.ts";
import type { CapacityModel } from "../test/support/capacity-model/index.ts";
import { startFaultProxy } from "../test/support/fault-proxy/index.ts";
import { drainOf, outcomeOf, PUBLISHED, spreadOf, tallyOutcomes, tallyText } from "./fleet-summary.ts";
import { type Measure, rawClient, seedTask, usualCounts } from "./support.ts";

export interface FleetOptions {
  tasks: number;
  imagesPerTask: number;
  /** Runs in flight at once: the run function's reserved concurrency. */
  concurrency: number;
  /** Runs due the same minute that the drain figure is computed for. */
  dueAtOnce: number;
  /** How long Lambda's asynchronous queue keeps a run waiting (RUN_MAX_EVENT_AGE), in minutes. */
  maxEventAgeMinutes: number;
}

/** Tasks seeded, split or scheduled at once while preparing (not measured). */
const SETUP_CONCURRENCY = 4;
/** Blocks the runs and the baseline's splits are measured in, in turn, each of at least 10 runs a lane. */
const BLOCKS = 10;
const MIN_BLOCK_RUNS_PER_LANE = 10;
/** Fewer runs than this are too few to hold the ratio to its target (the quick bench's tiny fleet). */
const JUDGED_FROM_RUNS = 100;
/** A nightly timetable: every task is due at the same minute. */
const EXPRESSION = "cron(0 2 * * ? *)";

const silent = () => undefined;
const loadText = () => loadavg()[0]!.toFixed(2);
const thousands = (n: number) => n.toLocaleString("en");

/** The time and units of one kind of work, over every block it ran in. */
interface Phase {
  elapsedMs: number;
  perRunMs: number[];
  writeUnits: number;
  readUnits: number;
  throttledCalls: number;
}

const emptyPhase = (): Phase => ({ elapsedMs: 0, perRunMs: [], writeUnits: 0, readUnits: 0, throttledCalls: 0 });

/** Runs `work` on every item, `concurrency` at a time, adding its time and the units the model counted to `phase`. */
async function measure<T>(
  capacity: CapacityModel,
  phase: Phase,
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  capacity.reset();
  const start = performance.now();
  await forEachLimited(items, concurrency, async (item) => {
    const begin = performance.now();
    await work(item);
    phase.perRunMs.push(performance.now() - begin);
  });
  phase.elapsedMs += performance.now() - start;
  const used = capacity.consumed();
  phase.writeUnits += used.writeUnits;
  phase.readUnits += used.readUnits;
  phase.throttledCalls += used.throttledCalls;
}

/** The schedule's split as a run reads it (lib/split/resplit.ts), for the baseline's direct split. */
function splitSpecOf(taskId: string, split: Record<string, unknown>): SplitSpec {
  const options = parseSplitOptions(split);
  return { taskId, ...parseSplitSizes(split), seed: undefined, ...(options ? { options } : {}) };
}

/** The status of each task's run record of the time `due` (`absent` when there is none). */
async function recordedRuns(store: Store, taskIds: readonly string[], due: string): Promise<string[]> {
  const statuses: string[] = [];
  await forEachLimited(taskIds, SETUP_CONCURRENCY, async (taskId) => {
    const runs = await store.schedules.readRuns(taskId);
    statuses.push(runs.find((run) => run.scheduledAt === due)?.status ?? "absent");
  });
  return statuses;
}

export async function benchFleet(config: StoreConfig, endpoint: string, options: FleetOptions): Promise<Measure[]> {
  const { tasks, imagesPerTask: n, concurrency } = options;
  const counts = usualCounts(n);
  const split = { training_count: counts[0], verifying_count: counts[2], testing_count: counts[1] };
  const settings: ScheduleSettings = {
    expression: EXPRESSION,
    timezone: "UTC",
    split,
    enabled: true,
    windowMinutes: 0,
  };
  const taskIds = Array.from({ length: tasks }, (_, i) => `fleet-${n}-${String(i + 1).padStart(5, "0")}`);

  // Not measured: every task seeded, split once, and scheduled, straight on DynamoDB Local.
  const direct = createStore({ ...config, endpoint });
  const db = rawClient(config, endpoint);
  const engine = new LocalScheduleEngine();
  const setAt = new Date();
  let prepared = 0;
  await forEachLimited(taskIds, SETUP_CONCURRENCY, async (taskId) => {
    await seedTask(db, config.tableName, taskId, n);
    await splitTask(direct, splitSpecOf(taskId, split));
    await setSchedule(direct.schedules, engine, taskId, settings, setAt);
    if (++prepared % Math.ceil(tasks / 10) === 0 || prepared === tasks)
      console.error(`  fleet: ${thousands(prepared)} of ${thousands(tasks)} tasks seeded, split once and scheduled`);
  });

  // What the local engine's timer passes to its runner when the schedule is due.
  const inputs = taskIds.map((taskId) => {
    const schedule = engine.get(scheduleName(taskId))!;
    const timing = {
      expression: parseExpression(schedule.expression),
      timezone: schedule.timezone,
      startDate: schedule.startDate,
    };
    const due = nextRunAt(timing, setAt)!;
    return { ...schedule.input, scheduled_time: scheduledTimeText(due) };
  });
  const dueTimes = new Set(inputs.map((input) => input.scheduled_time));
  if (dueTimes.size !== 1) throw new Error(`fleet: the schedules are due at ${dueTimes.size} different times`);

  const proxy = await startFaultProxy(endpoint, { capacity: true });
  // Each run's metric line would bury the bench's table.
  const metricsSetting = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  try {
    // As in Lambda: each run gets the deployed storage budget.
    const store: Store = createStore({ ...config, endpoint: proxy.endpoint, budgetMs: readConfig({}).budgetMs });
    const capacity = proxy.capacity!;
    const baseline = emptyPhase();
    const fleet = emptyPhase();
    const outcomes: string[] = [];
    const splitAlone = ({ taskId }: { taskId: string }) => splitTask(store, splitSpecOf(taskId, split)).then(() => {});
    const run = async ({ input }: { input: RunInput }) => {
      const { results } = await runSchedule(store, engine, input, { log: silent });
      outcomes.push(outcomeOf(results));
    };
    // Alternating blocks, each kind first in turn: a change in the machine's load touches both alike.
    const loadBefore = loadText();
    const blocks = chunk(
      taskIds.map((taskId, i) => ({ taskId, input: inputs[i]! })),
      Math.max(Math.ceil(tasks / BLOCKS), MIN_BLOCK_RUNS_PER_LANE * concurrency),
    );
    for (const [b, block] of blocks.entries()) {
      const splits = () => measure(capacity, baseline, block, concurrency, splitAlone);
      const runs = () => measure(capacity, fleet, block, concurrency, run);
      if (b % 2 === 0) await splits().then(runs);
      else await runs().then(splits);
      console.error(`  fleet: block ${b + 1} of ${blocks.length} measured`);
    }
    const load = `${loadBefore}→${loadText()}`;
    const recorded = await recordedRuns(direct, taskIds, inputs[0]!.scheduled_time);
    return fleetRows({ options, fleet, baseline, outcomes, recorded, load, blocks: blocks.length });
  } finally {
    if (metricsSetting === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = metricsSetting;
    await proxy.close();
  }
}

interface FleetResults {
  options: FleetOptions;
  fleet: Phase;
  baseline: Phase;
  /** What each run returned (outcomeOf). */
  outcomes: string[];
  /** What each task's run record says afterwards. */
  recorded: string[];
  /** The 1-minute load average before and after. */
  load: string;
  blocks: number;
}

function fleetRows({ options, fleet, baseline, outcomes, recorded, load, blocks }: FleetResults): Measure[] {
  const { tasks, imagesPerTask, concurrency, dueAtOnce, maxEventAgeMinutes } = options;
  const runs = spreadOf(fleet.perRunMs);
  const splits = spreadOf(baseline.perRunMs);
  const tally = tallyOutcomes(outcomes);
  const records = tallyOutcomes(recorded.map((status) => (status === "split" ? PUBLISHED : `recorded ${status}`)));
  const notPublished = Math.max(tasks - tally.published, tasks - records.published);
  const drain = drainOf({ runs: tasks, elapsedMs: fleet.elapsedMs }, dueAtOnce);
  const perRun = (units: number) => Math.round((units / tasks) * 10) / 10;
  const spreadRow = (which: keyof typeof runs) => ({
    name: `  one run: ${which}`,
    value: runs[which],
    unit: "ms",
    baseline: splits[which],
    baselineName: `the same splits' ${which}`,
  });
  return [
    {
      name: `${thousands(tasks)} scheduled runs of ${thousands(imagesPerTask)}-image tasks due at once, ${concurrency} at a time`,
      value: fleet.elapsedMs,
      unit: "ms",
      baseline: baseline.elapsedMs,
      baselineName: `the same ${thousands(tasks)} splits by splitTask, ${concurrency} at a time, without the schedule`,
      writeUnits: fleet.writeUnits,
      readUnits: fleet.readUnits,
      ...(tasks >= JUDGED_FROM_RUNS ? { target: { ratio: 1.5 } } : {}),
      note: `${blocks === 1 ? "measured in one block" : `measured in ${blocks} alternating blocks`}; throttled calls ${fleet.throttledCalls} (baseline ${baseline.throttledCalls}); baseline ${thousands(baseline.writeUnits)} WRU, ${thousands(baseline.readUnits)} RRU; 1-minute load average ${load}`,
    },
    spreadRow("p50"),
    spreadRow("p95"),
    spreadRow("max"),
    {
      name: "  one run: write units",
      value: perRun(fleet.writeUnits),
      unit: "WRU",
      baseline: perRun(baseline.writeUnits),
      baselineName: "one split",
    },
    {
      name: "  one run: read units",
      value: perRun(fleet.readUnits),
      unit: "RRU",
      baseline: perRun(baseline.readUnits),
      baselineName: "one split",
    },
    {
      name: "  runs not published",
      value: notPublished,
      unit: "runs",
      target: { max: 0 },
      note: `answers: ${tallyText(tally)}; run records: ${tallyText(records)}`,
    },
    {
      name: `  runs a minute, ${concurrency} at a time`,
      value: drain.runsPerMinute,
      unit: "runs/min",
    },
    {
      name: `  ${thousands(dueAtOnce)} runs due at once: drained after`,
      value: drain.minutes,
      unit: "min",
      target: { max: maxEventAgeMinutes },
      note: `at the pace above; a run still waiting in Lambda's asynchronous queue after RUN_MAX_EVENT_AGE (${maxEventAgeMinutes / 60} h) goes to the dead-letter queue`,
    },
  ];
}
