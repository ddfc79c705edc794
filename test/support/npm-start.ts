import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll } from "vitest";

/** `npm start` as a new user runs it, for the tests of what the README and docs/ say it does. */

const ROOT = new URL("../..", import.meta.url).pathname;

/** A port nothing listens on just now. */
export const freePort = () =>
  new Promise<number>((found) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => found(port));
    });
  });

/** The environment as a new user's shell has it: not the test suite's DynamoDB Local and table. */
function userEnvironment(): NodeJS.ProcessEnv {
  const { DYNAMODB_ENDPOINT: _endpoint, TABLE_NAME: _table, ...env } = process.env;
  return env;
}

/** `npm start -- …args` run to its end (a refusal): exit code and output. */
export function npmStartRefusal(args: string[]) {
  const run = spawnSync("npm", ["start", "--", ...args], {
    cwd: ROOT,
    env: userEnvironment(),
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/**
 * `npm start -- …args` until it listens: its output so far, and `stop` (npm, the server and its
 * DynamoDB Local are one process group, stopped together).
 */
export async function npmStart(args: string[]) {
  const child = spawn("npm", ["start", "--", ...args], { cwd: ROOT, env: userEnvironment(), detached: true });
  let output = "";
  const exited = new Promise((settled) => child.once("exit", settled));
  await new Promise<void>((ready, failed) => {
    const seen = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("listening on")) ready();
    };
    child.stdout?.on("data", seen);
    child.stderr?.on("data", seen);
    child.once("exit", (code) => failed(new Error(`npm start exited (${code}): ${output}`)));
  });
  return {
    output: () => output,
    stop: async () => {
      if (child.pid && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
      await exited;
    },
  };
}

/** A fresh `npm start -- --in-memory` on a free port for the file's tests; `base()` is its URL. */
export function useFreshNpmStart(): { base: () => string } {
  let server: Awaited<ReturnType<typeof npmStart>> | undefined;
  let base = "";
  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await npmStart(["--in-memory", "--port", String(port)]);
  }, 120_000);
  afterAll(async () => server?.stop());
  return { base: () => base };
}
