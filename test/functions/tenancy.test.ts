import { execFile } from "node:child_process";
import type { AddressInfo } from "node:net";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, TrainingSetsError } from "../../client/index.ts";
import { readConfig } from "../../lib/config.ts";
import { documentClient } from "../../lib/store/client.ts";
import { createStore } from "../../lib/store/index.ts";
import { encodeTenant } from "../../lib/store/task-key.ts";
import { createGateway, loadHandlers } from "../../scripts/local-gateway.ts";
import { expectContract, type Reply } from "../support/http.ts";
import { localClient } from "../support/store.ts";

// Two tenants use the same task ids and image ids; each must see only its own (docs/api.md "Tenants").
const TASK = "42";
const IDS = ["1", "2", "3", "4", "5", "6"];
const SETS = "/training/tasks/sets";
const IMAGES = "/training/tasks/images";

/** An unsigned JWT with these claims, as the local gateway reads them under `--auth cognito`. */
const jwt = (claims: Record<string, unknown>) =>
  ["{}", JSON.stringify(claims), "x"]
    .map((part, i) => (i === 2 ? part : Buffer.from(part).toString("base64url")))
    .join(".");

const TEAM_A = jwt({ sub: "same-user", "custom:tenant": "team-a" });
const TEAM_B = jwt({ sub: "same-user", "custom:tenant": "team-b" });

let base: string;
let close: () => Promise<void>;
/** Every body any tenant received, to check none shows a tenant's encoding. */
const bodies: string[] = [];

beforeAll(async () => {
  process.env.TENANCY = "claim";
  await createStore(readConfig()).ensureTable();
  const server = createGateway(await loadHandlers(), { auth: { type: "cognito" } });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise<void>((closed) => server.close(() => closed()));
});
afterAll(async () => {
  await close();
  delete process.env.TENANCY;
});

async function call(
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  bodies.push(text);
  expectContract(method, path, response, text);
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as Record<string, unknown> };
}

const namesOf = (reply: Reply) => (reply.body.img_info_list as { img_name: string }[]).map((image) => image.img_name);

describe("two tenants with the same task ids", () => {
  it("register, list and look up only their own images", async () => {
    const a = await call(TEAM_A, "POST", IMAGES, {
      task_id: TASK,
      images: IDS.map((id) => ({ img_id: id, img_name: `a-${id}.jpg`, label: "cat" })),
    });
    const b = await call(TEAM_B, "POST", IMAGES, {
      task_id: TASK,
      images: IDS.slice(0, 4).map((id) => ({ img_id: id, img_name: `b-${id}.jpg` })),
    });
    expect([a.status, a.body.added, a.body.task_id]).toEqual([200, 6, TASK]);
    // Had B's registration met A's images, it would have updated them (same ids), not added.
    expect([b.status, b.body.added, b.body.updated, b.body.total]).toEqual([200, 4, 0, 4]);

    expect(namesOf(await call(TEAM_A, "GET", `${IMAGES}?task_id=${TASK}`))).toEqual(IDS.map((id) => `a-${id}.jpg`));
    expect(namesOf(await call(TEAM_B, "GET", `${IMAGES}?task_id=${TASK}`))).toEqual(
      IDS.slice(0, 4).map((id) => `b-${id}.jpg`),
    );
    const image = await call(TEAM_B, "GET", `${IMAGES}?task_id=${TASK}&img_id=5`);
    expect([image.status, image.body.code]).toEqual([404, 1026]);
    expect((await call(TEAM_A, "GET", `${IMAGES}?task_id=${TASK}&img_id=5`)).body.image).toMatchObject({
      img_name: "a-5.jpg",
    });
  });

  it("split, summarise and list sets apart", async () => {
    const a = await call(TEAM_A, "PUT", SETS, {
      task_id: TASK,
      training_count: 3,
      verifying_count: 2,
      testing_count: 1,
      seed: 7,
    });
    expect([a.status, a.body.task_id, a.body.version]).toEqual([200, TASK, 1]);
    // B has 4 images: A's 6 would let 5 through; B's count refuses it, naming B's total.
    const tooMany = await call(TEAM_B, "PUT", SETS, {
      task_id: TASK,
      training_count: 5,
      verifying_count: 0,
      testing_count: 0,
    });
    expect([tooMany.status, tooMany.body.code, tooMany.body.msg]).toEqual([
      400,
      1007,
      "三个集合的图像个数之和 5 超过了任务下的图像总数 4",
    ]);
    const b = await call(TEAM_B, "PUT", SETS, {
      task_id: TASK,
      training_count: 2,
      verifying_count: 1,
      testing_count: 1,
    });
    expect([b.status, b.body.version]).toEqual([200, 1]);

    const summaryA = await call(TEAM_A, "GET", `${SETS}?task_id=${TASK}`);
    const summaryB = await call(TEAM_B, "GET", `${SETS}?task_id=${TASK}`);
    expect([summaryA.body.image_count, summaryB.body.image_count]).toEqual([6, 4]);
    expect((summaryA.body.split as { seed: string }).seed).toBe("7");
    expect((summaryB.body.split as { seed: string }).seed).toBe(b.body.seed);

    const trainingA = await call(TEAM_A, "GET", `${SETS}?task_id=${TASK}&set_type_id=0`);
    const trainingB = await call(TEAM_B, "GET", `${SETS}?task_id=${TASK}&set_type_id=0`);
    expect(namesOf(trainingA)).toHaveLength(3);
    expect(namesOf(trainingA).every((name) => name.startsWith("a-"))).toBe(true);
    expect(namesOf(trainingB)).toHaveLength(2);
    expect(namesOf(trainingB).every((name) => name.startsWith("b-"))).toBe(true);
  });

  it("a cursor one tenant got never pages the other's images", async () => {
    const first = await call(TEAM_A, "GET", `${SETS}?task_id=${TASK}&set_type_id=0&limit=1`);
    const cursor = first.body.next_cursor as string;
    expect(cursor).toBeTypeOf("string");
    const foreign = await call(TEAM_B, "GET", `${SETS}?task_id=${TASK}&set_type_id=0&limit=1&cursor=${cursor}`);
    // B's task has another split token: the cursor's split is not B's to read.
    expect([foreign.status, foreign.body.code]).toEqual([409, 1015]);
  });

  it("delete only their own images", async () => {
    const deleted = await call(TEAM_A, "DELETE", IMAGES, { task_id: TASK, img_ids: ["1"] });
    expect([deleted.status, deleted.body.deleted]).toEqual([200, 1]);
    expect((await call(TEAM_B, "GET", `${IMAGES}?task_id=${TASK}&img_id=1`)).body.image).toMatchObject({
      img_name: "b-1.jpg",
    });
    const gone = await call(TEAM_A, "GET", `${IMAGES}?task_id=${TASK}&img_id=1`);
    expect([gone.status, gone.body.code]).toEqual([404, 1026]);
  });

  it("keep Idempotency-Keys apart: the same key and body under two tenants are two requests", async () => {
    const body = { task_id: "77", images: [{ img_id: "1", img_name: "x.jpg" }] };
    const headers = { "idempotency-key": "same-key" };
    const a = await call(TEAM_A, "POST", IMAGES, body, headers);
    const b = await call(TEAM_B, "POST", IMAGES, body, headers);
    expect([a.status, a.body.added, a.headers.get("idempotent-replayed")]).toEqual([200, 1, null]);
    expect([b.status, b.body.added, b.headers.get("idempotent-replayed")]).toEqual([200, 1, null]);
  });

  it("store each tenant's items under its own partition key, and show only the bare task_id", async () => {
    const client = documentClient(localClient());
    const keys = await Promise.all(
      ["team-a", "team-b"].map(async (tenant) => {
        const key = `${encodeTenant(tenant)}#${TASK}`;
        const items = await client.send(
          new QueryCommand({
            TableName: readConfig().tableName,
            KeyConditionExpression: "task_id = :key",
            ExpressionAttributeValues: { ":key": key },
          }),
        );
        return items.Items?.filter((item) => !String(item.img_id).startsWith("#")).length;
      }),
    );
    expect(keys).toEqual([6, 4]);
    const bare = await client.send(
      new QueryCommand({
        TableName: readConfig().tableName,
        KeyConditionExpression: "task_id = :key",
        ExpressionAttributeValues: { ":key": TASK },
      }),
    );
    expect(bare.Count).toBe(0);
    const encodings = ["team-a", "team-b"].map(encodeTenant);
    expect(bodies.length).toBeGreaterThan(10);
    for (const text of bodies) for (const encoding of encodings) expect(text).not.toContain(encoding);
  });

  it("name the task by its bare id in errors", async () => {
    const none = await call(TEAM_B, "PUT", SETS, {
      task_id: "43",
      training_count: 1,
      verifying_count: 0,
      testing_count: 0,
    });
    expect([none.status, none.body.code, none.body.msg]).toEqual([404, 1003, "任务id为 43 的任务下没有图像"]);
    expect(none.body.detail).toMatch(/^task 43 has no images/);
  });

  it("through the typed client, each token sees its own task", async () => {
    const a = createClient({ baseUrl: base, token: TEAM_A });
    const b = createClient({ baseUrl: base, token: TEAM_B });
    const names = async (client: typeof a) => {
      const out: string[] = [];
      for await (const image of client.getImagesAll(TASK)) out.push(image.img_name);
      return out;
    };
    expect(await names(a)).toEqual(["a-2.jpg", "a-3.jpg", "a-4.jpg", "a-5.jpg", "a-6.jpg"]);
    expect(await names(b)).toEqual(["b-1.jpg", "b-2.jpg", "b-3.jpg", "b-4.jpg"]);
  });
});

describe("the CLI with --token", () => {
  const BIN = new URL("../../bin/training-sets.js", import.meta.url).pathname;
  const cli = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(process.execPath, [BIN, "--url", base, ...args], (error, stdout, stderr) =>
        done({ code: error ? Number(error.code) : 0, stdout, stderr }),
      );
    });

  it("lists each tenant's own images of the same task", async () => {
    const a = await cli(["--token", TEAM_A, "get-images", "--task", TASK]);
    const b = await cli(["--token", TEAM_B, "get-images", "--task", TASK]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stdout).toContain("a-2.jpg");
    expect(a.stdout).not.toContain("b-");
    expect(b.stdout).toContain("b-1.jpg");
    expect(b.stdout).not.toContain("a-");
  });
});

describe("a token without one tenant", () => {
  const refused = async (token: string | undefined) => {
    const reply = await call(token, "GET", `${SETS}?task_id=${TASK}`);
    return [reply.status, reply.body.code, reply.body.detail];
  };

  it("is refused with 1027 naming the claim, on every route", async () => {
    const noClaim = jwt({ sub: "u" });
    for (const [method, path, body] of [
      ["GET", `${SETS}?task_id=${TASK}`],
      ["PUT", SETS, { task_id: TASK, training_count: 1, verifying_count: 0, testing_count: 0 }],
      ["POST", IMAGES, { task_id: TASK, images: [{ img_id: "9", img_name: "n.jpg" }] }],
      ["GET", `${IMAGES}?task_id=${TASK}`],
      ["DELETE", IMAGES, { task_id: TASK, img_ids: ["2"] }],
    ] as const) {
      const reply = await call(noClaim, method, path, body);
      expect([method, path, reply.status, reply.body.code]).toEqual([method, path, 403, 1027]);
      expect(reply.body.detail).toContain('"custom:tenant"');
    }
  });

  it("is refused when the claim has several values or is too long, and without a token at all", async () => {
    expect(await refused(jwt({ "custom:tenant": ["x", "y"] }))).toEqual([
      403,
      1027,
      'the token\'s "custom:tenant" claim has several values: the tenant must be one',
    ]);
    expect((await refused(jwt({ "custom:tenant": "t".repeat(129) })))[0]).toBe(403);
    // 128 characters is a tenant: one with no such task (1003), not a refusal.
    expect((await refused(jwt({ "custom:tenant": "t".repeat(128) })))[1]).toBe(1003);
    expect((await refused(undefined)).slice(0, 2)).toEqual([401, 1027]);
  });

  it("is refused by the typed client as a TrainingSetsError", async () => {
    const error = await createClient({ baseUrl: base, token: jwt({ sub: "u" }) })
      .listSetSummary(TASK)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TrainingSetsError);
    expect([(error as TrainingSetsError).code, (error as TrainingSetsError).status]).toEqual([1027, 403]);
  });
});
