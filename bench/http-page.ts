/**
 * A big GET page through HTTP: the local gateway (scripts/local-gateway.ts) with the real handlers,
 * beside the same page read in process (store.listSet) and the plain reads of the order index it
 * cannot avoid, all in the same run on the same table. Returns rows for bench/run.ts.
 *
 * The page is 5,000 images of the 10% set of an n-image task split 70/10/20: its members are one
 * order_id in ten, so they span about ten times as many order_ids, over several index blocks. The
 * raw baselines, read the plainest way (whole entries, through the DocumentClient, as
 * bench/support.ts reads), are a Query of exactly the index range the members fall in, block by
 * block (what any reader of this page must read), and a Query of 5,000 contiguous index items
 * (what a page of a dense set reads).
 *
 * The handlers are imported here with this table's settings (they read them at import): nothing
 * run before this may have loaded them with others.
 */
import type { AddressInfo } from "node:net";
import { type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { forEachLimited } from "../lib/concurrency.ts";
import type { StoreConfig } from "../lib/config.ts";
import { TESTING } from "../lib/model.ts";
import { splitTask } from "../lib/split/split.ts";
import { retrying } from "../lib/store/client.ts";
import { createStore } from "../lib/store/index.ts";
import { orderBlockKey, orderBlockOf, TABLE } from "../lib/store/table.ts";
import { createGateway, loadHandlers } from "../scripts/local-gateway.ts";
import { type Measure, median, RAW_CONCURRENCY, rawClient, rawIndexPage, seedTask, usualCounts } from "./support.ts";

const PAGE = 5_000;
const ROUNDS = 9;

/** Wall time and this process's CPU time of each run of one measure. */
interface Runs {
  ms: number[];
  cpuMs: number[];
}

const runs = (): Runs => ({ ms: [], cpuMs: [] });

/**
 * Runs `work` once into `into`. The CPU time is this process's (the gateway, the handler, the SDK
 * and the fetch all run here): on a shared machine it moves far less than the wall time does.
 */
async function measure(into: Runs, work: () => Promise<unknown>): Promise<void> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await work();
  into.ms.push(performance.now() - start);
  const used = process.cpuUsage(cpu);
  into.cpuMs.push((used.user + used.system) / 1000);
}

/** One index Query range: a block and the order_ids [from, to] of the page's members in it. */
interface BlockRange {
  block: number;
  from: number;
  to: number;
}

/** The ranges of the order index that `orderIds` (ascending) fall in, one per index block. */
function blockRanges(orderIds: readonly number[]): BlockRange[] {
  const ranges: BlockRange[] = [];
  for (const orderId of orderIds) {
    const block = orderBlockOf(orderId);
    const last = ranges.at(-1);
    if (last?.block === block) last.to = orderId;
    else ranges.push({ block, from: orderId, to: orderId });
  }
  return ranges;
}

/** Every index item of `ranges`, one Query (and its next pages) per range, RAW_CONCURRENCY at once; items read. */
async function rawRanges(db: DynamoDBDocumentClient, table: string, taskId: string, ranges: readonly BlockRange[]) {
  const deadline = Date.now() + 60_000;
  const { indexName, partitionKey, sortKey } = TABLE.orderIndex;
  let read = 0;
  await forEachLimited(ranges, RAW_CONCURRENCY, async (range) => {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await retrying(deadline, () =>
        db.send(
          new QueryCommand({
            TableName: table,
            IndexName: indexName,
            KeyConditionExpression: "#block = :block AND #order BETWEEN :from AND :to",
            ExpressionAttributeNames: { "#block": partitionKey, "#order": sortKey },
            ExpressionAttributeValues: {
              ":block": orderBlockKey(taskId, range.block),
              ":from": range.from,
              ":to": range.to,
            },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      read += page.Items?.length ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  });
  return read;
}

/** Sets `values` in process.env for the duration of `work` (the handlers read it at import). */
async function withEnv<T>(values: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  Object.assign(process.env, values);
  try {
    return await work();
  } finally {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/**
 * The HTTP GET page of 5,000 from the 10% set of an `n`-image task, the same page in process, and
 * the raw index reads under it: medians of ROUNDS after a warm-up, the four interleaved round by round,
 * each with the CPU time it took in this process.
 */
export async function benchHttpPage(config: StoreConfig, endpoint: string, n: number): Promise<Measure[]> {
  const store = createStore({ ...config, endpoint });
  const db = rawClient(config, endpoint);
  const taskId = `http-page-${n}`;
  await seedTask(db, config.tableName, taskId, n);
  const counts = usualCounts(n);
  await splitTask(store, { taskId, counts, seed: "http-page" });
  const limit = Math.min(PAGE, counts[TESTING]);
  const query = { taskId, setType: TESTING, limit, cursor: undefined } as const;

  const page = await store.listSet(query);
  const ranges = blockRanges(page.images.map((image) => image.order_id));
  const spanned = (page.images.at(-1)?.order_id ?? 0) - (page.images[0]?.order_id ?? 0) + 1;

  // As `npm start` runs them: the handlers over this table, EMF lines off, the request log line on
  // (written to a sink here, so it is built as in Lambda but does not clutter the bench's output).
  const env = {
    DYNAMODB_ENDPOINT: endpoint,
    TABLE_NAME: config.tableName,
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? "true",
  };
  const server = createGateway(await withEnv(env, loadHandlers));
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/training/tasks/sets?task_id=${taskId}&set_type_id=${TESTING}&limit=${limit}`;
  const consoleLog = console.log;
  let logLines = 0;
  console.log = () => void logLines++;
  let answerBytes = 0;
  const get = async () => {
    const response = await fetch(url);
    const text = await response.text();
    if (response.status !== 200) throw new Error(`GET answered ${response.status}: ${text.slice(0, 300)}`);
    answerBytes = Buffer.byteLength(text);
  };

  const http = runs();
  const inProcess = runs();
  const raw = runs();
  const contiguous = runs();
  let rawItems = 0;
  try {
    await withEnv(env, async () => {
      // Warm-up, and the check that HTTP answers the very page the store lists.
      const response = await fetch(url);
      const body = (await response.json()) as { img_info_list?: { img_id: string }[] };
      const ids = body.img_info_list?.map((image) => image.img_id) ?? [];
      if (ids.length !== limit || ids.some((id, i) => id !== page.images[i]?.img_id)) {
        throw new Error(`GET answered ${ids.length} images, not the ${limit} the store lists`);
      }
      await store.listSet(query);
      rawItems = await rawRanges(db, config.tableName, taskId, ranges);
      await rawIndexPage(db, config.tableName, taskId, limit);
      for (let round = 0; round < ROUNDS; round++) {
        await measure(http, get);
        await measure(inProcess, () => store.listSet(query));
        await measure(raw, () => rawRanges(db, config.tableName, taskId, ranges));
        await measure(contiguous, () => rawIndexPage(db, config.tableName, taskId, limit));
      }
    });
  } finally {
    console.log = consoleLog;
    await new Promise<void>((closed) => server.close(() => closed()));
  }

  const of = `${limit.toLocaleString("en")} from the 10% set of ${n.toLocaleString("en")}`;
  const rawName = `raw Query of the index range the page's members fall in (${ranges.length} blocks)`;
  const ms = (r: Runs) => median(r.ms);
  const cpu = (r: Runs) => `${median(r.cpuMs).toFixed(0)} ms CPU here`;
  return [
    {
      name: `HTTP GET page of ${of}`,
      value: ms(http),
      unit: "ms",
      baseline: ms(raw),
      baselineName: rawName,
      target: { max: 1_000 },
      note: `median of ${ROUNDS}; local gateway and real handler in this process, fetch to the end of the body; ${cpu(http)}; ${(answerBytes / 1e6).toFixed(2)} MB answer; ${logLines / (ROUNDS + 1)} log line a request`,
    },
    {
      name: `  store.listSet of the same page (in process)`,
      value: ms(inProcess),
      unit: "ms",
      baseline: ms(raw),
      baselineName: rawName,
      note: `${cpu(inProcess)}; HTTP adds ${(ms(http) - ms(inProcess)).toFixed(0)} ms, ${(median(http.cpuMs) - median(inProcess.cpuMs)).toFixed(0)} ms CPU (the answer's JSON, middy, the log line, the gateway, the fetch)`,
    },
    {
      name: `  ${rawName}`,
      value: ms(raw),
      unit: "ms",
      note: `${rawItems.toLocaleString("en")} index items for ${limit.toLocaleString("en")} members spanning ${spanned.toLocaleString("en")} order_ids; one Query (and its next pages) per block, in parallel, whole entries; ${cpu(raw)}`,
    },
    {
      name: `  raw Query of ${limit.toLocaleString("en")} contiguous order-index items`,
      value: ms(contiguous),
      unit: "ms",
      note: `one block: what a page of the 70% set reads; ${cpu(contiguous)}`,
    },
  ];
}
