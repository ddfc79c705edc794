import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, expect } from "vitest";
import { type Handlers, loadHandlers } from "../../scripts/local-gateway.ts";
import { startApi } from "../support/http.ts";
import { localClient } from "../support/store.ts";
import type { BodyCase } from "./body-arbitraries.ts";
import { type Fixture, pollutionAttempt } from "./field-arbitraries.ts";
import type { QueryCase } from "./query-arbitraries.ts";

/**
 * Fuzzing the handlers (invoked directly with API Gateway events) and the local gateway (over
 * loopback HTTP) with generated bad requests: every answer is a documented code with its status and
 * message, JSON with the documented content type, never a 5xx, and the table is byte for byte what it
 * was before (no bad request writes, not even a lease).
 */

type Api = Awaited<ReturnType<typeof startApi>>;

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
export const PUT_CODES = [1001, 1002, 1003, 1005, 1006, 1007, 1009, 1014, 1016, 1023];
export const POST_CODES = [1001, 1002, 1011, 1014, 1023];
export const GET_CODES = [0, 1002, 1003, 1004, 1010, 1012, 1015, 1023];

export const SETS = "/training/tasks/sets";
export const IMAGES = "/training/tasks/images";
export const fixture: Fixture = { task: "fuzz-task", images: 12, known: ["fuzz-task", "fuzz-unsplit"] };

/** Every item of the table, in key order: the "nothing was written" baseline. */
export async function table(): Promise<string> {
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

/** Asserts a reply is one of `codes` with the documented status, message, content type and nothing else. */
export function expectSpecReply(
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

export const expectedCodes = (expected: QueryCase["expected"] | number) =>
  typeof expected === "number" ? [expected] : expected;

/** What the handler must answer a bad body: its first failing rule, or 1001 when the body parser refuses it as a pollution attempt. */
export const bodyCode = (c: BodyCase) => (pollutionAttempt(c.text) ? 1001 : c.expected);

/** The API and the handlers over a fixture task (split three times, a live and a stale cursor), and the table as it was. */
export function useFuzzedService() {
  let running: { api: Api; handlers: Handlers; cursors: { live: string; stale: string }; before: string } | undefined;
  beforeAll(async () => {
    const api = await startApi();
    const handlers = await loadHandlers();
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
    running = { api, handlers, cursors: { live, stale }, before: await table() };
  });
  afterAll(async () => running?.api.close());
  return () => {
    if (!running) throw new Error("useFuzzedService: the service starts in beforeAll");
    return running;
  };
}
