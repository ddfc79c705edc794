import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readConfig } from "../../lib/config.ts";
import type { ScheduleEngine } from "../../lib/schedule/engine.ts";
import { localScheduleEngine, scheduleName, useScheduleEngine } from "../../lib/schedule/index.ts";
import { createStore } from "../../lib/store/index.ts";
import { storedTaskKey } from "../../lib/store/task-key.ts";
import { lambdaContext, loadHandler } from "../../scripts/lambda.ts";
import { createGateway, loadHandlers } from "../../scripts/local-gateway.ts";
import { expectContract, type Reply } from "../support/http.ts";

// Tenancy on: two tenants schedule the same task id, each its own schedule (docs/api.md "Tenants").
const TASK = "77";
const SCHEDULE = "/training/tasks/schedule";
const NIGHTLY = {
  task_id: TASK,
  expression: "cron(0 2 * * ? *)",
  timezone: "Asia/Shanghai",
  split: { training_count: "3", verifying_count: 1, testing_count: 1, mode: "keep" },
};

const jwt = (tenant: string) =>
  ["{}", JSON.stringify({ sub: "u", "custom:tenant": tenant }), "x"]
    .map((part, i) => (i === 2 ? part : Buffer.from(part).toString("base64url")))
    .join(".");
const TEAM_A = jwt("team-a");
const TEAM_B = jwt("team-b");
const keyOf = (tenant: string) => storedTaskKey(tenant, TASK);

/** The in-process engine, counting the puts that reach it. */
const engineCalls: string[] = [];
const countingEngine: ScheduleEngine = {
  put: async (name, schedule) => {
    engineCalls.push(`put ${name}`);
    await localScheduleEngine.put(name, schedule);
  },
  delete: async (name) => {
    engineCalls.push(`delete ${name}`);
    await localScheduleEngine.delete(name);
  },
  has: (name) => localScheduleEngine.has(name),
};
const failingEngine: ScheduleEngine = {
  put: async () => {
    throw new Error("scheduler unavailable");
  },
  delete: async () => {
    throw new Error("scheduler unavailable");
  },
  has: async () => {
    throw new Error("scheduler unavailable");
  },
};

let base: string;
let close: () => Promise<void>;

beforeAll(async () => {
  process.env.TENANCY = "claim";
  await createStore(readConfig()).ensureTable();
  const server = createGateway(await loadHandlers(), { auth: { type: "cognito" } });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise<void>((closed) => server.close(() => closed()));
  for (const token of [TEAM_A, TEAM_B]) {
    const images = Array.from({ length: 6 }, (_, i) => ({ img_id: `i${i}`, img_name: `${i}.png` }));
    expect((await call(token, "POST", "/training/tasks/images", { task_id: TASK, images })).status).toBe(200);
  }
});
afterAll(async () => {
  await close();
  delete process.env.TENANCY;
});
afterEach(() => {
  useScheduleEngine(countingEngine);
  engineCalls.length = 0;
});

async function call(token: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  expectContract(method, path, response, text);
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as Record<string, unknown> };
}

const query = `${SCHEDULE}?task_id=${TASK}`;

describe("PUT, GET and DELETE /training/tasks/schedule over HTTP", () => {
  it("PUT answers the schedule as stored with its next run; the same PUT again writes nothing", async () => {
    // Arrange
    useScheduleEngine(countingEngine);
    const before = Date.now();

    // Act
    const set = await call(TEAM_A, "PUT", SCHEDULE, NIGHTLY);
    const again = await call(TEAM_A, "PUT", SCHEDULE, NIGHTLY);

    // Assert
    expect(set).toMatchObject({
      status: 200,
      body: {
        code: 0,
        msg: "调度设置成功",
        task_id: TASK,
        expression: "cron(0 2 * * ? *)",
        timezone: "Asia/Shanghai",
        split: { training_count: 3, verifying_count: 1, testing_count: 1, mode: "keep" },
        enabled: true,
        window_minutes: 0,
        revision: 1,
        state: "active",
      },
    });
    const next = Date.parse(set.body.next_run_at as string);
    expect(next).toBeGreaterThan(before);
    expect(next).toBeLessThanOrEqual(before + 86_400_000 + 60_000);
    expect(new Date(next).getUTCHours()).toBe(18); // 02:00 in Shanghai
    expect(again.body).toEqual(set.body);
    expect(engineCalls).toEqual([`put ${scheduleName(keyOf("team-a"))}`]);
  });

  it("the same PUT again puts the schedule back when the scheduler lost it (a stack rebuilt over the kept table)", async () => {
    useScheduleEngine(countingEngine);
    const set = await call(TEAM_A, "PUT", SCHEDULE, NIGHTLY);
    const name = scheduleName(keyOf("team-a"));
    await localScheduleEngine.delete(name);
    engineCalls.length = 0;

    const again = await call(TEAM_A, "PUT", SCHEDULE, NIGHTLY);

    expect(again.body).toEqual(set.body);
    expect(engineCalls).toEqual([`put ${name}`]);
    expect(await localScheduleEngine.has(name)).toBe(true);
  });

  it("GET shows the schedule and its runs, newest first, as the run function records them", async () => {
    const name = scheduleName(keyOf("team-a"));
    const run = await loadHandler("ResplitTasks");
    for (const scheduled_time of ["2025-11-23T18:00:00Z", "2025-11-24T18:00:00Z"]) {
      const input = { ...localScheduleEngine.get(name)!.input, scheduled_time };
      await run(input, lambdaContext("ResplitTasks"));
    }

    const got = await call(TEAM_A, "GET", query);

    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ msg: "调度查询成功", revision: 1, state: "active" });
    expect(got.body.runs).toEqual([
      expect.objectContaining({ scheduled_at: "2025-11-24T18:00:00Z", outcome: "split", version: 2, code: null }),
      expect.objectContaining({ scheduled_at: "2025-11-23T18:00:00Z", outcome: "split", version: 1, code: null }),
    ]);
  });

  it("refuses bad settings before writing anything, with the split's own codes in the PUT's order", async () => {
    const cases: [unknown, number, number][] = [
      [{ ...NIGHTLY, seed: "x" }, 400, 1023],
      [{ ...NIGHTLY, task_id: "7#7" }, 400, 1002],
      [{ ...NIGHTLY, expression: "cron(0 2 * * * *)" }, 400, 1028],
      [{ ...NIGHTLY, timezone: "Asia/Atlantis" }, 400, 1028],
      [{ ...NIGHTLY, split: { ...NIGHTLY.split, training_count: 0 } }, 400, 1009],
      [{ ...NIGHTLY, split: { ...NIGHTLY.split, dry_run: true } }, 400, 1019],
      [{ ...NIGHTLY, window_minutes: 90 }, 400, 1028],
    ];
    for (const [body, status, code] of cases) {
      const reply = await call(TEAM_A, "PUT", SCHEDULE, body);
      expect({ body, status: reply.status, code: reply.body.code }).toEqual({ body, status, code });
    }
    expect((await call(TEAM_A, "GET", query)).body.revision).toBe(1);
    expect(engineCalls).toEqual([]);
  });

  it("a failure between the two stores leaves the schedule pending with 503, and the same PUT again completes it", async () => {
    // Arrange
    const hourly = { ...NIGHTLY, expression: "rate(1 hour)", window_minutes: 10 };
    useScheduleEngine(failingEngine);

    // Act
    const failed = await call(TEAM_A, "PUT", SCHEDULE, hourly);
    const pending = await call(TEAM_A, "GET", query);
    useScheduleEngine(countingEngine);
    const completed = await call(TEAM_A, "PUT", SCHEDULE, hourly);

    // Assert
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ code: 1500, request_id: expect.any(String) });
    expect(failed.headers.get("retry-after")).toBe("1");
    expect(pending.body).toMatchObject({ expression: "rate(1 hour)", revision: 2, state: "pending" });
    expect(completed.body).toMatchObject({ expression: "rate(1 hour)", revision: 2, state: "active" });
    expect(localScheduleEngine.get(scheduleName(keyOf("team-a")))).toMatchObject({
      expression: "rate(1 hour)",
      windowMinutes: 10,
      input: { task_key: keyOf("team-a"), revision: 2 },
    });
  });

  it("two tenants with the same task id each have their own schedule, under names that differ", async () => {
    await call(TEAM_B, "PUT", SCHEDULE, {
      ...NIGHTLY,
      expression: "rate(3 days)",
      split: { ratios: { training: 1, verifying: 0, testing: 0 } },
    });

    const a = await call(TEAM_A, "GET", query);
    const b = await call(TEAM_B, "GET", query);

    expect(a.body).toMatchObject({ task_id: TASK, expression: "rate(1 hour)", revision: 2 });
    expect(b.body).toMatchObject({ task_id: TASK, expression: "rate(3 days)", revision: 1, runs: [] });
    expect(scheduleName(keyOf("team-a"))).not.toBe(scheduleName(keyOf("team-b")));
    expect(localScheduleEngine.get(scheduleName(keyOf("team-b")))?.input.task_key).toBe(keyOf("team-b"));
    expect(JSON.stringify([a.body, b.body])).not.toContain("#");
  });

  it("DELETE stops the schedule ({deleted: true}), then GET is 1029 and a retried DELETE is {deleted: false}", async () => {
    const deleted = await call(TEAM_B, "DELETE", query);
    const gone = await call(TEAM_B, "GET", query);
    const retried = await call(TEAM_B, "DELETE", query);
    const other = await call(TEAM_A, "GET", query);

    expect(deleted.body).toEqual({ code: 0, msg: "调度删除成功", task_id: TASK, deleted: true });
    expect(gone).toMatchObject({ status: 404, body: { code: 1029, msg: `任务 ${TASK} 没有调度` } });
    expect(retried.body).toMatchObject({ deleted: false });
    expect(localScheduleEngine.get(scheduleName(keyOf("team-b")))).toBeUndefined();
    expect(other.status).toBe(200);
  });

  it("a schedule set again after DELETE carries on the revisions, so no old delivery can match it", async () => {
    const again = await call(TEAM_B, "PUT", SCHEDULE, NIGHTLY);

    // revision 1 was deleted: a delivery still carrying it finds revision 2 and does nothing
    expect(again.body).toMatchObject({ revision: 2, state: "active" });
  });

  it("GET and DELETE refuse an unknown parameter (1023) and a bad task_id (1002)", async () => {
    expect((await call(TEAM_A, "GET", `${query}&set_type_id=1`)).body.code).toBe(1023);
    expect((await call(TEAM_A, "DELETE", `${SCHEDULE}?task_id=a%23b`)).body.code).toBe(1002);
    expect((await call(TEAM_A, "GET", SCHEDULE)).body.code).toBe(1002);
  });
});
