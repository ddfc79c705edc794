import { DeleteCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../client/index.ts";
import { readConfig } from "../../lib/config.ts";
import { documentClient } from "../../lib/store/client.ts";
import { type Reply, startApi } from "../support/http.ts";
import { localClient } from "../support/store.ts";

let api: Awaited<ReturnType<typeof startApi>>;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api.close());

const SEED_TASK = "2018062212345678911";
const SEED_IMAGES = [
  { img_id: "2018072080042233351", img_name: "img_拓海_1.png", state: 0 },
  { img_id: "2018072084092101478", img_name: "img_1.jpg", state: 0 },
  { img_id: "2018072067241762338", img_name: "img_2.jpg", state: 0 },
  ...Array.from({ length: 7 }, (_, i) => ({
    img_id: `20180704178605640${i}0`,
    img_name: `img_${i + 3}.jpg`,
    state: 1,
  })),
];
const SETS = "/training/tasks/sets";
const IMAGES = "/training/tasks/images";

const register = (taskId: string, images: unknown[]) => api.call("POST", IMAGES, { task_id: taskId, images });
const split = (taskId: string, training: number, verifying: number, testing: number, extra = {}) =>
  api.call("PUT", SETS, {
    task_id: taskId,
    training_count: training,
    verifying_count: verifying,
    testing_count: testing,
    ...extra,
  });
const list = (query: string) => api.call("GET", `${SETS}?${query}`);

const expectError = (reply: Reply, status: number, code: number, msg: string) => {
  expect(reply.status).toBe(status);
  expect(reply.body).toEqual({ code, msg, detail: expect.stringMatching(/\w/) });
  expect(reply.headers.get("content-type")).toBe("application/json; charset=utf-8");
  // Every answer, the local gateway's own (1013, 1014) included, carries the request id
  expect(reply.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
};

describe("the legacy API's own requests, end to end", () => {
  it("registers, splits 7/2/1 and lists each set with the legacy API's messages, in order_id order", async () => {
    // Arrange
    const registered = await register(SEED_TASK, SEED_IMAGES);

    // Act
    const put = await split(SEED_TASK, 7, 2, 1);
    const gets = await Promise.all([0, 1, 2].map((set) => list(`task_id="${SEED_TASK}"&set_type_id=${set}`)));

    // Assert
    expect(registered.body).toEqual({
      code: 0,
      msg: "图像登记成功",
      task_id: SEED_TASK,
      added: 10,
      updated: 0,
      unchanged: 0,
      total: 10,
    });
    expect(put.status).toBe(200);
    expect(put.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(put.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set([registered, put, ...gets].map((reply) => reply.headers.get("x-request-id"))).size).toBe(5);
    expect(put.body).toMatchObject({
      code: 0,
      msg: "TaskImgRel 表 图像集合数据更新， 成功",
      task_id: SEED_TASK,
      unassigned_count: 0,
    });
    expect(Object.keys(put.body)).toEqual([
      "code",
      "msg",
      "task_id",
      "img_ids_set_training",
      "img_ids_set_verifying",
      "img_ids_set_testing",
      "unassigned_count",
      "seed",
      "version",
    ]);
    const drawn = {
      0: put.body.img_ids_set_training,
      2: put.body.img_ids_set_verifying,
      1: put.body.img_ids_set_testing,
    } as Record<number, string[]>;
    expect([drawn[0]?.length, drawn[2]?.length, drawn[1]?.length]).toEqual([7, 2, 1]);
    const orderOf = new Map(SEED_IMAGES.map((image, i) => [image.img_id, i + 1]));
    for (const [set, get] of gets.entries()) {
      expect(get.status).toBe(200);
      expect(get.body.code).toBe(0);
      expect(get.body.msg).toBe(`集合编号id=${set}的图像数据查询成功`);
      expect(get.body.task_id).toBe(SEED_TASK);
      expect(get.body).not.toHaveProperty("next_cursor");
      const info = get.body.img_info_list as { img_id: string; img_name: string; state: number; order_id: number }[];
      expect(info.map((i) => i.img_id).sort()).toEqual([...(drawn[set] ?? [])].sort());
      for (const image of info) {
        const source = SEED_IMAGES.find((s) => s.img_id === image.img_id);
        expect(image).toEqual({
          img_name: source?.img_name,
          img_id: image.img_id,
          state: source?.state,
          order_id: orderOf.get(image.img_id),
        });
      }
      expect(info.map((i) => i.order_id)).toEqual(info.map((i) => i.order_id).sort((a, b) => a - b));
    }
  });

  it("answers [] for a set split empty and the legacy API's 1010 shape when it is listed", async () => {
    await register("2018072049434026765", SEED_IMAGES);

    const put = await split("2018072049434026765", 9, 0, 1);
    const get = await list("task_id=2018072049434026765&set_type_id=2");

    expect(put.body.img_ids_set_verifying).toEqual([]);
    expect(put.body.img_ids_set_training).toHaveLength(9);
    expect(put.body.img_ids_set_testing).toHaveLength(1);
    expectError(get, 404, 1010, "获取 任务id为 2018072049434026765，属于集合 2，的图像的相关数据 失败");
  });

  it("reads a form-encoded body as JSON, as curl -d sends it", async () => {
    await register("form-task", SEED_IMAGES);

    const put = await api.call(
      "PUT",
      SETS,
      '{"task_id":"form-task","training_count":"5","verifying_count":0,"testing_count":0,"seed":42}',
      { "content-type": "application/x-www-form-urlencoded" },
    );

    expect(put.status).toBe(200);
    expect(put.body.seed).toBe("42");
    expect(put.body.unassigned_count).toBe(5);
  });
});

describe("every error code over HTTP, with its status", () => {
  beforeAll(async () => {
    await register("errors", SEED_IMAGES.slice(0, 5));
  });

  it.each([
    ["not JSON", "{nope", 400, 1001, "请求体必须是 JSON 对象"],
    ["a JSON array", "[1,2]", 400, 1001, "请求体必须是 JSON 对象"],
    ["an empty body", "", 400, 1001, "请求体必须是 JSON 对象"],
    [
      "a 19-digit numeric task_id",
      '{"task_id":2018062212345678911,"training_count":1,"verifying_count":0,"testing_count":0}',
      400,
      1002,
      "task_id 缺失或格式错误",
    ],
    [
      "training_count 0",
      { task_id: "errors", training_count: 0, verifying_count: 0, testing_count: 0 },
      400,
      1009,
      "训练集中图像的个数不能小于等于0",
    ],
    [
      "verifying_count -1",
      { task_id: "errors", training_count: 1, verifying_count: -1, testing_count: 0 },
      400,
      1005,
      "验证集中图像的个数不能小于0",
    ],
    [
      "testing_count 7.5",
      { task_id: "errors", training_count: 1, verifying_count: 0, testing_count: 7.5 },
      400,
      1006,
      "测试集中图像的个数不能小于0",
    ],
    [
      "a task without images",
      { task_id: "no-images", training_count: 1, verifying_count: 0, testing_count: 0 },
      404,
      1003,
      "任务id为 no-images 的任务下没有图像",
    ],
    [
      "counts above the images",
      { task_id: "errors", training_count: 4, verifying_count: 1, testing_count: 1 },
      400,
      1007,
      "三个集合的图像个数之和 6 超过了任务下的图像总数 5",
    ],
    [
      "a boolean seed",
      { task_id: "errors", training_count: 1, verifying_count: 0, testing_count: 0, seed: true },
      400,
      1016,
      "seed 必须是 1–128 个字符的字符串或安全整数",
    ],
  ])("PUT with %s", async (_, body, status, code, msg) => {
    expectError(await api.call("PUT", SETS, body), status, code, msg);
  });

  it.each([
    ["no task_id", "set_type_id=1", 400, 1002, "task_id 缺失或格式错误"],
    ["set_type_id 3", "task_id=errors&set_type_id=3", 400, 1004, "set_type_id 必须是 0（训练）、1（测试）或 2（验证）"],
    ["limit 0", "task_id=errors&set_type_id=0&limit=0", 400, 1012, "分页参数错误"],
    ["a forged cursor", "task_id=errors&set_type_id=0&cursor=abc", 400, 1012, "分页参数错误"],
    [
      "a task never split",
      "task_id=errors&set_type_id=0",
      404,
      1010,
      "获取 任务id为 errors，属于集合 0，的图像的相关数据 失败",
    ],
  ])("GET with %s", async (_, query, status, code, msg) => {
    expectError(await list(query), status, code, msg);
  });

  it.each([
    ["no images", { task_id: "errors", images: [] }, "images"],
    ["an img_id twice", { task_id: "errors", images: [SEED_IMAGES[0], SEED_IMAGES[0]] }, "images[1].img_id"],
    ["an empty name", { task_id: "errors", images: [{ img_id: "1", img_name: "" }] }, "images[0].img_name"],
    ["a negative state", { task_id: "errors", images: [{ img_id: "1", img_name: "a", state: -1 }] }, "images[0].state"],
  ])("POST with %s is 1011 naming the field", async (_, body, field) => {
    expectError(await api.call("POST", IMAGES, body), 400, 1011, `图像数据格式错误: ${field}`);
  });

  it.each([
    [
      "an unknown field, a near miss",
      { task_id: "errors", training_count: 7, verifying_count: 2, testing_count: 1, dryRun: true },
      "未知字段: dryRun",
      "did you mean dry_run?",
    ],
    [
      "a count that is not an integer",
      { task_id: "errors", training_count: 7.5, verifying_count: 2, testing_count: 1 },
      "训练集中图像的个数不能小于等于0",
      "training_count must be an integer ≥ 1, got 7.5",
    ],
    [
      "an unsafe numeric task_id",
      `{"task_id":2018072049434026765,"training_count":7,"verifying_count":2,"testing_count":1}`,
      "task_id 缺失或格式错误",
      "task_id is a number past 2^53, which arrives rounded (to 2018072049434026800): send ids as JSON strings",
    ],
  ])("PUT with %s keeps the legacy msg and says why in detail", async (_, body, msg, detail) => {
    const reply = await api.call("PUT", SETS, body);
    expect(reply.status).toBe(400);
    expect(reply.body.msg).toBe(msg);
    expect(reply.body.detail).toContain(detail);
  });

  it("POST details name the place: a duplicate points at the first, an overfull list gives its length", async () => {
    const duplicate = await api.call("POST", IMAGES, { task_id: "errors", images: [SEED_IMAGES[0], SEED_IMAGES[0]] });
    expect(duplicate.body.detail).toBe("images[1].img_id duplicates images[0]");
    const many = Array.from({ length: 1001 }, (_, i) => ({ img_id: `m${i}`, img_name: "m.jpg" }));
    const overfull = await api.call("POST", IMAGES, { task_id: "errors", images: many });
    expect(overfull.body.detail).toBe("images: at most 1000 per request, got 1001");
  });

  it("answers a CORS preflight as the deployed API does when origins are configured", async () => {
    const preflight = (origin: string) =>
      fetch(`${api.base}${SETS}`, {
        method: "OPTIONS",
        headers: { Origin: origin, "Access-Control-Request-Method": "PUT" },
      });
    process.env.CORS_ORIGINS = "https://label.example.com";
    try {
      const allowed = await preflight("https://label.example.com");
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(allowed.headers.get("access-control-allow-origin")).toBe("https://label.example.com");
      expect(allowed.headers.get("access-control-allow-methods")).toBe("PUT,GET,POST,DELETE");
      expect((await preflight("https://evil.example.com")).headers.get("access-control-allow-origin")).not.toBe(
        "https://evil.example.com",
      );
    } finally {
      delete process.env.CORS_ORIGINS;
    }
    expect((await preflight("https://label.example.com")).status).toBe(405);
  });

  it("unknown routes are 404 and wrong methods 405, both 1013", async () => {
    expectError(await api.call("GET", "/training/tasks"), 404, 1013, "接口不存在");
    const wrongMethod = await api.call("DELETE", SETS);
    expectError(wrongMethod, 405, 1013, "接口不存在");
    expect(wrongMethod.headers.get("allow")).toBe("PUT, GET");
  });

  it("a body over 1 MiB is 413 with 1014, and nothing is written", async () => {
    const images = Array.from({ length: 1000 }, (_, i) => ({ img_id: `big${i}`, img_name: "x".repeat(1100) }));

    const reply = await api.call("POST", IMAGES, { task_id: "too-big", images });

    expectError(reply, 413, 1014, "请求体过大");
    expectError(await split("too-big", 1, 0, 0), 404, 1003, "任务id为 too-big 的任务下没有图像");
  });

  it("a cursor whose snapshot is gone (expired after later splits) is 409 with 1015", async () => {
    await register("stale-cursor", SEED_IMAGES);
    await split("stale-cursor", 8, 1, 1);
    const first = await list("task_id=stale-cursor&set_type_id=0&limit=3");
    await deleteSnapshots("stale-cursor");

    const stale = await list(`task_id=stale-cursor&set_type_id=0&limit=3&cursor=${first.body.next_cursor}`);

    expect(first.body.next_cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expectError(stale, 409, 1015, "集合已重新划分，请从第一页重新读取");
  });
});

/** Deletes every snapshot chunk of a task, as TTL does once a retired snapshot's grace period ends. */
async function deleteSnapshots(taskId: string) {
  const db = documentClient(localClient());
  const table = readConfig().tableName;
  const out = await db.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: "task_id = :t AND begins_with(img_id, :p)",
      ExpressionAttributeValues: { ":t": taskId, ":p": "#split#" },
    }),
  );
  expect(out.Items?.length).toBeGreaterThan(0);
  for (const item of out.Items ?? []) {
    await db.send(new DeleteCommand({ TableName: table, Key: { task_id: taskId, img_id: item.img_id } }));
  }
}

describe("paging over HTTP, through the typed client", () => {
  it("a set of 12,000 images comes back page by page, each image once, in order_id order", async () => {
    // Arrange
    const client = createClient({ baseUrl: api.base });
    const taskId = "paged-12k";
    for (let start = 0; start < 12_000; start += 1000) {
      const images = Array.from({ length: 1000 }, (_, i) => ({
        img_id: `p${start + i}`,
        img_name: `img_${start + i}.jpg`,
      }));
      expect((await client.registerImages({ task_id: taskId, images })).added).toBe(1000);
    }
    const put = await client.splitTask({
      task_id: taskId,
      training_count: 12_000,
      verifying_count: 0,
      testing_count: 0,
    });

    // Act
    const pages = [];
    for await (const page of client.listSetPages(taskId, "training", { limit: 5000 })) pages.push(page);
    const listed = pages.flatMap((page) => page.img_info_list);

    // Assert
    expect(put.version).toBe(1);
    expect(pages.map((page) => page.img_info_list.length)).toEqual([5000, 5000, 2000]);
    expect(listed.map((i) => i.order_id)).toEqual(Array.from({ length: 12_000 }, (_, i) => i + 1));
    expect(listed.map((i) => i.img_id)).toEqual(Array.from({ length: 12_000 }, (_, i) => `p${i}`));
  });
});
