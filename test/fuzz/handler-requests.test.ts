import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { Handlers } from "../../scripts/local-gateway.ts";
import { type BodyCase, badRegisterBody, badSplitBody, sizedBody } from "./body-arbitraries.ts";
import {
  bodyCode,
  expectedCodes,
  expectSpecReply,
  fixture,
  IMAGES,
  SETS,
  table,
  useFuzzedService,
} from "./fuzzed-service.ts";
import { listQuery } from "./query-arbitraries.ts";

const running = useFuzzedService();
let handlers: Handlers;
let cursors: { live: string; stale: string };
let before: string;
beforeAll(() => {
  ({ handlers, cursors, before } = running());
});

function event(
  method: string,
  path: string,
  body: string | null,
  query: Record<string, string> | null,
  base64: boolean,
): APIGatewayProxyEvent {
  const encoded = body !== null && base64 ? Buffer.from(body, "utf8").toString("base64") : body;
  return {
    resource: path,
    path,
    httpMethod: method,
    headers: { "content-type": "application/json" },
    multiValueHeaders: {},
    queryStringParameters: query,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: encoded,
    isBase64Encoded: body !== null && base64,
    requestContext: { requestId: randomUUID() } as APIGatewayProxyEvent["requestContext"],
  };
}
const context = (): Context => ({ awsRequestId: randomUUID(), functionName: "fuzz" }) as Context;

async function invoke(name: keyof Handlers, request: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return handlers[name](request, context());
}

const HANDLER_RUNS = 1000;

describe("the handlers, invoked directly with generated bad requests", () => {
  it(`PUT: ${HANDLER_RUNS} bad bodies each get the code of their first failing rule, and nothing is written`, async () => {
    await fc.assert(
      fc.asyncProperty(badSplitBody(fixture), fc.boolean(), async (c: BodyCase, base64) => {
        const reply = await invoke("SplitTask", event("PUT", SETS, c.text, null, base64));
        expectSpecReply(reply.statusCode, reply.headers?.["Content-Type"] as string, reply.body, [bodyCode(c)]);
      }),
      { numRuns: HANDLER_RUNS },
    );
    expect(await table()).toBe(before);
  });

  it(`POST: ${HANDLER_RUNS} bad bodies each get the code (and field) of their first failing rule, and nothing is written`, async () => {
    await fc.assert(
      fc.asyncProperty(badRegisterBody(), fc.boolean(), async (c, base64) => {
        const reply = await invoke("RegisterImages", event("POST", IMAGES, c.text, null, base64));
        const body = expectSpecReply(reply.statusCode, reply.headers?.["Content-Type"] as string, reply.body, [
          bodyCode(c),
        ]);
        if (c.field !== undefined && body.code === 1011) expect(body.msg).toBe(`图像数据格式错误: ${c.field}`);
      }),
      { numRuns: HANDLER_RUNS },
    );
    expect(await table()).toBe(before);
  });

  it(`GET: ${HANDLER_RUNS} generated queries (bad parameters, forged, truncated and stale cursors) get only their codes`, async () => {
    await fc.assert(
      fc.asyncProperty(listQuery(fixture, cursors), async ({ query, expected }) => {
        const params = Object.keys(query).length > 0 ? query : null;
        const reply = await invoke("ListSet", event("GET", SETS, null, params, false));
        expectSpecReply(
          reply.statusCode,
          reply.headers?.["Content-Type"] as string,
          reply.body,
          expectedCodes(expected),
        );
      }),
      { numRuns: HANDLER_RUNS },
    );
    expect(await table()).toBe(before);
  });

  it("bodies a few bytes either side of 1 MiB, in multi-byte characters: 1014 exactly when the bytes exceed it", async () => {
    await fc.assert(
      fc.asyncProperty(
        sizedBody,
        fc.constantFrom("SplitTask", "RegisterImages") as fc.Arbitrary<"SplitTask" | "RegisterImages">,
        async ({ text, expected }, name) => {
          const reply = await invoke(name, event(name === "SplitTask" ? "PUT" : "POST", SETS, text, null, false));
          const code = expected;
          expectSpecReply(reply.statusCode, reply.headers?.["Content-Type"] as string, reply.body, [code]);
        },
      ),
      { numRuns: 40 },
    );
    expect(await table()).toBe(before);
  });
});
