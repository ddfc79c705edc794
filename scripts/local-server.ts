/**
 * `npm start`: the API on http://127.0.0.1:8000 over the embedded DynamoDB Local.
 *   --in-memory        keep nothing (default: data persists under .data/)
 *   --port N           listen elsewhere (default 8000, or PORT)
 * DYNAMODB_ENDPOINT (+ TABLE_NAME, AWS_REGION) points it at another DynamoDB; then no Java is started.
 */
import { parseArgs } from "node:util";
import { readConfig } from "../lib/config.ts";
import { createStore } from "../lib/store/index.ts";
import { startDynamoDbLocal } from "./dynamodb-local.ts";
import { createGateway, loadHandlers } from "./local-gateway.ts";

const DEMO_TASK = "2018062212345678911";
const DEMO_NAMES = ["img_拓海_1.png", ...Array.from({ length: 9 }, (_, i) => `img_${i + 1}.jpg`)];

const { values } = parseArgs({
  options: {
    "in-memory": { type: "boolean", default: false },
    port: { type: "string", default: process.env.PORT ?? "8000" },
    host: { type: "string", default: "127.0.0.1" },
  },
});

const log = (line: string) => console.log(`[training-sets] ${line}`);

let database: Awaited<ReturnType<typeof startDynamoDbLocal>> | undefined;
if (!process.env.DYNAMODB_ENDPOINT) {
  const inMemory = values["in-memory"];
  database = await startDynamoDbLocal({ inMemory });
  process.env.DYNAMODB_ENDPOINT = database.endpoint;
  log(`DynamoDB Local on ${database.endpoint} (${inMemory ? "in memory" : "data in .data/"})`);
} else {
  log(`using DynamoDB at ${process.env.DYNAMODB_ENDPOINT}, table ${readConfig().tableName}`);
}

let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  await database?.stop();
  process.exit(code);
};
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

try {
  const store = createStore(readConfig());
  if (database) {
    await store.ensureTable();
    const demo = await store.registerImages({
      taskId: DEMO_TASK,
      images: DEMO_NAMES.map((name, i) => ({
        imgId: `20180704178605640${String(i).padStart(2, "0")}`,
        imgName: name,
        state: 0,
      })),
    });
    if (demo.added > 0) log(`registered demo task ${DEMO_TASK} with ${demo.added} images`);
  }
  const gateway = createGateway(await loadHandlers());
  const port = Number(values.port);
  await new Promise<void>((listening, failed) => {
    gateway.once("error", failed);
    gateway.listen(port, values.host, () => listening());
  });
  log(`listening on http://${values.host}:${port}`);
  log(
    `try: curl -X PUT http://${values.host}:${port}/training/tasks/sets -d '{"task_id":"${DEMO_TASK}","training_count":7,"verifying_count":2,"testing_count":1}'`,
  );
} catch (error) {
  console.error(error);
  await stop(1);
}
