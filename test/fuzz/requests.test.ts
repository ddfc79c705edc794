import { randomUUID } from "node:crypto";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTES } from "../../lib/routes.ts";
import { type Handlers, loadHandlers } from "../../scripts/local-gateway.ts";
import { expectContract, startApi } from "../support/http.ts";
import { localClient } from "../support/store.ts";
import { type BodyCase, badRegisterBody, badSplitBody, sizedBody } from "./body-arbitraries.ts";
import { type Fixture, pollutionAttempt } from "./field-arbitraries.ts";
import { listQuery, type QueryCase } from "./query-arbitraries.ts";

/**
 * Fuzzing the handlers (invoked directly with API Gateway events) and the local gateway (over
 * loopback HTTP) with generated bad requests: every answer is a documented code with its status and
 * message, JSON with the documented content type, never a 5xx, and the table is byte for byte what it
 * was before (no bad request writes, not even a lease).
 */

/** docs/api.md "Errors": the HTTP status of each code, and the message where the contract fixes it. */
const CODES: Record<number, { status: readonly number[]; msg: string | RegExp }> = {
  1001: { status: [400], msg: "请求体必须是 JSON 对象" },
  1002: { status: [400], msg: "task_id 缺失或格式错误" },
  1003: { status: [404], msg: /^任务id为 [0-9A-Za-z_-]{1,64} 的任务下没有图像$/ },
  1004: { status: [400], msg: "set_type_id 必须是 0（训练）、1（测试）或 2（验证）" },
  1005: { status: [400], msg: "验证集中图像的个数不能小于0" },
  1006: { status: [400], msg: "测试集中图像的个数不能小于0" },
  1007: { status: [400], msg: /^三个集合的图像个数之和 \d+ 超过了任务下的图像总数 \d+$/ },
  1009: { status: [400], msg: "训练集中图像的个数不能小于等于0" },
  1010: { status: [404], msg: /^获取 任务id为 [0-9A-Za-z_-]{1,64}，属于集合 [012]，的图像的相关数据 失败$/ },
  1011: { status: [400], msg: /^图像数据格式错误: images(\[\d+\](\.(img_id|img_name|state))?)?$/ },
  1012: { status: [400], msg: "分页参数错误" },
  1013: { status: [404, 405], msg: "接口不存在" },
  1014: { status: [413], msg: "请求体过大" },
  1015: { status: [409], msg: "集合已重新划分，请从第一页重新读取" },
  1016: { status: [400], msg: "seed 必须是 1–128 个字符的字符串或安全整数" },
  1023: { status: [400], msg: /^未知字段: .+$/su },
};
const PUT_CODES = [1001, 1002, 1003, 1005, 1006, 1007, 1009, 1014, 1016, 1023];
const POST_CODES = [1001, 1002, 1011, 1014, 1023];
const GET_CODES = [0, 1002, 1003, 1004, 1010, 1012, 1015, 1023];

const SETS = "/training/tasks/sets";
const IMAGES = "/training/tasks/images";
const fixture: Fixture = { task: "fuzz-task", images: 12, known: ["fuzz-task", "fuzz-unsplit"] };

let api: Awaited<ReturnType<typeof startApi>>;
let handlers: Handlers;
let cursors: { live: string; stale: string };
let before: string;

/** Every item of the table, in key order: the "nothing was written" baseline. */
async function table(): Promise<string> {
  const items: unknown[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await localClient().send(
      new ScanCommand({ TableName: process.env.TABLE_NAME, ExclusiveStartKey: start as never, ConsistentRead: true }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  const key = (item: unknown) =>
    JSON.stringify([
      (item as Record<string, { S: string }>).task_id?.S,
      (item as Record<string, { S: string }>).img_id?.S,
    ]);
  return JSON.stringify(items.sort((a, b) => (key(a) < key(b) ? -1 : 1)));
}

beforeAll(async () => {
  api = await startApi();
  handlers = await loadHandlers();
  const images = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ img_id: `img-${i + 1}`, img_name: `img_${i + 1}.jpg` }));
  await api.call("POST", IMAGES, { task_id: fixture.task, images: images(fixture.images) });
  await api.call("POST", IMAGES, { task_id: "fuzz-unsplit", images: images(3) });
  const split = () =>
    api.call("PUT", SETS, { task_id: fixture.task, training_count: 6, verifying_count: 3, testing_count: 2 });
  await split();
  const stale = (await api.call("GET", `${SETS}?task_id=${fixture.task}&set_type_id=0&limit=2`)).body
    .next_cursor as string;
  await split();
  await split();
  const live = (await api.call("GET", `${SETS}?task_id=${fixture.task}&set_type_id=0&limit=2`)).body
    .next_cursor as string;
  cursors = { live, stale };
  before = await table();
});
afterAll(async () => api.close());

/** Asserts a reply is one of `codes` with the documented status, message, content type and nothing else. */
function expectSpecReply(
  status: number,
  contentType: string | null | undefined,
  text: string,
  codes: readonly number[],
) {
  expect(status).toBeLessThan(500);
  expect(contentType).toBe("application/json; charset=utf-8");
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(codes).toContain(body.code);
  if (body.code === 0) return body;
  const spec = CODES[body.code as number];
  expect(spec?.status).toContain(status);
  // Every refusal keeps the legacy msg and says in English what was wrong.
  expect(Object.keys(body)).toEqual(["code", "msg", "detail"]);
  expect(body.detail).toMatch(/^[\x20-\x7e≥–]/);
  if (typeof spec?.msg === "string") expect(body.msg).toBe(spec.msg);
  else expect(body.msg).toMatch(spec?.msg as RegExp);
  return body;
}

const expectedCodes = (expected: QueryCase["expected"] | number) =>
  typeof expected === "number" ? [expected] : expected;

/** What the handler must answer a bad body: its first failing rule, or 1001 when the body parser refuses it as a pollution attempt. */
const bodyCode = (c: BodyCase) => (pollutionAttempt(c.text) ? 1001 : c.expected);

// ---- handlers, invoked directly ----

function event(
  method: string,
  path: string,
  body: string | null,
  query: Record<string, string> | null,
  base64: boolean,
): APIGatewayProxyEvent {
  const encoded = body !== null && base64 ? Buffer.from(body, "utf8").toString("base64") : body;
  return {
    resource: path,
    path,
    httpMethod: method,
    headers: { "content-type": "application/json" },
    multiValueHeaders: {},
    queryStringParameters: query,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: encoded,
    isBase64Encoded: body !== null && base64,
    requestContext: { requestId: randomUUID() } as APIGatewayProxyEvent["requestContext"],
  };
}
const context = (): Context => ({ awsRequestId: randomUUID(), functionName: "fuzz" }) as Context;

async function invoke(name: keyof Handlers, request: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return handlers[name](request, context());
}

const HANDLER_RUNS = 1000;

describe("the handlers, invoked directly with generated bad requests", () => {
  it(`PUT: ${HANDLER_RUNS} bad bodies each get the code of their first failing rule, and nothing is written`, async () => {
    await fc.assert(
      fc.asyncProperty(badSplitBody(fixture), fc.boolean(), async (c: BodyCase, base64) => {
        const reply = await invoke("SplitTask", event("PUT", SETS, c.text, null, base64));
        expectSpecReply(reply.statusCode, reply.headers?.["Content-Type"] as string, reply.body, [bodyCode(c)]);
      }),
      { numRuns: HANDLER_RUNS },
    );
    expect(await table()).toBe(before);
  });

  it(`POST: ${HANDLER_RUNS} bad bodies each get the code (and field) of their first failing rule, and nothing is written`, async () => {
    await fc.assert(
      fc.asyncProperty(badRegisterBody(), fc.boolean(), async (c, base64) => {
        const reply = await invoke("RegisterImages", event("POST", IMAGES, c.text, null, base64));
        const body = expectSpecReply(reply.statusCode, reply.headers?.["Content-Type"] as string, reply.body, [
          bodyCode(c),
        ]);
        if (c.field !== undefined && body.code === 1011) expect(body.msg).toBe(`图像数据格式错误: ${c.field}`);
      }),
      { numRuns: HANDLER_RUNS },
    );
    expect(await table()).toBe(before);
  });

  it(`GET: ${HANDLER_RUNS} generated queries (bad parameters, forged, truncated and stale cursors) get only their codes`, async () => {
    await fc.assert(
      fc.asyncProperty(listQuery(fixture, cursors), async ({ query, expected }) => {
        const params = Object.keys(query).length > 0 ? query : null;
        const reply = await invoke("ListSet", event("GET", SETS, null, params, false));
        expectSpecReply(
          reply.statusCode,
          reply.headers?.["Content-Type"] as string,
          reply.body,
          expectedCodes(expected),
        );
      }),
      { numRuns: HANDLER_RUNS },
    );
    expect(await table()).toBe(before);
  });

  it("bodies a few bytes either side of 1 MiB, in multi-byte characters: 1014 exactly when the bytes exceed it", async () => {
    await fc.assert(
      fc.asyncProperty(
        sizedBody,
        fc.constantFrom("SplitTask", "RegisterImages") as fc.Arbitrary<"SplitTask" | "RegisterImages">,
        async ({ text, expected }, name) => {
          const reply = await invoke(name, event(name === "SplitTask" ? "PUT" : "POST", SETS, text, null, false));
          const code = expected;
          expectSpecReply(reply.statusCode, reply.headers?.["Content-Type"] as string, reply.body, [code]);
        },
      ),
      { numRuns: 40 },
    );
    expect(await table()).toBe(before);
  });
});

// ---- the gateway, over loopback HTTP ----

interface HttpCase {
  method: string;
  path: string;
  query: string;
  body: string | undefined;
  contentType: string;
  /** Codes the handler may answer when the request is routed to it. */
  codes: readonly number[];
}

const METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD"];
const PATHS = [
  SETS,
  `${SETS}/`,
  IMAGES,
  `${IMAGES}//`,
  "/training/tasks",
  "/",
  "/Training/Tasks/Sets",
  "//training/tasks/sets",
  `${SETS}/extra`,
  `${SETS}%2F`,
  `${SETS}/..`,
  "/training/tasks/sets;x",
  "/%E8%AE%AD%E7%BB%83",
];
const ODD_QUERIES = [
  "",
  "?",
  "&&&",
  "task_id",
  "=x",
  "task_id=%E0%A4%A&set_type_id=1",
  "task_id=a&task_id=b&set_type_id=0&set_type_id=9",
  "task_id=fuzz-task&set_type_id=0&limit=1&limit=x",
  "task_id=%00&set_type_id=0",
  "task_id=fuzz%2Dtask&set_type_id=%30",
  "task_id=fuzz-task&set_type_id=0&cursor=%FF%FE",
  `task_id=fuzz-task&set_type_id=0&cursor=${"A".repeat(4000)}`,
  "task_id=+fuzz-task+&set_type_id=+0",
];
const CONTENT_TYPES = [
  "application/json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=latin1",
  "application/xml",
];

function httpCase(): fc.Arbitrary<HttpCase> {
  const contentType = fc.constantFrom(...CONTENT_TYPES);
  const put = fc.tuple(badSplitBody(fixture), contentType).map(([c, type]) => ({
    method: "PUT",
    path: SETS,
    query: "",
    body: c.text,
    contentType: type,
    codes: [bodyCode(c)],
  }));
  const post = fc.tuple(badRegisterBody(), contentType).map(([c, type]) => ({
    method: "POST",
    path: IMAGES,
    query: "",
    body: c.text,
    contentType: type,
    codes: [bodyCode(c)],
  }));
  // Parameters named like Object.prototype members have a test of their own below.
  const get = listQuery(fixture, cursors)
    .filter((c) => Object.keys(c.query).every((key) => !(key in {})))
    .map((c) => ({
      method: "GET",
      path: SETS,
      query: `?${new URLSearchParams(c.query).toString()}`,
      body: undefined,
      contentType: "application/json",
      codes: expectedCodes(c.expected),
    }));
  const oddGet = fc.constantFrom(...ODD_QUERIES).map((query) => ({
    method: "GET",
    path: SETS,
    query: `?${query}`,
    body: undefined,
    contentType: "text/plain",
    codes: GET_CODES,
  }));
  // Any method on any path with any body: unknown routes and wrong methods are refused before a handler runs.
  const elsewhere = fc
    .tuple(
      fc.constantFrom(...METHODS),
      fc.oneof(fc.constantFrom(...PATHS), fc.webPath()),
      fc.oneof(fc.constant(undefined), fc.json(), fc.string({ unit: "binary", maxLength: 50 })),
    )
    // Paths opening with "//" have a test of their own below.
    .filter(
      ([method, path]) =>
        !path.startsWith("//") && !ROUTES.some((route) => route.method === method && normalise(path) === route.path),
    )
    .map(([method, path, body]) => ({
      method,
      path,
      query: "",
      body: method === "GET" || method === "HEAD" ? undefined : body,
      contentType: "application/json",
      codes: [],
    }));
  const oversized = fc
    .tuple(fc.constantFrom("PUT", "POST"), fc.integer({ min: 1, max: 512 * 1024 }))
    .map(([method, extra]) => ({
      method,
      path: method === "PUT" ? SETS : IMAGES,
      query: "",
      body: `{"task_id":"fuzz-task","pad":"${"x".repeat(1024 * 1024 + extra)}"}`,
      contentType: "application/json",
      codes: [1014],
    }));
  return fc.oneof(
    { weight: 3, arbitrary: put },
    { weight: 3, arbitrary: post },
    { weight: 3, arbitrary: get },
    { weight: 1, arbitrary: oddGet },
    { weight: 3, arbitrary: elsewhere },
    { weight: 1, arbitrary: oversized },
  );
}

/** The path as the gateway routes it: parsed as a URL, trailing slashes dropped. */
function normalise(path: string): string {
  const pathname = new URL(`http://localhost${path}`).pathname;
  return pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
}

describe("the local gateway, over HTTP with generated bad requests", () => {
  it("500 requests (wrong methods and paths, odd query strings, bad and oversized bodies) get only documented codes, and nothing is written", async () => {
    await fc.assert(
      fc.asyncProperty(httpCase(), async (c) => {
        const response = await fetch(`${api.base}${c.path}${c.query}`, {
          method: c.method,
          headers: { "content-type": c.contentType },
          body: c.body,
        });
        const text = await response.text();
        if (c.method !== "HEAD") expectContract(c.method, `${c.path}${c.query}`, response, text);
        const path = normalise(c.path);
        const onPath = ROUTES.filter((route) => route.path === path);
        const routed = onPath.some((route) => route.method === c.method);
        if (!routed) {
          expect(response.status).toBe(onPath.length > 0 ? 405 : 404);
          if (onPath.length > 0)
            expect(response.headers.get("allow")).toBe(onPath.map((route) => route.method).join(", "));
          if (c.method !== "HEAD") expectSpecReply(response.status, response.headers.get("content-type"), text, [1013]);
          return;
        }
        expectSpecReply(response.status, response.headers.get("content-type"), text, c.codes);
        if (c.method === "PUT") expect(PUT_CODES).toEqual(expect.arrayContaining([...c.codes]));
        if (c.method === "POST") expect(POST_CODES).toEqual(expect.arrayContaining([...c.codes]));
      }),
      { numRuns: 500 },
    );
    expect(await table()).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("paths opening with // are unknown routes (404, 1013), not a 500 nor another route", async () => {
    for (const path of ["//", `//host${SETS}`, "//training/tasks/sets"]) {
      const response = await fetch(`${api.base}${path}?task_id=${fixture.task}&set_type_id=0`);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      const text = await response.text();
      expectContract("GET", path, response, text);
      expectSpecReply(response.status, response.headers.get("content-type"), text, [1013]);
    }
  });

  it("query parameters and headers named like Object.prototype members are ordinary names (an unknown parameter is 1023), not a 500", async () => {
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      const query = await fetch(`${api.base}${SETS}?task_id=${fixture.task}&set_type_id=0&${name}=1`);
      const text = await query.text();
      // An unknown parameter, refused by its name like any other.
      expect({ name, status: query.status, code: JSON.parse(text).code }).toEqual({ name, status: 400, code: 1023 });
      expectContract("GET", SETS, query, text);
      const header = await fetch(`${api.base}${SETS}?task_id=${fixture.task}&set_type_id=0`, {
        headers: { [name]: "1" },
      });
      expect({ name, status: header.status }).toEqual({ name, status: 200 });
      expectContract("GET", SETS, header, await header.text());
    }
  });

  it("a body nested 100,000 levels deep is refused with 1001 (400), never a 5xx", async () => {
    const deep = `{"task_id":"fuzz-task","training_count":1,"verifying_count":0,"testing_count":0,"x":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    for (const [method, path] of [
      ["PUT", SETS],
      ["POST", IMAGES],
    ] as const) {
      const response = await fetch(`${api.base}${path}`, { method, body: deep });
      const text = await response.text();
      expectContract(method, path, response, text);
      expectSpecReply(response.status, response.headers.get("content-type"), text, [1001]);
    }
    expect(await table()).toBe(before);
  });
});
