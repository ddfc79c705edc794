import { describe, expect, it } from "vitest";
import { readConfig } from "../../lib/config.ts";
import { JOBS, ROUTES, type TableAction } from "../../lib/routes.ts";
import { lambdaContext, loadHandler } from "../../scripts/lambda.ts";
import type { Json } from "../support/capacity-model/index.ts";
import type { LoggedCall as Call } from "../support/fault-proxy/index.ts";
import { useApiThroughProxy } from "../support/http.ts";

/**
 * The stack grants each function exactly the table actions its route declares in lib/routes.ts.
 * Every route is called here as a user would, through a proxy that records what its function
 * sent to the service's table, and what it sent must be among what the route declares: an action
 * the code needs and the grant lacks is AccessDenied in AWS, which DynamoDB Local never says.
 */
const running = useApiThroughProxy({});

const TRANSACT_ACTIONS: Record<string, TableAction | "DeleteItem" | "ConditionCheckItem"> = {
  Put: "PutItem",
  Update: "UpdateItem",
  Delete: "DeleteItem",
  ConditionCheck: "ConditionCheckItem",
};

/** The IAM actions one call needs on `table`, apart for the table and its indexes. */
function actionsOf(call: Call, table: string): { table: string[]; indexes: string[] } {
  const { operation, input } = call;
  if (operation === "TransactWriteItems") {
    const actions = ((input.TransactItems ?? []) as Json[]).flatMap((item) =>
      Object.entries(item)
        .filter(([, action]) => (action as Json).TableName === table)
        .map(([kind]) => TRANSACT_ACTIONS[kind] as string),
    );
    return { table: actions, indexes: [] };
  }
  const tables =
    operation === "BatchGetItem" || operation === "BatchWriteItem"
      ? Object.keys((input.RequestItems ?? {}) as Json)
      : [String(input.TableName ?? "")];
  if (!tables.includes(table)) return { table: [], indexes: [] };
  return input.IndexName ? { table: [], indexes: [operation] } : { table: [operation], indexes: [] };
}

/** What `act` sent to the service's table through the proxy. */
async function usedBy<T>(act: () => Promise<T>) {
  const { proxy } = running();
  const seen = proxy.log.length;
  const result = await act();
  const table = readConfig().tableName;
  const calls = proxy.log.slice(seen).map((call) => actionsOf(call, table));
  return {
    result,
    table: new Set(calls.flatMap((call) => call.table)),
    indexes: new Set(calls.flatMap((call) => call.indexes)),
  };
}

async function used(method: string, path: string, body?: unknown) {
  const { result: reply, ...use } = await usedBy(() => running().api.call(method, path, body));
  return { status: reply.status, body: reply.body, ...use };
}

const declared = (name: string) => {
  const fn = [...ROUTES, ...JOBS].find((r) => r.name === name);
  if (!fn) throw new Error(`no function ${name}`);
  return fn.table;
};

describe("each function sends its table only what its route declares (the stack's grants)", () => {
  it("every data route, called with the requests that reach most of its code", async () => {
    const task = `access-${Date.now()}`;
    const images = Array.from({ length: 150 }, (_, i) => ({ img_id: `${task}-${i}`, img_name: `img_${i}.jpg` }));
    const sets = "/training/tasks/sets";
    const imagesPath = "/training/tasks/images";
    const schedule = "/training/tasks/schedule";
    const calls: [name: string, use: Awaited<ReturnType<typeof used>>][] = [];
    const record = async (name: string, method: string, path: string, body?: unknown) => {
      const use = await used(method, path, body);
      expect(use.status, `${name} ${method} ${path}: ${JSON.stringify(use.body)}`).toBeLessThan(300);
      calls.push([name, use]);
      return use;
    };

    await record("RegisterImages", "POST", imagesPath, { task_id: task, images });
    await record("RegisterImages", "POST", imagesPath, {
      task_id: task,
      images: [
        { ...images[0], state: 2, label: "cat" },
        { img_id: `${task}-new`, img_name: "new.jpg" },
      ],
    });
    await record("SplitTask", "PUT", sets, {
      task_id: task,
      training_count: 100,
      verifying_count: 30,
      testing_count: 21,
    });
    await record("DeleteImages", "DELETE", imagesPath, { task_id: task, img_ids: [`${task}-3`, `${task}-4`] });
    await record("RegisterImages", "POST", imagesPath, {
      task_id: task,
      images: Array.from({ length: 10 }, (_, i) => ({ img_id: `${task}-late-${i}`, img_name: "late.jpg" })),
    });
    await record("SplitTask", "PUT", sets, {
      task_id: task,
      training_count: 100,
      verifying_count: 30,
      testing_count: 25,
      mode: "keep",
    });
    await record("ListSet", "GET", `${sets}?task_id=${task}&set_type_id=0&limit=10`);
    await record("ListSet", "GET", `${sets}?task_id=${task}`);
    await record("GetImages", "GET", `${imagesPath}?task_id=${task}&img_id=${task}-1`);
    await record("GetImages", "GET", `${imagesPath}?task_id=${task}&limit=20`);
    await record("SetSchedule", "PUT", schedule, {
      task_id: task,
      expression: "rate(1 day)",
      split: { training_count: 100, verifying_count: 25, testing_count: 24 },
    });
    await record("GetSchedule", "GET", `${schedule}?task_id=${task}`);
    // The schedule's run, as EventBridge Scheduler would invoke it: twice, the second a duplicate delivery.
    const stored = (await running().truth.schedules.read(task))!;
    const resplit = await loadHandler("ResplitTasks");
    const input = { task_key: task, revision: stored.revision, scheduled_time: "2026-01-01T02:00:00Z" };
    for (let delivery = 0; delivery < 2; delivery++) {
      const run = await usedBy(() => resplit(input, lambdaContext("ResplitTasks")));
      calls.push(["ResplitTasks", { status: 200, body: {}, ...run }]);
    }
    const afterRuns = await record("GetSchedule", "GET", `${schedule}?task_id=${task}`);
    expect((afterRuns.body as { runs: { outcome: string }[] }).runs.map((run) => run.outcome)).toEqual(["split"]);
    await record("DeleteSchedule", "DELETE", `${schedule}?task_id=${task}`);

    const names = new Set(calls.map(([name]) => name));
    for (const route of ROUTES) {
      if (!("open" in route)) expect(names, `${route.name} is exercised`).toContain(route.name);
    }
    for (const [name, use] of calls) {
      const access = declared(name);
      expect(
        [...use.table].filter((action) => !(access.table as readonly string[]).includes(action)),
        name,
      ).toEqual([]);
      expect(
        [...use.indexes].filter((action) => !(access.indexes as readonly string[]).includes(action)),
        name,
      ).toEqual([]);
    }
    // The proxy saw the table at all: a filter that matched nothing would pass every route.
    expect(calls.some(([, use]) => use.table.has("TransactWriteItems") || use.table.has("PutItem"))).toBe(true);
    expect(calls.some(([, use]) => use.indexes.has("Query"))).toBe(true);
  });
});
