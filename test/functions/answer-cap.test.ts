import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { readConfig } from "../../lib/config.ts";
import { answerBytes, carriedBytes, MAX_ORIGIN_CHARS, MAX_REQUEST_ID_CHARS } from "../../lib/http/answer-size.ts";
import { type FunctionName, ROUTES } from "../../lib/routes.ts";
import { createStore } from "../../lib/store/index.ts";
import { lambdaContext, loadHandler } from "../../scripts/lambda.ts";

// Small, so that a few images with the longest names fill a page; read by the handlers at import.
const MAX_ANSWER_BYTES = 20_000;
// Allowed, and sent: the answers carry every header they can.
const ORIGIN = `https://${"a".repeat(240)}.example.com`;

/** `length` characters cycling through those an answer escapes twice, a 4-byte one and a control character. */
const nasty = (length: number, shift = 0) =>
  Array.from({ length }, (_, i) => ['"', "\\", "𠜎", "\u0001"][(i + shift) % 4]).join("");
const NAME = nasty(255);
const TAG = nasty(128, 1);

type Handler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
let handlers: Record<"SplitTask" | "ListSet" | "RegisterImages" | "GetImages", Handler>;

/** What Lambda counts against its 6 MB: the response object the handler returns, as it serializes it. */
const lambdaBytes = (result: APIGatewayProxyResult) => Buffer.byteLength(JSON.stringify(result));

/** Calls the function of `name` as Lambda would, with an API Gateway proxy event. */
async function invoke(name: keyof typeof handlers, query: Record<string, string> | null, body?: unknown) {
  const route = ROUTES.find((candidate) => candidate.name === name);
  if (!route) throw new Error(`no route ${name}`);
  const event = {
    resource: route.path,
    path: route.path,
    httpMethod: route.method,
    headers: { "Content-Type": "application/json", Origin: ORIGIN },
    multiValueHeaders: {},
    queryStringParameters: query,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { requestId: randomUUID(), httpMethod: route.method, path: route.path, resourcePath: route.path },
  } as unknown as APIGatewayProxyEvent;
  const result = await handlers[name](event);
  return { result, bytes: lambdaBytes(result), body: JSON.parse(result.body) as Record<string, unknown> };
}

const imageId = (taskId: string, i: number, width = 11) => `${taskId}${String(i).padStart(width, "0")}`;

async function register(taskId: string, count: number, width?: number) {
  for (let start = 1; start <= count; start += 100) {
    const images = [];
    for (let i = start; i < Math.min(count + 1, start + 100); i++) {
      images.push({ img_id: imageId(taskId, i, width), img_name: NAME, state: i % 6, label: TAG, group: TAG });
    }
    const { body } = await invoke("RegisterImages", null, { task_id: taskId, images });
    expect(body.code).toBe(0);
  }
}

beforeAll(async () => {
  vi.stubEnv("MAX_ANSWER_BYTES", String(MAX_ANSWER_BYTES));
  vi.stubEnv("CORS_ORIGINS", ORIGIN);
  await createStore(readConfig()).ensureTable();
  const names = ["SplitTask", "ListSet", "RegisterImages", "GetImages"] as const;
  const loaded = await Promise.all(names.map((name) => loadHandler(name as FunctionName)));
  handlers = Object.fromEntries(
    names.map((name, i) => [name, (event: APIGatewayProxyEvent) => loaded[i]?.(event, lambdaContext(name))]),
  ) as typeof handlers;
  // The request log lines would drown the test output.
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});

afterAll(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** The real response's bytes are the measure's less what its headers are shorter than the longest by. */
const HEADER_SLACK = MAX_ORIGIN_CHARS - ORIGIN.length + (MAX_REQUEST_ID_CHARS - randomUUID().length);

type Page = Awaited<ReturnType<typeof invoke>>;

/** Every page of a listing, following next_cursor (at most 60 pages). */
async function allPages(name: "ListSet" | "GetImages", query: Record<string, string>) {
  const pages: Page[] = [];
  let cursor: string | undefined;
  do {
    const page = await invoke(name, { ...query, limit: "10000", ...(cursor ? { cursor } : {}) });
    pages.push(page);
    cursor = page.body.next_cursor as string | undefined;
  } while (cursor && pages.length < 60);
  return pages;
}

/** Each page fits, holds an image at least, and ends only because the next image would not have fit. */
function expectCappedPages(pages: Page[]) {
  const lists = pages.map((page) => page.body.img_info_list as unknown[]);
  for (const [i, page] of pages.entries()) {
    expect(page.result.statusCode).toBe(200);
    expect(page.bytes).toBe(answerBytes(page.body) - HEADER_SLACK);
    expect(page.bytes).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    expect(lists[i]?.length).toBeGreaterThanOrEqual(1);
    const next = lists[i + 1]?.[0];
    if (next !== undefined) expect(answerBytes(page.body) + carriedBytes(next) + 1).toBeGreaterThan(MAX_ANSWER_BYTES);
  }
  expect(pages.at(-1)?.body).not.toHaveProperty("next_cursor");
}

describe("every answer fits MAX_ANSWER_BYTES as Lambda carries it, whatever the names hold", () => {
  const taskId = "capped";
  let put: Page;

  beforeAll(async () => {
    await register(taskId, 40);
    put = await invoke("SplitTask", null, {
      task_id: taskId,
      training_count: 30,
      verifying_count: 10,
      testing_count: 0,
      seed: nasty(128, 2),
    });
  });

  it("a split's answer keeps its id lists while they fit", () => {
    expect(put.result.statusCode).toBe(200);
    expect(put.result.headers?.["Access-Control-Allow-Origin"]).toBe(ORIGIN);
    expect(put.body).toMatchObject({ code: 0, seed: nasty(128, 2), img_ids_set_testing: [] });
    expect(put.body.img_ids_set_training).toHaveLength(30);
    expect(put.body.img_ids_set_verifying).toHaveLength(10);
    expect(put.bytes).toBe(answerBytes(put.body) - HEADER_SLACK);
    expect(put.bytes).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
  });

  it("a set's pages: each fits and holds an image at least, and together they list the set", async () => {
    const pages = await allPages("ListSet", { task_id: taskId, set_type_id: "0" });

    const listed = pages.flatMap((page) => page.body.img_info_list as { img_id: string; img_name: string }[]);
    expect(listed.map((image) => image.img_id).sort()).toEqual([...(put.body.img_ids_set_training as string[])].sort());
    expect(new Set(listed.map((image) => image.img_name))).toEqual(new Set([NAME]));
    expect(pages.length).toBeGreaterThan(1);
    expectCappedPages(pages);
  });

  it("the task's image pages, labels and groups included: each fits, together they list every image", async () => {
    const pages = await allPages("GetImages", { task_id: taskId });

    const listed = pages.flatMap((page) => page.body.img_info_list as { order_id: number; label: string }[]);
    expect(listed.map((image) => image.order_id)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(new Set(listed.map((image) => image.label))).toEqual(new Set([TAG]));
    expect(pages.length).toBeGreaterThan(1);
    expectCappedPages(pages);
  });

  it("a split whose id lists would pass the cap answers ids_omitted and set_sizes, and fits", async () => {
    // 64-character ids: 300 of them take more than MAX_ANSWER_BYTES.
    const bigTask = "capped-big";
    await register(bigTask, 300, 64 - bigTask.length);

    const big = await invoke("SplitTask", null, {
      task_id: bigTask,
      training_count: 200,
      verifying_count: 60,
      testing_count: 40,
    });

    expect(big.body).toMatchObject({
      code: 0,
      ids_omitted: true,
      set_sizes: { training: 200, verifying: 60, testing: 40 },
    });
    expect(big.body).not.toHaveProperty("img_ids_set_training");
    expect(big.bytes).toBe(answerBytes(big.body) - HEADER_SLACK);
    expect(big.bytes).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    // The lists, in whatever order, would not have fit.
    const ids = Array.from({ length: 300 }, (_, i) => imageId(bigTask, i + 1, 64 - bigTask.length));
    const { ids_omitted: _omitted, set_sizes: _sizes, ...rest } = big.body;
    const withLists = {
      ...rest,
      img_ids_set_training: ids.slice(0, 200),
      img_ids_set_verifying: ids.slice(200, 260),
      img_ids_set_testing: ids.slice(260),
    };
    expect(ids[0]).toHaveLength(64);
    expect(answerBytes(withLists)).toBeGreaterThan(MAX_ANSWER_BYTES);
  });
});
