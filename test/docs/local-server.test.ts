import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, npmStart, npmStartRefusal } from "../support/npm-start.ts";

// `npm start` as a user runs it: its early refusals, --reset, and tenancy to try locally.

const jwt = (claims: Record<string, unknown>) =>
  `${Buffer.from("{}").toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.x`;

describe("npm start, as a user runs it", () => {
  it("refuses to read unverified credentials on a non-loopback address, before starting anything", () => {
    const run = npmStartRefusal(["--auth", "cognito", "--host", "0.0.0.0"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      "--auth cognito reads credentials it does not verify: only on a loopback --host, not 0.0.0.0",
    );
    expect(run.stdout).not.toContain("DynamoDB Local on");
  });

  it("refuses a combination that is not a tenancy", () => {
    const run = npmStartRefusal(["--auth", "iam"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      "--auth must be none, cognito (optionally with --tenant-claim NAME) or iam with --tenancy account",
    );
  });

  it("reports a taken port at once, before starting DynamoDB Local", async () => {
    const taken = createServer();
    await new Promise<void>((listening) => taken.listen(0, "127.0.0.1", listening));
    const { port } = taken.address() as { port: number };
    const run = npmStartRefusal(["--in-memory", "--port", String(port)]);
    taken.close();
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`port ${port} is already in use: pass another with --port N (or PORT=N)`);
    expect(run.stdout).not.toContain("DynamoDB Local on");
  });

  it("refuses --reset where there is no data folder to empty", () => {
    const run = npmStartRefusal(["--in-memory", "--reset"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("--reset empties the data folder");
  });

  it("--reset starts again from an empty data folder, the demo task registered anew", async () => {
    const data = await mkdtemp(join(tmpdir(), "training-sets-data-"));
    const port = await freePort();
    const images = `http://127.0.0.1:${port}/training/tasks/images`;
    const total = async () =>
      ((await (await fetch(`${images}?task_id=2018062212345678911&limit=100`)).json()) as { img_info_list: unknown[] })
        .img_info_list.length;
    try {
      const first = await npmStart(["--data", data, "--port", String(port)]);
      await fetch(images, {
        method: "POST",
        body: JSON.stringify({ task_id: "2018062212345678911", images: [{ img_id: "extra", img_name: "extra.jpg" }] }),
      });
      expect(await total()).toBe(11);
      await first.stop();

      const kept = await npmStart(["--data", data, "--port", String(port)]);
      expect(await total()).toBe(11);
      await kept.stop();

      const reset = await npmStart(["--data", data, "--port", String(port), "--reset"]);
      expect(reset.output()).toContain(`removed ${data}: starting from an empty database`);
      expect(await total()).toBe(10);
      await reset.stop();
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  }, 180_000);

  let cognito: Awaited<ReturnType<typeof npmStart>> | undefined;
  afterAll(async () => cognito?.stop());

  it("with cognito, says so at start and takes each request's tenant from its token", async () => {
    const port = await freePort();
    cognito = await npmStart(["--in-memory", "--port", String(port), "--auth", "cognito", "--tenant-claim", "org"]);
    await new Promise((settle) => setTimeout(settle, 200));
    expect(cognito.output()).toContain(
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
