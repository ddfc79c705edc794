/**
 * `npm start`: the API on http://127.0.0.1:8000 over the embedded DynamoDB Local.
 * DYNAMODB_ENDPOINT (+ TABLE_NAME, AWS_REGION) points it at another DynamoDB; then no Java is started.
 */
import { rm } from "node:fs/promises";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULTS } from "../infra/defaults.ts";
import { limited } from "../lib/concurrency.ts";
import { readConfig, readIdempotencySettings } from "../lib/config.ts";
import { ensureIdempotencyTable, idempotencyClient } from "../lib/http/idempotency.ts";
import { engineScheduleOf, localScheduleEngine, type RunInput, scheduleName } from "../lib/schedule/index.ts";
import { runSchedule } from "../lib/split/resplit.ts";
import { isLoopback } from "../lib/store/client.ts";
import { createStore } from "../lib/store/index.ts";
import { shownTaskId } from "../lib/store/task-key.ts";
import { dynamoDbLocalUnlessEndpoint, JavaMissingError, type RunningDynamoDb } from "./dynamodb-local.ts";
import { CALLER_ACCOUNT_HEADER, createGateway, type LocalAuth, loadHandlers } from "./local-gateway.ts";

const USAGE = `usage: npm start [-- options]

Serves the training-sets API on http://127.0.0.1:8000 over an embedded DynamoDB Local.

  --in-memory   keep nothing (default: data persists under .data/)
  --data DIR    keep the data in DIR instead of .data/
  --reset       start from an empty data folder (the demo task registered again)
  --port N      listen on port N (default 8000, or PORT)
  --host H      listen on address H (default 127.0.0.1)
  --auth MODE   who the caller is, to try tenancy (loopback only): none (default); cognito (each
                request's tenant is a claim of an unsigned JWT in Authorization: Bearer, read and
                not verified); iam with --tenancy account (X-Caller-Account names the account)
  --tenant-claim NAME   the claim that names the tenant under --auth cognito (default custom:tenant)
  --tenancy account     each account is a tenant (with --auth iam)
  --help        show this

Environment: DYNAMODB_ENDPOINT (another DynamoDB: no Java is started), TABLE_NAME, AWS_REGION,
and the service's settings (docs/operations.md "Configuration").`;

const DEMO_TASK = "2018062212345678911";
const DEMO_NAMES = ["img_拓海_1.png", ...Array.from({ length: 9 }, (_, i) => `img_${i + 1}.jpg`)];

const log = (line: string) => console.log(`[training-sets] ${line}`);

/** Bad usage or a start-up problem: one line, exit code 2 (usage) or 1, nothing left running. */
async function fail(message: string, code: number): Promise<never> {
  console.error(`[training-sets] ${message}`);
  await database?.stop();
  process.exit(code);
}

let database: RunningDynamoDb | undefined;
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await database?.stop();
  process.exit(0);
};
// A process manager's SIGTERM, Ctrl-C's SIGINT, a closed terminal's SIGHUP: Java stops with us.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop());
// npm does not pass a SIGTERM on to its script: when `npm start` is killed, we are orphaned. Stop then too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop();
}, 500).unref();

function readOptions() {
  try {
    return parseArgs({
      options: {
        "in-memory": { type: "boolean", default: false },
        reset: { type: "boolean", default: false },
        data: { type: "string", default: ".data/" },
        port: { type: "string", default: process.env.PORT ?? "8000" },
        host: { type: "string", default: "127.0.0.1" },
        auth: { type: "string", default: "none" },
        tenancy: { type: "string" },
        "tenant-claim": { type: "string" },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    console.error(`[training-sets] ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}
const options = readOptions();
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
const port = Number(options.port);
if (!/^\d+$/.test(options.port) || port < 1 || port > 65535) {
  await fail(`--port must be a number from 1 to 65535, got "${options.port}"`, 2);
}

/** The caller the local gateway passes on (LocalAuth), and the TENANCY the functions read; refuses what would open tenancy to the network. */
async function localAuth(): Promise<LocalAuth> {
  const { auth, tenancy, host } = options;
  const claim = options["tenant-claim"];
  const loopback = isLoopback(`http://${host.includes(":") ? `[${host}]` : host}`);
  if (auth !== "none" && !loopback) {
    return fail(`--auth ${auth} reads credentials it does not verify: only on a loopback --host, not ${host}`, 2);
  }
  if (auth === "none" && tenancy === undefined && claim === undefined) return { type: "none" };
  if (auth === "cognito" && tenancy === undefined) {
    process.env.TENANCY = "claim";
    if (claim !== undefined) process.env.TENANT_CLAIM = claim;
    return { type: "cognito" };
  }
  if (auth === "iam" && tenancy === "account" && claim === undefined) {
    process.env.TENANCY = "account";
    return { type: "iam-account" };
  }
  return fail("--auth must be none, cognito (optionally with --tenant-claim NAME) or iam with --tenancy account", 2);
}
const auth = await localAuth();

/** Fails at once when the port is taken, before DynamoDB Local takes seconds to start. */
async function portFree(): Promise<void> {
  const probe = createServer();
  const problem = await new Promise<NodeJS.ErrnoException | undefined>((settled) => {
    probe.once("error", settled);
    probe.listen(port, options.host, () => probe.close(() => settled(undefined)));
  });
  if (problem) await fail(listenProblem(problem), 1);
}

function listenProblem(error: NodeJS.ErrnoException): string {
  return error.code === "EADDRINUSE"
    ? `port ${port} is already in use: pass another with --port N (or PORT=N)`
    : `cannot listen on ${options.host}:${port}: ${error.message}`;
}
await portFree();
const dataDir = resolve(options.data);
if (options.reset) {
  if (options["in-memory"] || process.env.DYNAMODB_ENDPOINT) {
    await fail(
      "--reset empties the data folder, the embedded DynamoDB Local's files: not with --in-memory or DYNAMODB_ENDPOINT",
      2,
    );
  }
  await rm(dataDir, { recursive: true, force: true });
  log(`removed ${options.data}: starting from an empty database`);
}

// Split progress lines (lib/split/split.ts logs them at debug) help when a big split takes a while.
process.env.LOG_LEVEL ??= "debug";
// CloudWatch metric lines (EMF) mean nothing on a terminal; POWERTOOLS_METRICS_DISABLED=false shows them.
process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
const config = readConfig();
const inMemory = options["in-memory"];
try {
  database = await dynamoDbLocalUnlessEndpoint({ inMemory, dataDir });
} catch (error) {
  await fail(
    error instanceof JavaMissingError ? error.message : `DynamoDB Local did not start: ${(error as Error).message}`,
    1,
  );
}
if (database) {
  // Scripts read this line for the endpoint.
  log(`DynamoDB Local on ${database.endpoint} (${inMemory ? "in memory" : `data in ${options.data}`})`);
} else {
  log(`using DynamoDB at ${process.env.DYNAMODB_ENDPOINT}, table ${config.tableName}, region ${config.region}`);
}

const store = createStore({ ...config, endpoint: process.env.DYNAMODB_ENDPOINT });
const causeOf = (error: unknown) => ((error as { cause?: Error }).cause ?? (error as Error)).message;
if (isLoopback(process.env.DYNAMODB_ENDPOINT)) {
  // Our own DynamoDB Local, or one on this machine: make the table if it is not there.
  let created = false;
  try {
    created = await store.ensureTable();
  } catch (error) {
    await fail(`table ${config.tableName}: ${causeOf(error)}`, 1);
  }
  // The Idempotency-Key table, as the stack makes it (docs/api.md "Idempotency keys").
  const idempotencyTable = readIdempotencySettings().tableName;
  try {
    const endpoint = process.env.DYNAMODB_ENDPOINT;
    await ensureIdempotencyTable(idempotencyClient({ ...config, endpoint }), idempotencyTable);
  } catch (error) {
    await fail(`table ${idempotencyTable}: ${causeOf(error)}`, 1);
  }
  if (created) {
    // Only into an empty database, so a restart never undoes what was done to the demo task.
    const demo = await store.registerImages({
      taskId: DEMO_TASK,
      images: DEMO_NAMES.map((name, i) => ({ imgId: `20180704178605640${String(i).padStart(2, "0")}`, imgName: name })),
    });
    log(`registered demo task ${DEMO_TASK} with ${demo.added} images`);
  }
} else {
  const ready = await store.tableReady().catch((error: unknown) => fail(`cannot reach DynamoDB: ${causeOf(error)}`, 1));
  if (!ready) {
    await fail(
      `table ${config.tableName} (with its order index) not found in region ${config.region} at ${process.env.DYNAMODB_ENDPOINT}: deploy the stack or set TABLE_NAME`,
      1,
    );
  }
}

/** Scheduled runs at once: as many as the stack's reserved concurrency lets its run function take; the rest wait their turn. */
const inTurn = limited(DEFAULTS.resplitReservedConcurrency);

/** One line per scheduled run in the request log: the task, when it was due, what came of it, how long it took. */
const runLocally = (input: RunInput): Promise<void> => inTurn(() => runNow(input));

async function runNow(input: RunInput): Promise<void> {
  const started = performance.now();
  const line = `RUN schedule task=${shownTaskId(input.task_key)} due=${input.scheduled_time}`;
  try {
    const [result] = (await runSchedule(store, localScheduleEngine, input)).results;
    const outcome = !result
      ? "nothing to do"
      : result.outcome === "split"
        ? `split version=${result.version}`
        : `${result.outcome} code=${result.code ?? "-"}`;
    log(`${line} ${outcome} ${Math.round(performance.now() - started)} ms`);
  } catch (error) {
    log(`${line} failed: ${causeOf(error)} ${Math.round(performance.now() - started)} ms`);
  }
}

// The schedules run in-process: rebuilt from the schedule items, each fired at its next run.
const scheduled = await store.schedules.list().catch((error: unknown) => fail(`schedules: ${causeOf(error)}`, 1));
for (const { taskKey, schedule } of scheduled) {
  await localScheduleEngine.put(scheduleName(taskKey), engineScheduleOf(taskKey, schedule, new Date()));
  if (schedule.state === "pending") await store.schedules.mark(taskKey, schedule.revision, "active");
}
localScheduleEngine.start(runLocally);
log(`${scheduled.length} schedule(s) run in-process`);

const gateway = createGateway(await loadHandlers(), { log, auth });
await new Promise<void>((listening) => {
  gateway.once("error", (error: NodeJS.ErrnoException) => void fail(listenProblem(error), 1));
  gateway.listen(port, options.host, () => listening());
});
log(`listening on http://${options.host}:${port}`);
if (auth.type === "cognito") {
  log(
    `tenancy on: each request's tenant is the "${process.env.TENANT_CLAIM ?? "custom:tenant"}" claim of its unsigned JWT (Authorization: Bearer …, read, not verified)`,
  );
} else if (auth.type === "iam-account") {
  log(`tenancy on: each request's tenant is the account its ${CALLER_ACCOUNT_HEADER} header names (not verified)`);
}
log(
  `try: curl -X PUT http://${options.host}:${port}/training/tasks/sets -d '{"task_id":"${DEMO_TASK}","training_count":7,"verifying_count":2,"testing_count":1}'`,
);
