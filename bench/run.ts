/**
 * `npm run bench [-- --quick] [-- --aws-model] [-- --million] [-- --fleet]`: the service against the
 * storage's own speed, every baseline measured in the same run on one DynamoDB Local. Prints a
 * table and writes bench/results.json.
 *
 * Sections (all run by default; `--aws-model` runs only the capacity model's, without the fleet;
 * `--fleet` runs only the fleet, at its full size):
 *   local         DynamoDB Local, no limits: split vs the old design's per-image rewrite (raw
 *                 BatchWriteItem of as many image items) and vs a raw strongly consistent read of
 *                 the images; a 5,000-image GET page vs a raw Query of the order index.
 *                 A GET page of 5,000 from the 10% set through the local gateway (bench/http-page.ts),
 *                 beside the same page in process and the raw index reads under it.
 *   aws-model     The same calls through test/support/fault-proxy/ with DynamoDB's per-partition
 *                 limits (1,000 WCU/s, 3,000 RCU/s per partition key value, table and index apart):
 *                 answer time and consumed units. Buckets are refilled (capacity.reset) before each
 *                 measurement: every measure starts on an idle task.
 *   registration  Images registered through the store in requests of 1,000, through a proxy whose
 *                 limits are unreachable (it only counts units): time and WRU.
 *   uploaders     8 uploaders registering into one task while it is split, with transaction
 *                 conflicts injected and the per-partition limits applied (bench/uploaders.ts).
 *   history       What registering, deleting, publishing and listing cost after a long history
 *                 (bench/history.ts), beside the same on a task without one.
 *   process       (bench/process.ts) the plan alone of 1M images, plain and labelled and grouped;
 *                 handler bundles; with --million (also with --aws-model) the peak RSS of a split of
 *                 1M images and of 1M with 1,000 labels and 250,000 groups (stratify_by + group_by),
 *                 each in its own process with Lambda's heap flags, against half the function's memory.
 *   fleet         (bench/fleet.ts) scheduled runs of many tasks due at once, at the run function's
 *                 reserved concurrency, through the capacity model: 1,000 tasks of 1,000 images with
 *                 --fleet, 100 of 1,000 by default, 10 of 100 with --quick.
 * Big tasks are seeded straight into the table; only the registration measure registers. The last
 * line says whether every target was met, naming each one missed.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULTS } from "../infra/defaults.ts";
import { RUN_MAX_EVENT_AGE } from "../infra/schedules.ts";
import { readConfig, type StoreConfig } from "../lib/config.ts";
import type { SetSizes, SetType } from "../lib/model.ts";
import { splitTask } from "../lib/split/split.ts";
import { createStore } from "../lib/store/index.ts";
import { startDynamoDbLocal } from "../scripts/dynamodb-local.ts";
import { PROJECT_ROOT } from "../scripts/project-root.ts";
import { type FaultProxy, startFaultProxy } from "../test/support/fault-proxy/index.ts";
import { benchFleet } from "./fleet.ts";
import { benchHistory } from "./history.ts";
import { benchHttpPage } from "./http-page.ts";
import { benchBundles, benchPlan, benchSplitRss } from "./process.ts";
import { benchRegistration } from "./registration.ts";
import { format, printTable, type Row, type Section, sizeName, summaryLine, writeResults } from "./report.ts";
import {
  imageItem,
  itemBytes,
  median,
  rawClient,
  rawIndexPage,
  rawRead,
  rawWrite,
  seedTask,
  timed,
  usualCounts,
} from "./support.ts";
import { benchUploaders } from "./uploaders.ts";

const root = PROJECT_ROOT;
const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "aws-model": { type: "boolean", default: false },
    million: { type: "boolean", default: false },
    /** The "million" task's size: a smaller one checks the --million path quickly. */
    "million-size": { type: "string", default: "1000000" },
    fleet: { type: "boolean", default: false },
    /** The fleet's size with --fleet: smaller ones check its path quickly. */
    "fleet-tasks": { type: "string", default: "1000" },
    "fleet-images": { type: "string", default: "1000" },
  },
});
const quick = values.quick;
const fleetOnly = values.fleet;
const modelOnly = values["aws-model"] && !fleetOnly;
const everything = !modelOnly && !fleetOnly;
const million = values.million && !fleetOnly;

const LOCAL_SIZES = quick ? [2_000, 5_000] : [10_000, 20_000, 100_000];
const MODEL_SIZES = quick ? [2_000, 5_000] : [10_000, 100_000];
const REGISTER_SIZE = quick ? 20_000 : 100_000;
const PLAN_SIZE = quick ? 100_000 : 1_000_000;
const MILLION = Number(values["million-size"]);
const FLEET = fleetOnly
  ? { tasks: Number(values["fleet-tasks"]), imagesPerTask: Number(values["fleet-images"]) }
  : quick
    ? { tasks: 10, imagesPerTask: 100 }
    : { tasks: 100, imagesPerTask: 1_000 };
/** Scheduled runs due the same minute that the fleet's drain figure is given for. */
const DUE_AT_ONCE = 10_000;
const ROUNDS = 3;
const PAGE = 5_000;
const TABLE_NAME = "bench";

const rows: Row[] = [];
const add = (row: Row) => {
  rows.push(row);
  console.error(`  ${row.section}: ${row.name}: ${format(row.value)} ${row.unit}`);
};

const pageQuery = (taskId: string, setType: SetType, limit: number) =>
  ({ taskId, setType, limit, cursor: undefined }) as const;

/**
 * Runs `work` on a DynamoDB Local of its own, started empty: a measure of throughput under the
 * partition limits is the model's only while DynamoDB Local itself keeps up, and one that holds the
 * --million tasks (2M items) writes slower than the task partition's 1,000 WCU/s.
 */
async function onFreshDynamoDbLocal<T>(
  config: StoreConfig,
  work: (config: StoreConfig, endpoint: string) => Promise<T>,
) {
  const own = await startDynamoDbLocal({ inMemory: true });
  try {
    const fresh = { ...config, endpoint: own.endpoint };
    await createStore(fresh).ensureTable();
    return await work(fresh, own.endpoint);
  } finally {
    await own.stop();
  }
}

/** Consumed units of one measured call through the model, its buckets full at the start. */
async function metered(proxy: FaultProxy, work: () => Promise<unknown>) {
  const capacity = proxy.capacity!;
  capacity.reset();
  const ms = await timed(work);
  const used = capacity.consumed();
  return { ms, writeUnits: used.writeUnits, readUnits: used.readUnits, throttled: used.throttledCalls, used };
}

// ---------------------------------------------------------------------------------------------

async function benchLocal(config: StoreConfig, endpoint: string) {
  console.error("local (DynamoDB Local, no limits)");
  const store = createStore({ ...config, endpoint });
  const db = rawClient(config, endpoint);
  for (const n of LOCAL_SIZES) {
    const taskId = `local-split-${n}`;
    const rawTask = `local-raw-${n}`;
    await seedTask(db, TABLE_NAME, taskId, n);
    await rawWrite(db, TABLE_NAME, rawTask, n);
    const counts = usualCounts(n);
    await splitTask(store, { taskId, counts, seed: "warm-up" });

    const split: number[] = [];
    const write: number[] = [];
    const read: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      split.push(await timed(() => splitTask(store, { taskId, counts, seed: `round-${round}` })));
      // The old design's split: every image item rewritten (state changes, so the index entry does too).
      write.push(await timed(() => rawWrite(db, TABLE_NAME, rawTask, n, { state: round })));
      read.push(await timed(() => rawRead(db, TABLE_NAME, taskId, n)));
    }
    add({
      section: "local",
      name: `split ${sizeName(n)} images`,
      value: median(split),
      unit: "ms",
      baseline: median(write),
      baselineName: "raw rewrite of every image item (BatchWriteItem ×16)",
      target: { ratio: 0.5 },
    });
    add({
      section: "local",
      name: `  raw consistent read of the ${sizeName(n)} image items`,
      value: median(read),
      unit: "ms",
      note: `what a split cannot avoid: split = ${(median(split) / median(read)).toFixed(2)}× this`,
    });
  }

  // A page of 5,000 from the 70% set of the largest task.
  const n = LOCAL_SIZES.at(-1) as number;
  const taskId = `local-split-${n}`;
  const limit = Math.min(PAGE, Math.floor(n * 0.7));
  await store.listSet(pageQuery(taskId, 0, limit));
  await rawIndexPage(db, TABLE_NAME, taskId, limit);
  const service: number[] = [];
  const baseline: number[] = [];
  for (let round = 0; round < 7; round++) {
    service.push(await timed(() => store.listSet(pageQuery(taskId, 0, limit))));
    baseline.push(await timed(() => rawIndexPage(db, TABLE_NAME, taskId, limit)));
  }
  add({
    section: "local",
    name: `GET page of ${limit.toLocaleString("en")} (70% set of ${sizeName(n)})`,
    value: median(service),
    unit: "ms",
    baseline: median(baseline),
    baselineName: `raw Query of ${limit.toLocaleString("en")} order-index items`,
    target: { ratio: 1.5 },
  });
}

// ---------------------------------------------------------------------------------------------

async function benchModel(config: StoreConfig, endpoint: string) {
  console.error("aws-model (per-partition limits through the capacity proxy)");
  const proxy = await startFaultProxy(endpoint, { capacity: true });
  try {
    const store = createStore({ ...config, endpoint: proxy.endpoint });
    const direct = rawClient(config, endpoint);
    const db = rawClient(config, proxy.endpoint);
    let rewritePerImage = { writeUnits: 0, ms: 0 };

    /** `big`: seeded and split already (the RSS run), its rewrite computed from the last one measured. */
    const splitRows = async (n: number, big: boolean) => {
      const taskId = `model-split-${n}`;
      const warm = !big;
      if (warm) await seedTask(direct, TABLE_NAME, taskId, n);
      const counts = usualCounts(n);
      if (warm) await splitTask(store, { taskId, counts, seed: "warm-up" });
      const split = await metered(proxy, () => splitTask(store, { taskId, counts, seed: "measured" }));
      let rewrite: Awaited<ReturnType<typeof metered>> | undefined;
      if (!big) {
        const rawTask = `model-raw-${n}`;
        await rawWrite(direct, TABLE_NAME, rawTask, n);
        rewrite = await metered(proxy, () => rawWrite(db, TABLE_NAME, rawTask, n, { state: 1 }));
        rewritePerImage = { writeUnits: rewrite.writeUnits / n, ms: rewrite.ms / n };
      }
      const read = await metered(proxy, () => rawRead(db, TABLE_NAME, taskId, n));
      const rewriteMs = rewrite?.ms ?? rewritePerImage.ms * n;
      add({
        section: "aws-model",
        name: `split ${sizeName(n)} images`,
        value: split.ms,
        unit: "ms",
        baseline: rewriteMs,
        baselineName: rewrite ? "old design: every image item rewritten" : "old design, computed",
        writeUnits: split.writeUnits,
        readUnits: split.readUnits,
        ...(n >= 100_000 ? { target: { max: big ? 25_000 : 5_000 } } : {}),
        note: `${split.throttled} throttled calls`,
      });
      add({
        section: "aws-model",
        name: `  old design: rewrite of ${sizeName(n)} image items${rewrite ? "" : " (computed)"}`,
        value: rewriteMs,
        unit: "ms",
        writeUnits: rewrite?.writeUnits ?? Math.round(rewritePerImage.writeUnits * n),
        ...(rewrite ? { readUnits: rewrite.readUnits } : {}),
        note: rewrite
          ? `BatchWriteItem ×16; ${rewrite.used.unprocessedItems} items returned unprocessed, ${rewrite.throttled} calls refused`
          : `n × the ${sizeName(MODEL_SIZES.at(-1)!)} rewrite's time and WRU per image (measuring it would take n / 1,000 WCU/s)`,
      });
      add({
        section: "aws-model",
        name: `  raw consistent read of the ${sizeName(n)} image items`,
        value: read.ms,
        unit: "ms",
        readUnits: read.readUnits,
        note: `what the model allows for reading: split = ${(split.ms / read.ms).toFixed(2)}× this; ${read.throttled} throttled calls`,
      });
      return taskId;
    };

    let taskId = "";
    for (const n of MODEL_SIZES) taskId = await splitRows(n, false);
    const n = MODEL_SIZES.at(-1) as number;

    // GET pages of the largest task: the 70% and 10% sets, then a 1% set (after a split that makes one).
    const page = async (setType: SetType, share: string, size: number, target?: number) => {
      const limit = Math.min(PAGE, size);
      await store.listSet(pageQuery(taskId, setType, limit));
      const runs = [];
      for (let round = 0; round < 5; round++)
        runs.push(await metered(proxy, () => store.listSet(pageQuery(taskId, setType, limit))));
      const times = runs.map((r) => r.ms);
      const last = runs.at(-1)!;
      add({
        section: "aws-model",
        name: `GET page of ${limit.toLocaleString("en")} from the ${share} set of ${sizeName(n)}`,
        value: median(times),
        unit: "ms",
        readUnits: last.readUnits,
        ...(target ? { target: { max: target } } : {}),
        note: `median of 5, each on full buckets; ${last.throttled} throttled calls`,
      });
    };
    await page(0, "70%", usualCounts(n)[0], 1000);
    await page(1, "10%", usualCounts(n)[1], 1000);
    const onePercent: SetSizes = { 0: Math.floor(n * 0.7), 1: Math.floor(n * 0.01), 2: Math.floor(n * 0.2) };
    await splitTask(createStore({ ...config, endpoint }), { taskId, counts: onePercent, seed: "one-percent" });
    await page(1, "1%", onePercent[1]);
    const raw = await metered(proxy, () => rawIndexPage(db, TABLE_NAME, taskId, Math.min(PAGE, n)));
    add({
      section: "aws-model",
      name: `  raw Query of ${Math.min(PAGE, n).toLocaleString("en")} order-index items`,
      value: raw.ms,
      unit: "ms",
      readUnits: raw.readUnits,
      note: "one index partition, eventually consistent",
    });

    if (million) {
      // A failure here must not lose the rest of the run: it becomes a row.
      const failed = (section: Section, name: string, unit: string) => (error: unknown) =>
        add({ section, name, value: Number.NaN, unit, note: `FAILED: ${String(error).slice(0, 300)}` });
      try {
        console.error(`seeding ${sizeName(MILLION)} images`);
        await seedTask(direct, TABLE_NAME, `model-split-${MILLION}`, MILLION);
        // Its own process, DynamoDB Local without limits; also the warm-up: the task has a live split after it.
        add({ section: "process", ...benchSplitRss(endpoint, TABLE_NAME, `model-split-${MILLION}`, MILLION, "plain") });
        add({
          section: "process",
          ...benchSplitRss(endpoint, TABLE_NAME, `model-split-${MILLION}`, MILLION, "replay"),
        });
        await splitRows(MILLION, true);
      } catch (error) {
        failed("aws-model", `split ${sizeName(MILLION)} images`, "ms")(error);
      }
      try {
        console.error(`seeding ${sizeName(MILLION)} images with labels and groups`);
        await seedTask(direct, TABLE_NAME, `tagged-split-${MILLION}`, MILLION, { tagged: true });
        add({
          section: "process",
          ...benchSplitRss(endpoint, TABLE_NAME, `tagged-split-${MILLION}`, MILLION, "tagged"),
        });
      } catch (error) {
        failed("process", `split ${sizeName(MILLION)} labelled, grouped images: peak RSS`, "MB")(error);
      }
    }
  } finally {
    await proxy.close();
  }
}

// ---------------------------------------------------------------------------------------------

const started = performance.now();
const db = await startDynamoDbLocal({ inMemory: true });
try {
  const config: StoreConfig = { ...readConfig(), endpoint: db.endpoint, tableName: TABLE_NAME, budgetMs: 600_000 };
  await createStore(config).ensureTable();
  if (everything) await benchLocal(config, db.endpoint);
  if (everything) {
    console.error("http (a GET page of the 10% set through the local gateway)");
    for (const row of await benchHttpPage(config, db.endpoint, LOCAL_SIZES.at(-1) as number))
      add({ section: "local", ...row });
  }
  if (!fleetOnly) await benchModel(config, db.endpoint);
  if (everything) {
    console.error("registration (counted through a proxy with unreachable limits)");
    add({ section: "registration", ...(await benchRegistration(config, db.endpoint, REGISTER_SIZE)) });
  }
  if (!fleetOnly) {
    console.error("uploaders (8 in parallel into one task, through conflicts and the per-partition limits)");
    const up = await onFreshDynamoDbLocal(config, (fresh, endpoint) =>
      benchUploaders(fresh, endpoint, quick ? { imagesPerUploader: 500 } : {}),
    );
    add({
      section: "aws-model",
      name: `8 uploaders × ${quick ? "500" : "10k"} images into one task (calls of 1,000), split ${up.splitsCodes.length}× meanwhile`,
      value: up.registrationsMs,
      unit: "ms",
      writeUnits: up.writeUnits,
      readUnits: up.readUnits,
      note: `${up.conflictsInjected} conflicts injected; ${up.registrationRetries}/${up.registrationCalls} calls answered 503 and were sent again; splits ${up.splitsCodes.join(", ")}`,
    });
    add({
      section: "aws-model",
      name: `the slowest of those ${up.registrationCalls} registration calls (each within its storage budget)`,
      value: up.slowestCallMs,
      unit: "ms",
      target: { max: up.budgetMs },
      note: `${up.registrationRetries} answered 503 and sent again`,
    });
    add({
      section: "aws-model",
      name: "splits meanwhile answering other than 200 or 1008",
      value: up.splitsCodes.filter((code) => code !== 200 && code !== 1008).length,
      unit: "splits",
      target: { max: 0 },
      note: `answered ${up.splitsCodes.join(", ")}`,
    });
    console.error("history (units counted through a proxy with unreachable limits)");
    for (const row of await benchHistory(config, db.endpoint, quick ? 5 : 25)) add({ section: "history", ...row });
  }
  if (!modelOnly) {
    const concurrency = DEFAULTS.resplitReservedConcurrency;
    console.error(
      `fleet (${FLEET.tasks} scheduled runs of ${sizeName(FLEET.imagesPerTask)}-image tasks due at once, ${concurrency} at a time, through the capacity model)`,
    );
    const options = {
      ...FLEET,
      concurrency,
      dueAtOnce: DUE_AT_ONCE,
      maxEventAgeMinutes: RUN_MAX_EVENT_AGE.toMinutes(),
    };
    for (const row of await benchFleet(config, db.endpoint, options)) add({ section: "fleet", ...row });
  }
} finally {
  await db.stop();
}
if (everything) {
  console.error("process (plan alone, handler bundles)");
  for (const row of [...benchPlan(PLAN_SIZE), ...(await benchBundles())]) add({ section: "process", ...row });
}

const imageBytes = itemBytes(imageItem("model-split-100000", 100_000));
const runName = fleetOnly ? "fleet only" : `${quick ? "quick" : "full"}${modelOnly ? ", aws-model only" : ""}`;
printTable(
  [
    `training-sets bench (${runName}${million ? ", with 1M" : ""}), Node ${process.version}, ${new Date().toISOString()}, ${((performance.now() - started) / 1000).toFixed(0)} s`,
    `image items of ~${imageBytes} bytes; aws-model = DynamoDB Local behind test/support/fault-proxy/ with 1,000 WCU/s and 3,000 RCU/s per partition key value (table and index apart); WRU/RRU are the units it counted`,
  ],
  rows,
);
const summary = summaryLine(rows);
console.log(`\n${summary}`);
const sections: Section[] = fleetOnly
  ? ["fleet"]
  : modelOnly
    ? ["aws-model", "history", ...(million ? (["process"] as const) : [])]
    : ["local", "aws-model", "registration", "history", "process", "fleet"];
writeResults(
  join(root, "bench/results.json"),
  {
    mode: fleetOnly ? "fleet" : quick ? "quick" : "full",
    sections,
    million,
    node: process.version,
    at: new Date().toISOString(),
    imageItemBytes: imageBytes,
  },
  summary,
  rows,
);
