import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { answerBytes, LONGEST_ANSWER_HEADERS, MAX_ORIGIN_CHARS } from "../../../lib/http/answer-size.ts";
import { httpService, ok } from "../../../lib/http/service.ts";

/** The longest origin a browser can send: scheme, a 253-character host name, the highest port. */
const LONGEST_ORIGIN = `https://${["h".repeat(63), "h".repeat(63), "h".repeat(63), "h".repeat(61)].join(".")}:65535`;

describe("the longest origin an answer can echo", () => {
  it("is https://, a 253-character host and :65535: 267 characters", () => {
    expect(LONGEST_ORIGIN).toHaveLength(8 + 253 + 6);
    expect(MAX_ORIGIN_CHARS).toBe(LONGEST_ORIGIN.length);
    expect(LONGEST_ANSWER_HEADERS["Access-Control-Allow-Origin"]).toHaveLength(LONGEST_ORIGIN.length);
  });

  it("an answer to that origin, with a 64-character request id, is no bigger than answerBytes counts", async () => {
    const body = { code: 0, msg: "图像查询成功", task_id: "t", image: { img_name: '"\\𠜎' } };
    const handler = httpService({ withBody: false, corsOrigins: [LONGEST_ORIGIN] }).handler(async () => ok(body));
    const requestId = "r".repeat(64);
    const event = {
      httpMethod: "GET",
      resource: "/training/tasks/images",
      path: "/training/tasks/images",
      headers: { Origin: LONGEST_ORIGIN },
      queryStringParameters: null,
      body: null,
      isBase64Encoded: false,
      requestContext: { requestId },
    } as unknown as APIGatewayProxyEvent;

    const result: APIGatewayProxyResult = await handler(event, { awsRequestId: requestId } as Context);

    expect(result.headers?.["Access-Control-Allow-Origin"]).toBe(LONGEST_ORIGIN);
    expect(Buffer.byteLength(JSON.stringify(result))).toBe(answerBytes(body));
  });
});
