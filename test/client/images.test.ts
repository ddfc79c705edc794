import { afterEach, describe, expect, it } from "vitest";
import {
  createClient,
  DELETE_TAKES_IDEMPOTENCY_KEY,
  type Image,
  MAX_IDS_PER_DELETE,
  TrainingSetsError,
} from "../../client/index.ts";
import { openApiDocument } from "../../lib/contract/openapi.ts";
import { ROUTES } from "../../lib/routes.ts";
import { expectContract, rejection, startApi } from "../support/http.ts";
import { type StandInImage, standInImages, startImagesStandIn } from "../support/images-stand-in.ts";

// The client against a stand-in server answering the documented shapes (the real routes are
// exercised on DynamoDB Local by the handler tests); every answer is also checked against the
// OpenAPI document, by the stand-in and by the client's fetch here.
let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

async function setUp(tasks: Record<string, StandInImage[]>) {
  const server = await startImagesStandIn(tasks);
  stop = server.close;
  const api = createClient({
    baseUrl: server.base,
    retry: { retries: 2, baseDelayMs: 5, maxDelayMs: 10 },
    fetch: async (request) => {
      const response = await fetch(request);
      const url = new URL(request.url);
      expectContract(request.method, url.pathname + url.search, response, await response.clone().text());
      return response;
    },
  });
  return { server, api };
}

describe("getImagesById()", () => {
  it("answers one image with its set in the live split, label and group null when absent", async () => {
    // Arrange
    const { server, api } = await setUp({ t1: standInImages(6) });

    // Act
    const first = await api.getImagesById("t1", "img0001");
    const second = await api.getImagesById("t1", "img0002");
    const third = await api.getImagesById("t1", "img0003");

    // Assert
    expect(first).toEqual({
      img_id: "img0001",
      img_name: "img_1.jpg",
      state: 0,
      order_id: 1,
      label: "cat",
      group: "p0",
      set_type_id: 0,
    });
    expect(second).toMatchObject({ label: null, group: null, set_type_id: 1 });
    expect(third.set_type_id).toBeNull();
    expect(server.seen[0]!.url).toBe("/training/tasks/images?task_id=t1&img_id=img0001");
    expect(server.problems).toEqual([]);
  });

  it("an unknown image is 1026 (404) naming the task and the image", async () => {
    // Arrange
    const { server, api } = await setUp({ t1: standInImages(2) });

    // Act
    const error = await rejection(api.getImagesById("t1", "nope"));

    // Assert
    expect(error).toBeInstanceOf(TrainingSetsError);
    expect(error).toMatchObject({ code: 1026, status: 404, msg: "任务 t1 下没有图像 nope" });
    expect(server.problems).toEqual([]);
  });
});

describe("getImagesAll(), getImagesPages() and getImages()", () => {
  it("iterate every image of the task, page by page, in ascending order_id", async () => {
    // Arrange
    const { server, api } = await setUp({ t2: standInImages(11).reverse() });
    const seen: Image[] = [];
    const sizes: number[] = [];

    // Act
    for await (const image of api.getImagesAll("t2", { limit: 4 })) seen.push(image);
    for await (const page of api.getImagesPages("t2", { limit: 4 })) sizes.push(page.img_info_list.length);
    const first = await api.getImages("t2", { limit: 4 });
    const second = await api.getImages("t2", { limit: 4, cursor: first.next_cursor });

    // Assert
    expect(seen.map((image) => image.order_id)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(sizes).toEqual([4, 4, 3]);
    expect(first.next_cursor).toEqual(expect.any(String));
    expect(second.img_info_list[0]!.order_id).toBe(5);
    expect(server.seen[0]!.url).toBe("/training/tasks/images?task_id=t2&limit=4");
    expect(server.problems).toEqual([]);
  });

  it("a task without images is 1003", async () => {
    // Arrange
    const { api } = await setUp({});

    // Act
    const error = await rejection(api.getImages("empty"));

    // Assert
    expect(error).toMatchObject({ code: 1003, status: 404, msg: "任务id为 empty 的任务下没有图像" });
  });
});

describe("deleteImages()", () => {
  it("answers deleted, already_deleted, not_found and the images left; a deleted image is gone from getImagesById() and getImagesAll()", async () => {
    // Arrange
    const { server, api } = await setUp({ t3: standInImages(5) });

    // Act
    const first = await api.deleteImages({ task_id: "t3", img_ids: ["img0002", "img0004", "ghost"] });
    const again = await api.deleteImages({ task_id: "t3", img_ids: ["img0002", "img0005"] });
    const gone = await rejection(api.getImagesById("t3", "img0002"));
    const left: string[] = [];
    for await (const image of api.getImagesAll("t3")) left.push(image.img_id);

    // Assert
    expect(first).toEqual({
      code: 0,
      msg: "图像删除成功",
      task_id: "t3",
      deleted: 2,
      already_deleted: 0,
      not_found: ["ghost"],
      total: 3,
    });
    expect(again).toMatchObject({ deleted: 1, already_deleted: 1, not_found: [], total: 2 });
    expect(gone).toMatchObject({ code: 1026, status: 404 });
    expect(left).toEqual(["img0001", "img0003"]);
    expect(server.seen[0]).toMatchObject({
      method: "DELETE",
      url: "/training/tasks/images",
      body: { task_id: "t3", img_ids: ["img0002", "img0004", "ghost"] },
    });
    expect(server.problems).toEqual([]);
  });

  it("refusals are typed errors: an id twice is 1011 naming it", async () => {
    // Arrange
    const { api } = await setUp({ t4: standInImages(2) });

    // Act
    const error = await rejection(api.deleteImages({ task_id: "t4", img_ids: ["img0001", "img0001"] }));

    // Assert
    expect(error).toMatchObject({ code: 1011, status: 400, msg: "图像数据格式错误: img_ids[1]" });
  });

  it.runIf(!DELETE_TAKES_IDEMPOTENCY_KEY)(
    "is sent once, without an Idempotency-Key, and never retried (not even on 503)",
    async () => {
      // Arrange
      const { server, api } = await setUp({ t5: standInImages(2) });
      server.faults.push({
        status: 503,
        body: { code: 1500, msg: "服务器内部错误，请稍后重试", request_id: "req-9" },
        headers: { "retry-after": "0" },
      });

      // Act
      const error = await rejection(api.deleteImages({ task_id: "t5", img_ids: ["img0001"] }));

      // Assert
      expect(error).toMatchObject({ code: 1500, status: 503, requestId: "req-9" });
      expect(server.seen).toHaveLength(1);
      expect(server.seen[0]!.headers["idempotency-key"]).toBeUndefined();
    },
  );

  it.runIf(DELETE_TAKES_IDEMPOTENCY_KEY)(
    "is retried on 503 with one Idempotency-Key, a fresh one per call",
    async () => {
      // Arrange
      const { server, api } = await setUp({ t6: standInImages(3) });
      server.faults.push({
        status: 503,
        body: { code: 1500, msg: "服务器内部错误，请稍后重试", request_id: "req-9" },
        headers: { "retry-after": "0" },
      });

      // Act
      const first = await api.deleteImages({ task_id: "t6", img_ids: ["img0001"] });
      await api.deleteImages({ task_id: "t6", img_ids: ["img0002"] });

      // Assert
      expect(first).toMatchObject({ deleted: 1 });
      const keys = server.seen.map((request) => request.headers["idempotency-key"]);
      expect(keys).toHaveLength(3);
      expect(keys[0]).toMatch(/^[\x21-\x7e]{1,255}$/);
      expect(keys[1]).toBe(keys[0]);
      expect(keys[2]).not.toBe(keys[0]);
    },
  );
});

describe("the client and the contract", () => {
  it("send an Idempotency-Key on DELETE exactly when the route takes one (lib/routes.ts) and the document says so", () => {
    const route = (ROUTES as readonly { method: string; path: string; idempotent: boolean }[]).find(
      (candidate) => candidate.method === "DELETE" && candidate.path === "/training/tasks/images",
    );
    expect(route, "DELETE /training/tasks/images in lib/routes.ts").toBeDefined();
    expect(DELETE_TAKES_IDEMPOTENCY_KEY).toBe(route!.idempotent);
    const parameters = openApiDocument().paths["/training/tasks/images"]?.delete?.parameters ?? [];
    expect(parameters.some((parameter) => parameter.name === "Idempotency-Key")).toBe(route!.idempotent);
  });

  it("agree on the DELETE's limit", () => {
    const schema = openApiDocument().components.schemas.DeleteRequest as {
      properties: { img_ids: { maxItems: number } };
    };
    expect(schema.properties.img_ids.maxItems).toBe(MAX_IDS_PER_DELETE);
  });
});

describe("against the local gateway and the real handlers (DynamoDB Local)", () => {
  it("looks up, lists and deletes a task's images", async () => {
    // Arrange
    const gateway = await startApi();
    stop = gateway.close;
    const api = createClient({
      baseUrl: gateway.base,
      fetch: async (request) => {
        const response = await fetch(request);
        const url = new URL(request.url);
        expectContract(request.method, url.pathname + url.search, response, await response.clone().text());
        return response;
      },
    });
    const taskId = "client_images_real";
    await api.registerImages({
      task_id: taskId,
      images: Array.from({ length: 6 }, (_, i) => ({
        img_id: `r${i + 1}`,
        img_name: `r_${i + 1}.jpg`,
        ...(i === 0 ? { label: "cat", group: "p1" } : {}),
      })),
    });
    const split = await api.splitTask({ task_id: taskId, training_count: 3, verifying_count: 1, testing_count: 1 });

    // Act
    const one = await api.getImagesById(taskId, "r1");
    const before: Image[] = [];
    for await (const image of api.getImagesAll(taskId, { limit: 4 })) before.push(image);
    const deleted = await api.deleteImages({ task_id: taskId, img_ids: ["r2", "r9"] });
    const again = await api.deleteImages({ task_id: taskId, img_ids: ["r2"] });
    const gone = await rejection(api.getImagesById(taskId, "r2"));
    const after: string[] = [];
    for await (const image of api.getImagesAll(taskId)) after.push(image.img_id);
    const summary = await api.listSetSummary(taskId);

    // Assert
    const setOf = (id: string) =>
      split.img_ids_set_training?.includes(id)
        ? 0
        : split.img_ids_set_testing?.includes(id)
          ? 1
          : split.img_ids_set_verifying?.includes(id)
            ? 2
            : null;
    expect(one).toEqual({
      img_id: "r1",
      img_name: "r_1.jpg",
      state: 0,
      order_id: 1,
      label: "cat",
      group: "p1",
      set_type_id: setOf("r1"),
    });
    expect(before.map((image) => [image.img_id, image.set_type_id])).toEqual(
      ["r1", "r2", "r3", "r4", "r5", "r6"].map((id) => [id, setOf(id)]),
    );
    expect(deleted).toMatchObject({ code: 0, deleted: 1, already_deleted: 0, not_found: ["r9"], total: 5 });
    expect(again).toMatchObject({ deleted: 0, already_deleted: 1, not_found: [], total: 5 });
    expect(gone).toMatchObject({ code: 1026, status: 404 });
    expect(after).toEqual(["r1", "r3", "r4", "r5", "r6"]);
    expect(summary).toMatchObject({ image_count: 5, deleted_count: 1 });
  });
});
