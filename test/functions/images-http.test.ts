import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Reply, startApi } from "../support/http.ts";

/** GET and DELETE /training/tasks/images through the local gateway and the real handlers. */
let api: Awaited<ReturnType<typeof startApi>>;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api.close());

const IMAGES = "/training/tasks/images";
const SETS = "/training/tasks/sets";

const expectError = (reply: Reply, status: number, code: number, msg: string) => {
  expect(reply.status).toBe(status);
  expect(reply.body).toEqual({ code, msg, detail: expect.stringMatching(/\w/) });
};

async function registered(taskId: string, count: number) {
  const images = Array.from({ length: count }, (_, i) => ({
    img_id: `${taskId}${i + 1}`,
    img_name: `img_${i + 1}.jpg`,
    ...(i === 0 ? { label: "cat", group: "g1" } : {}),
  }));
  const reply = await api.call("POST", IMAGES, { task_id: taskId, images });
  expect(reply.status).toBe(200);
}

describe("GET /training/tasks/images", () => {
  it("looks one image up, and lists them all page by page, each with its set in the live split", async () => {
    // Arrange
    await registered("httpimg", 5);
    const split = await api.call("PUT", SETS, {
      task_id: "httpimg",
      training_count: 2,
      verifying_count: 1,
      testing_count: 1,
      seed: "http",
    });
    const training = split.body.img_ids_set_training as string[];
    const setOf = (id: string) =>
      training.includes(id)
        ? 0
        : (split.body.img_ids_set_testing as string[]).includes(id)
          ? 1
          : (split.body.img_ids_set_verifying as string[]).includes(id)
            ? 2
            : null;

    // Act
    const one = await api.call("GET", `${IMAGES}?task_id=httpimg&img_id=httpimg1`);
    const first = await api.call("GET", `${IMAGES}?task_id=httpimg&limit=3`);
    const second = await api.call(
      "GET",
      `${IMAGES}?task_id=httpimg&limit=3&cursor=${encodeURIComponent(first.body.next_cursor as string)}`,
    );

    // Assert
    expect(one.status).toBe(200);
    expect(one.body).toEqual({
      code: 0,
      msg: "图像查询成功",
      task_id: "httpimg",
      image: {
        img_id: "httpimg1",
        img_name: "img_1.jpg",
        state: 0,
        order_id: 1,
        label: "cat",
        group: "g1",
        set_type_id: setOf("httpimg1"),
      },
    });
    expect(first.body).toMatchObject({ code: 0, msg: "任务图像查询成功", task_id: "httpimg" });
    const list = [
      ...(first.body.img_info_list as { order_id: number; set_type_id: number | null; img_id: string }[]),
      ...(second.body.img_info_list as { order_id: number; set_type_id: number | null; img_id: string }[]),
    ];
    expect(list.map((image) => image.order_id)).toEqual([1, 2, 3, 4, 5]);
    expect(second.body.next_cursor).toBeUndefined();
    expect(
      list
        .filter((image) => image.set_type_id === 0)
        .map((image) => image.img_id)
        .sort(),
    ).toEqual([...training].sort());
    expect(list.filter((image) => image.set_type_id === null)).toHaveLength(1);
    for (const image of list) expect(image.set_type_id).toBe(setOf(image.img_id));
  });

  it("answers 1026 for an unknown image, 1003 for a task without images, 1011 / 1012 / 1002 for bad parameters", async () => {
    await registered("httpmiss", 1);
    expectError(
      await api.call("GET", `${IMAGES}?task_id=httpmiss&img_id=nope`),
      404,
      1026,
      "任务 httpmiss 下没有图像 nope",
    );
    expectError(await api.call("GET", `${IMAGES}?task_id=never`), 404, 1003, "任务id为 never 的任务下没有图像");
    expectError(
      await api.call("GET", `${IMAGES}?task_id=httpmiss&img_id=a%20b`),
      400,
      1011,
      "图像数据格式错误: img_id",
    );
    expectError(await api.call("GET", `${IMAGES}?task_id=httpmiss&limit=0`), 400, 1012, "分页参数错误");
    expectError(await api.call("GET", `${IMAGES}?task_id=httpmiss&cursor=xyz`), 400, 1012, "分页参数错误");
    expectError(await api.call("GET", `${IMAGES}?img_id=x`), 400, 1002, "task_id 缺失或格式错误");
  });
});

describe("DELETE /training/tasks/images", () => {
  it("deletes, counts already deleted and unknown ids, and the image is gone from lookup and listings", async () => {
    // Arrange
    await registered("httpdel", 4);

    // Act
    const first = await api.call("DELETE", IMAGES, { task_id: "httpdel", img_ids: ["httpdel2", "ghost"] });
    const again = await api.call("DELETE", IMAGES, { task_id: "httpdel", img_ids: ["httpdel2", "httpdel3"] });
    const lookup = await api.call("GET", `${IMAGES}?task_id=httpdel&img_id=httpdel2`);
    const listed = await api.call("GET", `${IMAGES}?task_id=httpdel`);
    const summary = await api.call("GET", `${SETS}?task_id=httpdel`);

    // Assert
    expect(first.body).toEqual({
      code: 0,
      msg: "图像删除成功",
      task_id: "httpdel",
      deleted: 1,
      already_deleted: 0,
      not_found: ["ghost"],
      total: 3,
    });
    expect(again.body).toMatchObject({ deleted: 1, already_deleted: 1, not_found: [], total: 2 });
    expect(lookup.body).toMatchObject({ code: 1026 });
    expect((listed.body.img_info_list as { img_id: string }[]).map((image) => image.img_id)).toEqual([
      "httpdel1",
      "httpdel4",
    ]);
    expect(summary.body).toMatchObject({ image_count: 2, unassigned_count: 2, deleted_count: 2 });
  });

  it("validates body, unknown fields, task_id, then img_ids; 1003 for a task without images", async () => {
    expectError(await api.call("DELETE", IMAGES, [1]), 400, 1001, "请求体必须是 JSON 对象");
    expectError(
      await api.call("DELETE", IMAGES, { task_id: "t", img_ids: ["a"], imgs: 1 }),
      400,
      1023,
      "未知字段: imgs",
    );
    expectError(await api.call("DELETE", IMAGES, { img_ids: ["a"] }), 400, 1002, "task_id 缺失或格式错误");
    expectError(
      await api.call("DELETE", IMAGES, { task_id: "t", img_ids: ["a", "a"] }),
      400,
      1011,
      "图像数据格式错误: img_ids[1]",
    );
    expectError(
      await api.call("DELETE", IMAGES, { task_id: "nobody", img_ids: ["a"] }),
      404,
      1003,
      "任务id为 nobody 的任务下没有图像",
    );
  });

  it("with an Idempotency-Key, a retry replays the first answer", async () => {
    // Arrange
    await registered("httpidem", 3);
    const body = { task_id: "httpidem", img_ids: ["httpidem1"] };
    const headers = { "Idempotency-Key": "delete-once-1" };

    // Act
    const first = await api.call("DELETE", IMAGES, body, headers);
    const retry = await api.call("DELETE", IMAGES, body, headers);

    // Assert
    expect(first.body).toMatchObject({ deleted: 1, already_deleted: 0, total: 2 });
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
  });
});
