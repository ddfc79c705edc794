/**
 * `npm run invoke -- <function> <event-file>`: runs one function's handler in this process with an
 * event from a file (events/*.json) and prints what it returns, as `sam local invoke` would.
 *   --in-memory   a throwaway DynamoDB Local (default: the data in .data/, shared with `npm start`)
 * With DYNAMODB_ENDPOINT set no Java is started and that database is used.
 * Handler logs go to stderr, the result alone to stdout.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { readConfig } from "../lib/config.ts";
import { FUNCTIONS, type FunctionName } from "../lib/routes.ts";
import { createStore } from "../lib/store/index.ts";
import { dynamoDbLocalUnlessEndpoint, type RunningDynamoDb } from "./dynamodb-local.ts";
import { findFunction, lambdaContext, loadHandler } from "./lambda.ts";

const usage = `usage: npm run invoke -- <function> <event-file> [--in-memory]
functions: ${FUNCTIONS.map((fn) => fn.name).join(", ")}`;

const note = (line: string) => console.error(`[invoke] ${line}`);

const { values, positionals } = parseArgs({
  options: { "in-memory": { type: "boolean", default: false }, help: { type: "boolean", default: false } },
  allowPositionals: true,
});
const [name, eventFile] = positionals;
if (values.help || positionals.length !== 2 || !name || !eventFile || !findFunction(name)) {
  console.error(name && !findFunction(name) && !values.help ? `no function "${name}"\n${usage}` : usage);
  process.exit(2);
}

let event: unknown;
try {
  event = JSON.parse(readFileSync(eventFile, "utf8"));
} catch (error) {
  console.error(`cannot read the event ${eventFile}: ${(error as Error).message}`);
  process.exit(2);
}

// Lambda sends a function's logs to CloudWatch; here they go to stderr, so stdout is the result alone.
for (const level of ["log", "info", "warn", "debug"] as const) console[level] = console.error;

let database: RunningDynamoDb | undefined;
let exitCode = 0;
try {
  const inMemory = values["in-memory"];
  database = await dynamoDbLocalUnlessEndpoint({ inMemory });
  if (database) {
    note(`DynamoDB Local on ${database.endpoint} (${inMemory ? "in memory" : "data in .data/"})`);
    await createStore(readConfig()).ensureTable();
  } else {
    note(`using DynamoDB at ${process.env.DYNAMODB_ENDPOINT}, table ${readConfig().tableName}`);
  }
  const handler = await loadHandler(name as FunctionName);
  const result = await handler(event, lambdaContext(name as FunctionName));
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  await database?.stop();
}
// The SDK's keep-alive sockets would hold the process open for a while.
process.exit(exitCode);
