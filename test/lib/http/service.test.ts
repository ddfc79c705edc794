import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { describe, expect, it, vi } from "vitest";
import { readCorsOrigins } from "../../../lib/config.ts";
import { ServiceError, storageUnavailable } from "../../../lib/errors.ts";
import { errorResponse, httpService, ok } from "../../../lib/http/service.ts";

describe("errorResponse", () => {
  it("keeps a ServiceError's code, message and status, with the JSON content type", () => {
    const reply = errorResponse(new ServiceError(1007, { sum: 11, total: 10 }), "req-1");

    expect(reply.statusCode).toBe(400);
    expect(reply.headers).toEqual({ "Content-Type": "application/json; charset=utf-8", "X-Request-Id": "req-1" });
    expect(JSON.parse(reply.body)).toEqual({ code: 1007, msg: "三个集合的图像个数之和 11 超过了任务下的图像总数 10" });
  });

  it("turns an unknown failure into 1500 with the request id and leaks nothing of it", () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => undefined);

    const reply = errorResponse(new TypeError("secret table arn:aws:dynamodb:xyz"), "req-2");

    expect(reply.statusCode).toBe(500);
    expect(JSON.parse(reply.body)).toEqual({ code: 1500, msg: "服务器内部错误，请稍后重试", request_id: "req-2" });
    expect(reply.body).not.toContain("secret");
    expect(reply.headers?.["X-Request-Id"]).toBe("req-2");
    // Called alone (the local gateway's own failures), it logs the cause: one JSON line with the request id.
    expect(log).toHaveBeenCalledTimes(1);
    expect(JSON.parse(String(log.mock.calls[0]?.[0]))).toMatchObject({
      level: "error",
      correlation_id: "req-2",
      error: { name: "TypeError", message: "secret table arn:aws:dynamodb:xyz", stack: expect.any(String) },
    });
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
    const located = Object.assign(new Error("Invalid or malformed JSON was provided"), {
      statusCode: 422,
      cause: { message: "Unexpected token 'x', \"{x\" is not valid JSON" },
    });

    expect(JSON.parse(errorResponse(refusal, "req-4").body)).toEqual({
      code: 1001,
      msg: "请求体必须是 JSON 对象",
      detail: "the body is not valid JSON: it could not be parsed",
    });
    expect(JSON.parse(errorResponse(located, "req-4").body).detail).toBe(
      "the body is not valid JSON: Unexpected token 'x', \"{x\" is not valid JSON",
    );
  });
});

describe("CORS", () => {
  const LABEL = "https://label.example.com";
  const event = (headers: Record<string, string>, body: string | null = "{}") =>
    ({
      headers,
      body,
      isBase64Encoded: false,
      requestContext: { requestId: "req-cors" },
    }) as unknown as APIGatewayProxyEvent;
  const context = { awsRequestId: "req-cors" } as Context;
  /** A JSON-body function of the shared composition that succeeds on {"ok":true} and throws 1009 otherwise. */
  const service = (corsOrigins: readonly string[]) =>
    httpService<{ ok?: boolean }>({ withBody: true, corsOrigins }).handler(async (request) => {
      if (request.body.ok !== true) throw new ServiceError(1009);
      return ok({ code: 0 });
    });

  it("allows a listed origin on a success, and says the answer varies by Origin", async () => {
    const reply = await service([LABEL, "https://admin.example.com"])(event({ Origin: LABEL }, '{"ok":true}'), context);

    expect(reply.statusCode).toBe(200);
    expect(reply.headers).toEqual({
      "Content-Type": "application/json; charset=utf-8",
      "Access-Control-Allow-Origin": LABEL,
      "Access-Control-Expose-Headers": "X-Request-Id,Idempotent-Replayed,Retry-After",
      Vary: "Origin",
      "X-Request-Id": "req-cors",
    });
  });

  it("allows a listed origin on every error: a ServiceError, a body that is not JSON, a body too large", async () => {
    const handler = service([LABEL]);
    const replies = [
      await handler(event({ origin: LABEL }, "{}"), context),
      await handler(event({ origin: LABEL }, "{not json"), context),
      await handler(event({ origin: LABEL }, `"${"x".repeat(1024 * 1024)}"`), context),
    ];

    expect(replies.map((reply) => [reply.statusCode, JSON.parse(reply.body).code])).toEqual([
      [400, 1009],
      [400, 1001],
      [413, 1014],
    ]);
    for (const reply of replies) expect(reply.headers?.["Access-Control-Allow-Origin"]).toBe(LABEL);
  });

  it("does not allow an unlisted origin", async () => {
    const reply = await service([LABEL])(event({ Origin: "https://evil.example.com" }, '{"ok":true}'), context);

    expect(reply.headers).not.toHaveProperty("Access-Control-Allow-Origin");
    expect(reply.headers?.Vary).toBe("Origin");
  });

  it('allows any origin when "*" is configured', async () => {
    const reply = await service(["*"])(event({ Origin: "https://anywhere.example" }), context);

    expect(reply.statusCode).toBe(400);
    expect(reply.headers?.["Access-Control-Allow-Origin"]).toBe("*");
  });

  it("adds nothing when no origins are configured", async () => {
    const reply = await service([])(event({ Origin: LABEL }, '{"ok":true}'), context);

    expect(reply.headers).toEqual({ "Content-Type": "application/json; charset=utf-8", "X-Request-Id": "req-cors" });
  });

  it("reads CORS_ORIGINS as a comma-separated list", () => {
    expect(readCorsOrigins({ CORS_ORIGINS: ` ${LABEL}, https://admin.example.com ,` })).toEqual([
      LABEL,
      "https://admin.example.com",
    ]);
    expect(readCorsOrigins({})).toEqual([]);
  });
});
