import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The README's five-minute tour, run as a new user runs it: `npm start -- --in-memory` (here on a
 * free port), then each curl command in order, each answer compared with the JSON shown under it.
 */

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const tour = README.slice(README.indexOf("## A five-minute tour"), README.indexOf("## Where to read on"));

interface Step {
  method: string;
  url: string;
  body: string | undefined;
  expected: unknown;
}

/** Each ```sh block's curl command (continuation lines joined) with the ```json block after it. */
function steps(text: string): Step[] {
  const pairs = [...text.matchAll(/```sh\n([\s\S]*?)```\s*```json\n([\s\S]*?)```/g)];
  return pairs.map(([, sh = "", json = ""]) => {
    const command = sh
      .split("\n")
      .filter((line) => !line.startsWith("#"))
      .join("\n")
      .replace(/\\\n\s*/g, "");
    const method = command.match(/-X (\w+)/)?.[1] ?? "GET";
    const url = command.match(/'(http:\/\/[^']+)'|(http:\/\/\S+)/);
    const body = command.match(/-d '([^']*)'/)?.[1];
    return { method, url: (url?.[1] ?? url?.[2] ?? "").trim(), body, expected: JSON.parse(json) };
  });
}

const freePort = () =>
  new Promise<number>((found) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => found(port));
    });
  });

/** The environment as a new user's shell has it: not the test suite's DynamoDB Local and table. */
function withoutSuiteDatabase(): NodeJS.ProcessEnv {
  const { DYNAMODB_ENDPOINT: _endpoint, TABLE_NAME: _table, ...env } = process.env;
  return env;
}

let server: ChildProcess | undefined;
let base = "";
beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn("npm", ["start", "--", "--in-memory", "--port", String(port)], {
    cwd: new URL("../..", import.meta.url).pathname,
    env: withoutSuiteDatabase(),
    detached: true,
  });
  let output = "";
  await new Promise<void>((ready, failed) => {
    const seen = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("listening on")) ready();
    };
    server?.stdout?.on("data", seen);
    server?.stderr?.on("data", seen);
    server?.on("exit", (code) => failed(new Error(`npm start exited (${code}): ${output}`)));
  });
}, 120_000);
afterAll(() => {
  // npm, the server and its DynamoDB Local are one process group.
  if (server?.pid) process.kill(-server.pid, "SIGTERM");
});

describe("the README's five-minute tour on a fresh npm start -- --in-memory", () => {
  const shown = steps(tour);

  it("has its commands and their answers", () => {
    expect(shown.length).toBeGreaterThanOrEqual(4);
  });

  it("answers every command, in order, exactly as shown", async () => {
    for (const step of shown) {
      const url = step.url.replace("http://127.0.0.1:8000", base);
      const response = await fetch(url, { method: step.method, body: step.body });
      expect(await response.json(), `${step.method} ${step.url}`).toEqual(step.expected);
    }
  });
});
