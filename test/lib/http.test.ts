import { describe, expect, it, vi } from "vitest";
import { ServiceError, storageUnavailable } from "../../lib/errors.ts";
import { errorResponse } from "../../lib/http.ts";

describe("errorResponse", () => {
  it("keeps a ServiceError's code, message and status, with the JSON content type", () => {
    const reply = errorResponse(new ServiceError(1007, { sum: 11, total: 10 }), "req-1");

    expect(reply.statusCode).toBe(400);
    expect(reply.headers).toEqual({ "Content-Type": "application/json; charset=utf-8" });
    expect(JSON.parse(reply.body)).toEqual({ code: 1007, msg: "三个集合的图像个数之和 11 超过了任务下的图像总数 10" });
  });

  it("turns an unknown failure into 1500 with the request id and leaks nothing of it", () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => undefined);

    const reply = errorResponse(new TypeError("secret table arn:aws:dynamodb:xyz"), "req-2");

    expect(reply.statusCode).toBe(500);
    expect(JSON.parse(reply.body)).toEqual({ code: 1500, msg: "服务器内部错误，请稍后重试", request_id: "req-2" });
    expect(reply.body).not.toContain("secret");
    expect(log).toHaveBeenCalledWith(expect.stringContaining("secret table"));
    log.mockRestore();
  });

  it("answers exhausted throttling with 503 and Retry-After", () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => undefined);

    const reply = errorResponse(storageUnavailable(new Error("ProvisionedThroughputExceededException"), true), "req-3");

    expect(reply.statusCode).toBe(503);
    expect(reply.headers?.["Retry-After"]).toBe("1");
    expect(JSON.parse(reply.body)).toMatchObject({ code: 1500, request_id: "req-3" });
    log.mockRestore();
  });

  it("maps the JSON body parser's refusals (422, 415) to 1001", () => {
    const refusal = Object.assign(new Error("Invalid or malformed JSON was provided"), { statusCode: 422 });

    expect(JSON.parse(errorResponse(refusal, "req-4").body)).toEqual({ code: 1001, msg: "请求体必须是 JSON 对象" });
  });
});
