import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { contract } from "./contract.ts";

/** An image as the stand-in keeps it. */
export interface StandInImage {
  img_id: string;
  img_name: string;
  state: number;
  order_id: number;
  label: string | null;
  group: string | null;
  set_type_id: 0 | 1 | 2 | null;
  deleted?: boolean;
}

/** An answer the stand-in gives instead of the next request's real one (a fault). */
export interface Fault {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const ID = /^[0-9A-Za-z_-]{1,64}$/;
const unquote = (value: string) => value.replace(/^"(.*)"$/, "$1");

/**
 * A tiny HTTP server answering GET and DELETE /training/tasks/images in the shapes the OpenAPI
 * document gives them (the real routes are tested on DynamoDB Local in test/functions/): one image,
 * the task's images paged by `limit` and `cursor`, and logical deletion. Every answer it gives is
 * checked against the document; `problems` lists those outside it. `faults` answers the next
 * requests instead, in order.
 */
export async function startImagesStandIn(tasks: Record<string, StandInImage[]>) {
  const seen: { method: string; url: string; headers: IncomingMessage["headers"]; body: unknown }[] = [];
  const problems: string[] = [];
  const faults: Fault[] = [];

  const answer = (method: string, url: string, body: unknown): Fault => {
    const fault = faults.shift();
    if (fault) return fault;
    const path = new URL(url, "http://x").pathname;
    if (path === "/training/tasks/sets" && method === "GET") return summary(new URL(url, "http://x").searchParams);
    if (path !== "/training/tasks/images") return { status: 404, body: { code: 1013, msg: "接口不存在" } };
    if (method === "GET") return get(new URL(url, "http://x").searchParams);
    if (method === "DELETE") return remove(body);
    return { status: 405, body: { code: 1013, msg: "接口不存在" }, headers: { allow: "GET, POST, DELETE" } };
  };

  const live = (taskId: string) =>
    (tasks[taskId] ?? []).filter((image) => !image.deleted).sort((a, b) => a.order_id - b.order_id);
  const shown = ({ deleted: _, ...image }: StandInImage) => image;
  const noImages = (taskId: string): Fault => ({
    status: 404,
    body: { code: 1003, msg: `任务id为 ${taskId} 的任务下没有图像` },
  });

  /** The split summary (never split): the CLI reads image_count for its progress. */
  function summary(query: URLSearchParams): Fault {
    const taskId = unquote(query.get("task_id") ?? "");
    const images = tasks[taskId] ?? [];
    if (images.length === 0) return noImages(taskId);
    const left = live(taskId).length;
    return {
      status: 200,
      body: {
        code: 0,
        msg: "任务分集概况查询成功",
        task_id: taskId,
        image_count: left,
        deleted_count: images.length - left,
        unassigned_count: left,
        split: null,
        history: [],
      },
    };
  }

  function get(query: URLSearchParams): Fault {
    const taskId = unquote(query.get("task_id") ?? "");
    if (!ID.test(taskId)) return { status: 400, body: { code: 1002, msg: "task_id 缺失或格式错误" } };
    const imgId = query.get("img_id");
    if (imgId !== null) {
      const id = unquote(imgId);
      if (!ID.test(id)) return { status: 400, body: { code: 1011, msg: "图像数据格式错误: img_id" } };
      const image = live(taskId).find((candidate) => candidate.img_id === id);
      if (!image) return { status: 404, body: { code: 1026, msg: `任务 ${taskId} 下没有图像 ${id}` } };
      return { status: 200, body: { code: 0, msg: "图像查询成功", task_id: taskId, image: shown(image) } };
    }
    const limitText = query.get("limit") ?? "5000";
    const limit = Number(limitText);
    const cursor = query.get("cursor");
    const start = cursor === null ? 0 : Number(Buffer.from(cursor, "base64url").toString());
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > 10_000 || !Number.isInteger(start) || start < 0) {
      return { status: 400, body: { code: 1012, msg: "分页参数错误" } };
    }
    const images = live(taskId);
    if (images.length === 0) return noImages(taskId);
    const page = images.slice(start, start + limit);
    const next = start + limit < images.length ? Buffer.from(String(start + limit)).toString("base64url") : undefined;
    return {
      status: 200,
      body: {
        code: 0,
        msg: "任务图像查询成功",
        task_id: taskId,
        img_info_list: page.map(shown),
        ...(next ? { next_cursor: next } : {}),
      },
    };
  }

  function remove(body: unknown): Fault {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return { status: 400, body: { code: 1001, msg: "请求体必须是 JSON 对象" } };
    }
    const fields = body as Record<string, unknown>;
    const unknown = Object.keys(fields).find((key) => key !== "task_id" && key !== "img_ids");
    if (unknown) return { status: 400, body: { code: 1023, msg: `未知字段: ${unknown}` } };
    const taskId = String(fields.task_id ?? "");
    if (!ID.test(taskId)) return { status: 400, body: { code: 1002, msg: "task_id 缺失或格式错误" } };
    const ids = fields.img_ids;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 1000) {
      return { status: 400, body: { code: 1011, msg: "图像数据格式错误: img_ids" } };
    }
    const bad = ids.findIndex((id, i) => typeof id !== "string" || !ID.test(id) || ids.indexOf(id) !== i);
    if (bad >= 0) return { status: 400, body: { code: 1011, msg: `图像数据格式错误: img_ids[${bad}]` } };
    const images = tasks[taskId] ?? [];
    if (images.length === 0) return noImages(taskId);
    let deleted = 0;
    let alreadyDeleted = 0;
    const notFound: string[] = [];
    for (const id of ids as string[]) {
      const image = images.find((candidate) => candidate.img_id === id);
      if (!image) notFound.push(id);
      else if (image.deleted) alreadyDeleted += 1;
      else {
        image.deleted = true;
        deleted += 1;
      }
    }
    return {
      status: 200,
      body: {
        code: 0,
        msg: "图像删除成功",
        task_id: taskId,
        deleted,
        already_deleted: alreadyDeleted,
        not_found: notFound,
        total: live(taskId).length,
      },
    };
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = text === "" ? undefined : JSON.parse(text);
      } catch {
        body = text;
      }
      const method = request.method ?? "";
      const url = request.url ?? "/";
      seen.push({ method, url, headers: request.headers, body });
      const reply = answer(method, url, body);
      const found = contract.checkReply(method, url, reply.status, "application/json; charset=utf-8", reply.body);
      problems.push(...found.map((problem) => `${method} ${url} ${reply.status}: ${problem}`));
      response.writeHead(reply.status, { "content-type": "application/json; charset=utf-8", ...reply.headers });
      response.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    problems,
    faults,
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      }),
  };
}

/** `count` images of a task, order_id 1…count, every third unassigned, labels on the even ones. */
export function standInImages(count: number, prefix = "img"): StandInImage[] {
  return Array.from({ length: count }, (_, i) => ({
    img_id: `${prefix}${String(i + 1).padStart(4, "0")}`,
    img_name: i % 4 === 1 ? `cat, "sitting" ${i + 1}.jpg` : `${prefix}_${i + 1}.jpg`,
    state: i % 3,
    order_id: i + 1,
    label: i % 2 === 0 ? "cat" : null,
    group: i % 5 === 0 ? `p${i}` : null,
    set_type_id: i % 3 === 2 ? null : ((i % 3) as 0 | 1),
  }));
}
