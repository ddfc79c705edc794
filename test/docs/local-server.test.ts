import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// `npm start -- --auth …` as a user runs it: tenancy to try locally, never on a network address.
const root = new URL("../..", import.meta.url).pathname;

/** The environment as a new user's shell has it: not the test suite's DynamoDB Local and table. */
function withoutSuiteDatabase(): NodeJS.ProcessEnv {
  const { DYNAMODB_ENDPOINT: _endpoint, TABLE_NAME: _table, ...env } = process.env;
  return env;
}

const freePort = () =>
  new Promise<number>((found) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => found(port));
    });
  });

const jwt = (claims: Record<string, unknown>) =>
  `${Buffer.from("{}").toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.x`;

describe("npm start, as a user runs it", () => {
  it("refuses to read unverified credentials on a non-loopback address, before starting anything", () => {
    const run = spawnSync("npm", ["start", "--", "--auth", "cognito", "--host", "0.0.0.0"], {
      cwd: root,
      env: withoutSuiteDatabase(),
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      "--auth cognito reads credentials it does not verify: only on a loopback --host, not 0.0.0.0",
    );
    expect(run.stdout).not.toContain("DynamoDB Local on");
  });

  it("refuses a combination that is not a tenancy", () => {
    const run = spawnSync("npm", ["start", "--", "--auth", "iam"], {
      cwd: root,
      env: withoutSuiteDatabase(),
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      "--auth must be none, cognito (optionally with --tenant-claim NAME) or iam with --tenancy account",
    );
  });

  it("reports a taken port at once, before starting DynamoDB Local", async () => {
    const taken = createServer();
    await new Promise<void>((listening) => taken.listen(0, "127.0.0.1", listening));
    const { port } = taken.address() as { port: number };
    const run = spawnSync("npm", ["start", "--", "--in-memory", "--port", String(port)], {
      cwd: root,
      env: withoutSuiteDatabase(),
      encoding: "utf8",
      timeout: 60_000,
    });
    taken.close();
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`port ${port} is already in use: pass another with --port N (or PORT=N)`);
    expect(run.stdout).not.toContain("DynamoDB Local on");
  });

  it("refuses --reset where there is no data folder to empty", () => {
    const run = spawnSync("npm", ["start", "--", "--in-memory", "--reset"], {
      cwd: root,
      env: withoutSuiteDatabase(),
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("--reset empties the data folder");
  });

  /** `npm start -- …args` until it listens; its output so far, and a way to stop it (npm, the server and Java are one group). */
  async function start(args: string[]) {
    const child = spawn("npm", ["start", "--", ...args], { cwd: root, env: withoutSuiteDatabase(), detached: true });
    let output = "";
    await new Promise<void>((ready, failed) => {
      const seen = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("listening on")) ready();
      };
      child.stdout?.on("data", seen);
      child.stderr?.on("data", seen);
      child.on("exit", (code) => failed(new Error(`npm start exited (${code}): ${output}`)));
    });
    const stopped = new Promise((exited) => child.once("exit", exited));
    return {
      output: () => output,
      stop: async () => {
        if (child.pid) process.kill(-child.pid, "SIGTERM");
        await stopped;
      },
    };
  }

  it("--reset starts again from an empty data folder, the demo task registered anew", async () => {
    const data = await mkdtemp(join(tmpdir(), "training-sets-data-"));
    const port = await freePort();
    const images = `http://127.0.0.1:${port}/training/tasks/images`;
    const total = async () =>
      ((await (await fetch(`${images}?task_id=2018062212345678911&limit=100`)).json()) as { img_info_list: unknown[] })
        .img_info_list.length;
    try {
      const first = await start(["--data", data, "--port", String(port)]);
      await fetch(images, {
        method: "POST",
        body: JSON.stringify({ task_id: "2018062212345678911", images: [{ img_id: "extra", img_name: "extra.jpg" }] }),
      });
      expect(await total()).toBe(11);
      await first.stop();

      const kept = await start(["--data", data, "--port", String(port)]);
      expect(await total()).toBe(11);
      await kept.stop();

      const reset = await start(["--data", data, "--port", String(port), "--reset"]);
      expect(reset.output()).toContain(`removed ${data}: starting from an empty database`);
      expect(await total()).toBe(10);
      await reset.stop();
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  }, 180_000);

  let server: ChildProcess | undefined;
  afterAll(() => {
    if (server?.pid) process.kill(-server.pid, "SIGTERM");
  });

  it("with cognito, says so at start and takes each request's tenant from its token", async () => {
    const port = await freePort();
    server = spawn(
      "npm",
      ["start", "--", "--in-memory", "--port", String(port), "--auth", "cognito", "--tenant-claim", "org"],
      {
        cwd: root,
        env: withoutSuiteDatabase(),
        detached: true,
      },
    );
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
    await new Promise((settle) => setTimeout(settle, 200));
    expect(output).toContain(
      'tenancy on: each request\'s tenant is the "org" claim of its unsigned JWT (Authorization: Bearer …, read, not verified)',
    );

    const base = `http://127.0.0.1:${port}/training/tasks/sets?task_id=2018062212345678911`;
    const noToken = await fetch(base);
    expect([noToken.status, ((await noToken.json()) as { code: number }).code]).toEqual([401, 1027]);
    const noClaim = await fetch(base, { headers: { authorization: `Bearer ${jwt({ "custom:tenant": "a" })}` } });
    expect(await noClaim.json()).toMatchObject({
      code: 1027,
      detail: 'the token has no "org" claim: the tenant comes from it',
    });
    // The demo task was registered with tenancy off (the bare key): a tenant does not see it.
    const tenant = await fetch(base, { headers: { authorization: `Bearer ${jwt({ org: "a" })}` } });
    expect([tenant.status, ((await tenant.json()) as { code: number }).code]).toEqual([404, 1003]);
  }, 120_000);
});
