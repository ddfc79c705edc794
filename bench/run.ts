/**
 * `npm run bench [-- --quick]`: the service against the storage's own speed, in one run on one
 * DynamoDB Local. Prints a table and writes bench/results.json.
 *   split      splitTask of n images  vs  raw parallel BatchWriteItem of the same items
 *   list       one 5000-image GET page vs  raw Query of the same index page
 *   plan       shuffle + plan of 1M ids (own process: time, peak RSS)
 *   bundles    each handler bundled as CDK bundles it: size, cold import time
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { build } from "esbuild";
import { chunk, forEachLimited } from "../lib/concurrency.ts";
import { readConfig } from "../lib/config.ts";
import type { SetSizes } from "../lib/model.ts";
import { ROUTES } from "../lib/routes.ts";
import { createStore } from "../lib/store.ts";
import { setKey, TABLE } from "../lib/table.ts";
import { startDynamoDbLocal } from "../scripts/dynamodb-local.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const quick = values.quick;
const SPLIT_SIZES = quick ? [2_000] : [10_000, 100_000];
const PLAN_SIZE = quick ? 100_000 : 1_000_000;
const ROUNDS = quick ? 2 : 3;

interface Row {
  name: string;
  service: number;
  baseline?: number;
  unit: string;
  target?: string;
  note?: string;
}
const rows: Row[] = [];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const timed = async (work: () => Promise<unknown>) => {
  const start = performance.now();
  await work();
  return performance.now() - start;
};
const imageIdOf = (i: number) => `2018070417${String(i).padStart(9, "0")}`;

async function benchStorage() {
  const db = await startDynamoDbLocal({ inMemory: true });
  try {
    const config = { ...readConfig(), endpoint: db.endpoint, tableName: "bench" };
    const store = createStore(config);
    await store.ensureTable();
    const raw = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: db.endpoint,
        region: "local",
        credentials: { accessKeyId: "b", secretAccessKey: "b" },
      }),
    );

    for (const n of SPLIT_SIZES) {
      const taskId = `bench-${n}`;
      for (let start = 0; start < n; start += 1000) {
        const images = [];
        for (let i = start; i < Math.min(n, start + 1000); i++)
          images.push({ imgId: imageIdOf(i), imgName: `img_${i}.jpg`, state: 0 });
        await store.registerImages({ taskId, images });
      }
      const counts: SetSizes = { 0: Math.floor(n * 0.7), 1: Math.floor(n * 0.1), 2: Math.floor(n * 0.2) };
      await store.splitTask({ taskId, counts, seed: "warm-up" });

      // The baseline writes what a split writes (every image item, with a slot index key) the plainest way.
      const rawTask = `raw-${n}`;
      const rawWrite = (round: number) =>
        forEachLimited(
          chunk(
            Array.from({ length: n }, (_, i) => i),
            25,
          ),
          config.writeConcurrency,
          async (batch) => {
            let pending = batch.map((i) => ({
              PutRequest: {
                Item: {
                  [TABLE.partitionKey]: rawTask,
                  [TABLE.sortKey]: imageIdOf(i),
                  img_name: `img_${i}.jpg`,
                  state: 0,
                  order_id: i + 1,
                  set_a: setKey(rawTask, round, 0, Math.floor(i / 10_000)),
                },
              },
            }));
            while (pending.length > 0) {
              const out = await raw.send(new BatchWriteCommand({ RequestItems: { bench: pending } }));
              pending = (out.UnprocessedItems?.bench ?? []) as typeof pending;
            }
          },
        );
      await rawWrite(0);

      const service: number[] = [];
      const baseline: number[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        service.push(await timed(() => store.splitTask({ taskId, counts, seed: `round-${round}` })));
        baseline.push(await timed(() => rawWrite(round)));
      }
      rows.push({
        name: `split ${n.toLocaleString("en")} images`,
        service: median(service),
        baseline: median(baseline),
        unit: "ms",
        target: "≤ 1.25×",
      });
    }

    // A page of 5000 from the largest split's training set.
    const n = SPLIT_SIZES.at(-1) as number;
    const taskId = `bench-${n}`;
    const limit = Math.min(5000, Math.floor(n * 0.7));
    // A one-image page's cursor names the live slot and version the raw query must read.
    const probe = (await store.listSet({ taskId, setType: 0, limit: 1, cursor: undefined })).nextCursor;
    if (!probe) throw new Error("the bench set has a single image");
    const { slot, version } = probe;
    const index = TABLE.slotIndexes[slot];
    const rawQuery = async () => {
      let got = 0;
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await raw.send(
          new QueryCommand({
            TableName: "bench",
            IndexName: index.indexName,
            KeyConditionExpression: "#k = :k",
            ExpressionAttributeNames: { "#k": index.partitionKey },
            ExpressionAttributeValues: { ":k": setKey(taskId, version, 0, 0) },
            Limit: limit - got,
            ExclusiveStartKey: startKey,
          }),
        );
        got += out.Items?.length ?? 0;
        startKey = out.LastEvaluatedKey;
      } while (startKey && got < limit);
      if (got !== limit) throw new Error(`raw query read ${got}, expected ${limit}`);
    };
    const service: number[] = [];
    const baseline: number[] = [];
    for (let round = 0; round < 10; round++) {
      service.push(await timed(() => store.listSet({ taskId, setType: 0, limit, cursor: undefined })));
      baseline.push(await timed(rawQuery));
    }
    rows.push({
      name: `GET page of ${limit}`,
      service: median(service),
      baseline: median(baseline),
      unit: "ms",
      target: "≤ 1.2×",
    });
  } finally {
    await db.stop();
  }
}

function benchPlan() {
  // Its own process, so peak RSS is the plan's (plus the 1M input objects it is given), not the bench's.
  const out = execFileSync(process.execPath, ["--import", "tsx", join(root, "bench/plan-1m.ts"), String(PLAN_SIZE)], {
    cwd: root,
    encoding: "utf8",
  });
  const result = JSON.parse(out) as { ms: number; baselineRssMb: number; peakRssMb: number };
  rows.push({
    name: `plan ${PLAN_SIZE.toLocaleString("en")} ids: time`,
    service: result.ms,
    unit: "ms",
    target: "< 1000 ms",
  });
  rows.push({
    name: `plan ${PLAN_SIZE.toLocaleString("en")} ids: peak RSS`,
    service: result.peakRssMb,
    unit: "MB",
    target: "< 300 MB",
    note: `${result.baselineRssMb} MB before planning (input ids)`,
  });
}

async function benchBundles() {
  // Inside the project, so the bundles resolve @aws-sdk/* from node_modules as Lambda's runtime provides it.
  const cache = join(root, "node_modules/.cache");
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, "bench-bundles-"));
  try {
    for (const route of ROUTES) {
      const outfile = join(dir, `${route.name}.mjs`);
      // As infra/service-function.ts bundles for Lambda.
      await build({
        entryPoints: [join(root, route.entry)],
        outfile,
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node22",
        minify: true,
        sourcemap: true,
        external: ["@aws-sdk/*"],
        mainFields: ["module", "main"],
        banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
        logLevel: "silent",
      });
      const bytes = statSync(outfile).size;
      const gzipped = gzipSync(readFileSync(outfile)).length;
      const probe = `const t = performance.now(); await import(${JSON.stringify(outfile)}); console.log(performance.now() - t);`;
      const imports = Array.from({ length: 5 }, () =>
        Number(
          execFileSync(process.execPath, ["--input-type=module", "-e", probe], {
            cwd: root,
            encoding: "utf8",
            env: { ...process.env, TABLE_NAME: "bench", AWS_REGION: "us-east-1" },
          }),
        ),
      );
      rows.push({
        name: `${route.name} bundle: cold import`,
        service: median(imports),
        unit: "ms",
        note: `${(bytes / 1024).toFixed(1)} KiB, ${(gzipped / 1024).toFixed(1)} KiB gzipped, SDK from the runtime`,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await benchStorage();
benchPlan();
await benchBundles();

const format = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
console.log(
  `\ntraining-sets bench (${quick ? "quick" : "full"}), Node ${process.version}, ${new Date().toISOString()}\n`,
);
console.log("| measure | service | baseline | ratio | target | note |");
console.log("|---|---|---|---|---|---|");
for (const row of rows) {
  const ratio = row.baseline ? `${(row.service / row.baseline).toFixed(2)}×` : "";
  const baseline = row.baseline ? `${format(row.baseline)} ${row.unit}` : "";
  console.log(
    `| ${row.name} | ${format(row.service)} ${row.unit} | ${baseline} | ${ratio} | ${row.target ?? ""} | ${row.note ?? ""} |`,
  );
}
writeFileSync(
  join(root, "bench/results.json"),
  `${JSON.stringify({ mode: quick ? "quick" : "full", node: process.version, at: new Date().toISOString(), rows }, null, 2)}\n`,
);
