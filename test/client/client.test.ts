import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  type ImageInfo,
  type TrainingSetsClient,
  TrainingSetsError,
  TrainingSetsNetworkError,
} from "../../client/index.ts";
import { expectContract, rejection, startApi } from "../support/http.ts";

let gateway: Awaited<ReturnType<typeof startApi>>;
let api: TrainingSetsClient;
beforeAll(async () => {
  gateway = await startApi();
  // Every answer the client receives must also be one the OpenAPI document describes.
  api = createClient({
    baseUrl: gateway.base,
    fetch: async (request) => {
      const response = await fetch(request);
      const url = new URL(request.url);
      expectContract(request.method, url.pathname + url.search, response, await response.clone().text());
      return response;
    },
  });
});
afterAll(async () => gateway.close());

const images = (count: number, prefix: string) =>
  Array.from({ length: count }, (_, i) => ({
    img_id: `${prefix}${String(i).padStart(4, "0")}`,
    img_name: `${prefix}_${i}.jpg`,
  }));

describe("each operation against the local gateway and the real handlers", () => {
  it("registers, reports unchanged on a rerun, splits, pages a set and summarises", async () => {
    // Arrange
    const taskId = "client_ops";
    const batch = images(10, "op");

    // Act
    const first = await api.registerImages({ task_id: taskId, images: batch });
    const again = await api.registerImages({ task_id: taskId, images: batch });
    const split = await api.splitTask({
      task_id: taskId,
      training_count: 6,
      verifying_count: 3,
      testing_count: 1,
      seed: "client",
    });
    const page = await api.listSet(taskId, "verifying", { limit: 2 });
    const rest = await api.listSet(taskId, 2, { cursor: page.next_cursor });
    const summary = await api.listSetSummary(taskId);

    // Assert
    expect(first).toMatchObject({ code: 0, task_id: taskId, added: 10, updated: 0, unchanged: 0, total: 10 });
    expect(again).toMatchObject({ added: 0, updated: 0, unchanged: 10, total: 10 });
    expect(split).toMatchObject({ code: 0, task_id: taskId, seed: "client", version: 1, unassigned_count: 0 });
    expect(split.img_ids_set_training).toHaveLength(6);
    expect(page.img_info_list).toHaveLength(2);
    expect(page.next_cursor).toEqual(expect.any(String));
    expect(rest.img_info_list).toHaveLength(1);
    expect(rest.next_cursor).toBeUndefined();
    expect([...page.img_info_list, ...rest.img_info_list].map((i) => i.img_id).sort()).toEqual(
      [...(split.img_ids_set_verifying ?? [])].sort(),
    );
    expect(summary).toMatchObject({ code: 0, task_id: taskId, image_count: 10 });
    expect(summary.split?.achieved_sizes).toEqual({ training: 6, verifying: 3, testing: 1 });
  });

  it("listSetAll() iterates every image of a set across pages, in ascending order_id", async () => {
    // Arrange
    const taskId = "client_pages";
    await api.registerImages({ task_id: taskId, images: images(53, "pg") });
    const split = await api.splitTask({ task_id: taskId, training_count: 30, verifying_count: 15, testing_count: 8 });
    const pages: number[] = [];
    const seen = new Map<string, ImageInfo[]>();

    // Act
    for (const set of ["training", "verifying", "testing"] as const) {
      const list: ImageInfo[] = [];
      for await (const image of api.listSetAll(taskId, set, { limit: 7 })) list.push(image);
      seen.set(set, list);
    }
    for await (const page of api.listSetPages(taskId, "training", { limit: 7 })) pages.push(page.img_info_list.length);

    // Assert
    expect(pages).toEqual([7, 7, 7, 7, 2]);
    const ids = (set: string) => seen.get(set)!.map((image) => image.img_id);
    expect(ids("training").sort()).toEqual([...split.img_ids_set_training!].sort());
    expect(ids("verifying").sort()).toEqual([...split.img_ids_set_verifying!].sort());
    expect(ids("testing").sort()).toEqual([...split.img_ids_set_testing!].sort());
    expect(new Set([...seen.values()].flat().map((image) => image.img_id)).size).toBe(53);
    for (const list of seen.values()) {
      const orders = list.map((image) => image.order_id);
      expect(orders).toEqual([...orders].sort((a, b) => a - b));
    }
  });
});

describe("typed errors", () => {
  it("a split of a task with no images is 1003 with its HTTP status", async () => {
    // Act
    const error = await rejection(
      api.splitTask({ task_id: "client_none", training_count: 1, verifying_count: 0, testing_count: 0 }),
    );

    // Assert
    expect(error).toBeInstanceOf(TrainingSetsError);
    expect(error).toMatchObject({ code: 1003, status: 404, msg: "任务id为 client_none 的任务下没有图像" });
  });

  it("an unknown field is 1023 with a detail naming the nearest known one", async () => {
    // Arrange
    const request = { task_id: "client_ops", training_count: 1, verifying_count: 0, testing_count: 0, dryRun: true };

    // Act
    const error = await rejection(api.splitTask(request as never));

    // Assert
    expect(error).toBeInstanceOf(TrainingSetsError);
    const typed = error as TrainingSetsError;
    expect(typed).toMatchObject({ code: 1023, status: 400, msg: "未知字段: dryRun", requestId: undefined });
    expect(typed.detail).toMatch(/dry_run/);
  });

  it("a set of a task never split is 1010 (GET), and a bad registration 1011 naming the field", async () => {
    // Arrange
    await api.registerImages({ task_id: "client_unsplit", images: images(2, "us") });

    // Act
    const listed = await rejection(api.listSet("client_unsplit", "testing"));
    const registered = await rejection(
      api.registerImages({ task_id: "client_unsplit", images: [{ img_id: "a", img_name: "" }] }),
    );

    // Assert
    expect(listed).toMatchObject({ name: "TrainingSetsError", code: 1010, status: 404 });
    expect(registered).toMatchObject({ code: 1011, status: 400, msg: expect.stringContaining("images[0].img_name") });
  });
});

/** A tiny HTTP server answering each request with the next of `answers`; counts requests. */
async function scripted(answers: ((request: IncomingMessage, response: ServerResponse) => void)[]) {
  const seen: { method: string; at: number; url: string; headers: IncomingMessage["headers"] }[] = [];
  const server = createServer((request, response) => {
    seen.push({ method: request.method ?? "", at: Date.now(), url: request.url ?? "", headers: request.headers });
    request.resume();
    const answer = answers[Math.min(seen.length - 1, answers.length - 1)]!;
    request.on("end", () => answer(request, response));
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    seen,
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      }),
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  ((_request: IncomingMessage, response: ServerResponse) => {
    response.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
    response.end(JSON.stringify(body));
  }) as (request: IncomingMessage, response: ServerResponse) => void;
const unavailable = json(
  503,
  { code: 1500, msg: "服务器内部错误，请稍后重试", request_id: "req-1" },
  { "retry-after": "1" },
);
const page = json(200, {
  code: 0,
  msg: "集合编号id=0的图像数据查询成功",
  task_id: "t",
  img_info_list: [{ img_name: "a.png", img_id: "a", state: 0, order_id: 1 }],
});
const hangUp = (request: IncomingMessage) => request.socket.destroy();
const splitAnswer = {
  code: 0,
  msg: "TaskImgRel 表 图像集合数据更新， 成功",
  task_id: "t",
  img_ids_set_training: ["a"],
  img_ids_set_verifying: [],
  img_ids_set_testing: [],
  unassigned_count: 0,
  seed: "s",
  version: 1,
};

describe("retries", () => {
  const fast = { retries: 3, baseDelayMs: 10, maxDelayMs: 50 };

  it("retries a GET answered 503, waiting at least its Retry-After", async () => {
    // Arrange
    const server = await scripted([unavailable, page]);
    const retries: number[] = [];
    const client = createClient({ baseUrl: server.base, retry: fast, onRetry: (r) => retries.push(r.delayMs) });

    // Act
    const result = await client.listSet("t", "training").finally(server.close);

    // Assert
    expect(result.img_info_list).toHaveLength(1);
    expect(server.seen.map((s) => s.method)).toEqual(["GET", "GET"]);
    expect(retries).toEqual([1000]);
    expect(server.seen[1]!.at - server.seen[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it("gives up after its retries with the last 503 as a typed error", async () => {
    // Arrange
    const server = await scripted([json(503, { code: 1500, msg: "服务器内部错误，请稍后重试", request_id: "req-2" })]);
    const client = createClient({ baseUrl: server.base, retry: fast });

    // Act
    const error = await rejection(client.listSetSummary("t").finally(server.close));

    // Assert
    expect(server.seen).toHaveLength(4);
    expect(error).toBeInstanceOf(TrainingSetsError);
    expect(error).toMatchObject({ code: 1500, status: 503, requestId: "req-2" });
  });

  it("retries a GET whose connection failed", async () => {
    // Arrange
    const server = await scripted([hangUp, page]);
    const client = createClient({ baseUrl: server.base, retry: fast });

    // Act
    const result = await client.listSet("t", 0).finally(server.close);

    // Assert
    expect(result.img_info_list[0]!.img_id).toBe("a");
    expect(server.seen).toHaveLength(2);
  });

  it("retries a PUT answered 503 with the same Idempotency-Key", async () => {
    // Arrange
    const server = await scripted([unavailable, json(200, splitAnswer)]);
    const client = createClient({ baseUrl: server.base, retry: { ...fast, maxRetryAfterMs: 2000 } });

    // Act
    const result = await client
      .splitTask({ task_id: "t", training_count: 1, verifying_count: 0, testing_count: 0 })
      .finally(server.close);

    // Assert
    expect(result).toMatchObject({ code: 0, version: 1 });
    expect(server.seen.map((s) => s.method)).toEqual(["PUT", "PUT"]);
    const keys = server.seen.map((s) => s.headers["idempotency-key"]);
    expect(keys[0]).toMatch(/^[\x21-\x7e]{1,255}$/);
    expect(keys[1]).toBe(keys[0]);
  });

  it("retries a PUT answered 1025 (the first request with its key still runs), and sends a fresh key per call", async () => {
    // Arrange
    const running = json(409, { code: 1025, msg: "相同 Idempotency-Key 的请求仍在处理中" });
    const server = await scripted([running, json(200, splitAnswer)]);
    const client = createClient({ baseUrl: server.base, retry: fast });
    const request = { task_id: "t", training_count: 1, verifying_count: 0, testing_count: 0 };

    // Act
    await client.splitTask(request);
    await client.splitTask(request).finally(server.close);

    // Assert
    const keys = server.seen.map((s) => s.headers["idempotency-key"]);
    expect(keys).toHaveLength(3);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
  });

  it("never retries 1008: another split won", async () => {
    // Arrange
    const lost = json(409, {
      code: 1008,
      msg: "任务 t 正在分集，请稍后重试",
      detail: "split version 4 was published while this split (planned on version 3) ran",
    });
    const server = await scripted([lost, json(200, {})]);
    const client = createClient({ baseUrl: server.base, retry: fast });

    // Act
    const error = await rejection(
      client.splitTask({ task_id: "t", training_count: 1, verifying_count: 0, testing_count: 0 }).finally(server.close),
    );

    // Assert
    expect(server.seen).toHaveLength(1);
    expect(error).toMatchObject({ code: 1008, status: 409, detail: expect.stringContaining("version 4") });
  });

  it("retries a POST whose connection failed, with the same Idempotency-Key", async () => {
    // Arrange
    const registered = json(200, {
      code: 0,
      msg: "图像登记成功",
      task_id: "t",
      added: 1,
      updated: 0,
      unchanged: 0,
      total: 1,
    });
    const server = await scripted([hangUp, registered]);
    const client = createClient({ baseUrl: server.base, retry: fast });

    // Act
    const result = await client
      .registerImages({ task_id: "t", images: [{ img_id: "a", img_name: "a" }] })
      .finally(server.close);

    // Assert
    expect(result).toMatchObject({ added: 1 });
    expect(server.seen.map((s) => s.method)).toEqual(["POST", "POST"]);
    expect(server.seen[1]!.headers["idempotency-key"]).toBe(server.seen[0]!.headers["idempotency-key"]);
  });

  it("a PUT whose every attempt got no answer ends with the network error", async () => {
    // Arrange
    const server = await scripted([hangUp]);
    const client = createClient({ baseUrl: server.base, retry: fast });

    // Act
    const error = await rejection(
      client.splitTask({ task_id: "t", training_count: 1, verifying_count: 0, testing_count: 0 }).finally(server.close),
    );

    // Assert
    expect(server.seen).toHaveLength(4);
    expect(error).toBeInstanceOf(TrainingSetsNetworkError);
  });
});

describe("authorization", () => {
  const DEPLOYED = "https://abc123defg.execute-api.eu-west-1.amazonaws.com/v1";
  /** A fetch that sends what the client would send to DEPLOYED to the local stand-in server instead. */
  const toLocal = (base: string) => (request: Request) => {
    const url = new URL(request.url);
    return fetch(new Request(`${base}${url.pathname.replace(/^\/v1/, "")}${url.search}`, request));
  };
  const credentials = async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "session" });

  it("signs requests to a non-loopback URL with SigV4 for execute-api in the host's region", async () => {
    // Arrange
    const server = await scripted([page, json(200, splitAnswer)]);
    const client = createClient({ baseUrl: DEPLOYED, fetch: toLocal(server.base), credentials });

    // Act
    await client.listSet("t", "training");
    await client
      .splitTask({ task_id: "t", training_count: 1, verifying_count: 0, testing_count: 0 })
      .finally(server.close);

    // Assert
    for (const { headers } of server.seen) {
      expect(headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
      );
      expect(headers["x-amz-security-token"]).toBe("session");
      expect(headers["x-amz-date"]).toMatch(/^\d{8}T\d{6}Z$/);
    }
    // The body and the Idempotency-Key are signed too.
    expect(server.seen[1]!.headers.authorization).toMatch(/SignedHeaders=[^,]*idempotency-key/);
    expect(server.seen[1]!.headers["x-amz-content-sha256"]).toBeUndefined();
  });

  it("sends a Cognito token as a bearer token, unsigned; loopback gets neither", async () => {
    // Arrange
    const server = await scripted([page]);
    const withToken = createClient({ baseUrl: DEPLOYED, fetch: toLocal(server.base), token: "eyJ.token" });
    const local = createClient({ baseUrl: server.base });

    // Act
    await withToken.listSet("t", "training");
    await local.listSet("t", "training").finally(server.close);

    // Assert
    expect(server.seen[0]!.headers.authorization).toBe("Bearer eyJ.token");
    expect(server.seen[1]!.headers.authorization).toBeUndefined();
  });
});
