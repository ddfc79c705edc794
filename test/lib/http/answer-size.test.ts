import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import {
  ANSWER_ENVELOPE_BYTES,
  answerBytes,
  carriedBytes,
  envelopeBytes,
  LONGEST_ANSWER_HEADERS,
  listEntriesBytes,
  MAX_ORIGIN_CHARS,
  MAX_REQUEST_ID_CHARS,
} from "../../../lib/http/answer-size.ts";
import { splitResponse } from "../../../lib/http/answers.ts";
import { httpService, ok } from "../../../lib/http/service.ts";
import type { SplitResult } from "../../../lib/model.ts";

/** What Lambda counts against its 6 MB: the response object as it serializes it. */
const lambdaBytes = (result: APIGatewayProxyResult) => Buffer.byteLength(JSON.stringify(result));

const NASTY = ['"', "\\", "𠜎", "\u0001", "\n", "\t", "拓海", "a", "\u007f", "\u2028"];

/** The real composition's answer for `body`, to a request from `origin` with request id `requestId`. */
async function answer(body: object, options: { origin?: string; corsOrigins: string[]; requestId: string }) {
  const handler = httpService({ withBody: false, corsOrigins: options.corsOrigins }).handler(async () => ok(body));
  const event = {
    httpMethod: "GET",
    resource: "/training/tasks/sets",
    path: "/training/tasks/sets",
    headers: options.origin ? { Origin: options.origin } : {},
    queryStringParameters: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: options.requestId },
  } as unknown as APIGatewayProxyEvent;
  return handler(event, { awsRequestId: options.requestId } as Context);
}

describe("carriedBytes", () => {
  it("counts each character as the body carries it: JSON-escaped, then escaped again inside the response", () => {
    // '"' is \" in the body's JSON and \\\" in the response: 4 bytes, plus the string's quotes (2 × 2).
    expect(carriedBytes('"')).toBe(8);
    expect(carriedBytes("\\")).toBe(8);
    // A 4-byte character is never escaped.
    expect(carriedBytes("𠜎")).toBe(8);
    // \u0001 in the body, \\u0001 in the response.
    expect(carriedBytes("\u0001")).toBe(11);
    expect(carriedBytes("\n")).toBe(7);
    expect(carriedBytes("拓")).toBe(7);
    expect(carriedBytes(12)).toBe(2);
    expect(carriedBytes({ a: '"' })).toBe(2 + 5 + 1 + 8);
  });

  it.each(NASTY.map((text) => [JSON.stringify(text)]))("adds to a response exactly what %s takes in it", (quoted) => {
    const text = JSON.parse(quoted) as string;
    const body = { code: 0, name: text.repeat(255), list: [text, { label: text }] };
    const result = { statusCode: 200, headers: { "Content-Type": "application/json; charset=utf-8" }, body: "" };
    const empty = lambdaBytes(result);

    expect(lambdaBytes({ ...result, body: JSON.stringify(body) })).toBe(empty + carriedBytes(body));
  });
});

describe("answerBytes", () => {
  const body = {
    code: 0,
    msg: "集合编号id=0的图像数据查询成功",
    img_info_list: NASTY.map((img_name) => ({ img_name })),
  };

  it("is the real answer's size with the longest headers the service sends", async () => {
    const origin = `https://${"h".repeat(MAX_ORIGIN_CHARS - 14)}:65535`;
    const requestId = "r".repeat(MAX_REQUEST_ID_CHARS);

    const result = await answer(body, { origin, corsOrigins: [origin], requestId });

    expect(origin).toHaveLength(MAX_ORIGIN_CHARS);
    expect(Object.keys(result.headers ?? {}).sort()).toEqual(Object.keys(LONGEST_ANSWER_HEADERS).sort());
    expect(lambdaBytes(result)).toBe(answerBytes(body));
    expect(ANSWER_ENVELOPE_BYTES).toBe(envelopeBytes(200, result.headers as Record<string, string>));
  });

  it("bounds an ordinary answer by exactly what its shorter headers leave out", async () => {
    const requestId = "c0ffee00-1234-4abc-8def-0123456789ab";

    const result = await answer(body, { corsOrigins: [], requestId });

    expect(lambdaBytes(result)).toBe(answerBytes(body) - (MAX_ORIGIN_CHARS + MAX_REQUEST_ID_CHARS - 36) - 128);
    expect(lambdaBytes(result)).toBe(envelopeBytes(200, result.headers as Record<string, string>) + carriedBytes(body));
  });
});

describe("listEntriesBytes", () => {
  it("is what a list's entries add to an answer that holds it in place of []", () => {
    const list = Array.from({ length: 2_500 }, (_, i) => ({ img_name: NASTY[i % NASTY.length]?.repeat(i % 7) }));

    expect(listEntriesBytes(list)).toBe(carriedBytes(list) - carriedBytes([]));
    expect(listEntriesBytes(list.slice(0, 1))).toBe(carriedBytes(list.slice(0, 1)) - 2);
    expect(listEntriesBytes([])).toBe(0);
  });

  it("stops counting past stopAbove, at the end of the 1024 entries it measures at once", () => {
    // Each "x" is \"x\" in the answer: 5 bytes, and 1023 commas between 1024 of them.
    const list = Array.from({ length: 5_000 }, () => "x");

    expect(listEntriesBytes(list)).toBe(5_000 * 5 + 4_999);
    expect(listEntriesBytes(list, 100)).toBe(1_024 * 5 + 1_023);
    expect(listEntriesBytes(list, 6_143)).toBe(2 * 1_024 * 5 + 2 * 1_024 - 1);
  });
});

describe("a split's answer under MAX_ANSWER_BYTES", () => {
  // Seeds are the caller's text: the rest of the answer grows with escapes too.
  const split = {
    taskId: "2018062212345678911",
    drawn: {
      0: ["2018070417860564001", "2018070417860564002", "2018070417860564003"],
      1: ["2018070417860564004"],
      2: ["2018070417860564005", "2018070417860564006"],
    },
    sizes: { 0: 3, 1: 1, 2: 2 },
    unassignedCount: 4,
    seed: '"\\𠜎'.repeat(32),
    version: 7,
  } as SplitResult;
  /** The real Lambda response of `body` with the longest headers. */
  const realBytes = (body: object) =>
    lambdaBytes({ ...ok(body), headers: { ...LONGEST_ANSWER_HEADERS } } as APIGatewayProxyResult);
  const withLists = splitResponse(split, { withDetails: false, maxAnswerBytes: Number.MAX_SAFE_INTEGER });
  const whole = realBytes(withLists);
  const at = (maxAnswerBytes: number) => splitResponse(split, { withDetails: false, maxAnswerBytes });

  it("keeps the id lists when the whole response is just under or exactly at the cap", () => {
    expect(withLists).toEqual({
      code: 0,
      msg: "TaskImgRel 表 图像集合数据更新， 成功",
      task_id: "2018062212345678911",
      img_ids_set_training: split.drawn[0],
      img_ids_set_verifying: split.drawn[2],
      img_ids_set_testing: split.drawn[1],
      unassigned_count: 4,
      seed: split.seed,
      version: 7,
    });
    expect(at(whole + 1)).toEqual(withLists);
    expect(at(whole)).toEqual(withLists);
  });

  it("answers ids_omitted and set_sizes in their place one byte over, and that answer fits", () => {
    const omitted = at(whole - 1);

    expect(omitted).toEqual({
      code: 0,
      msg: "TaskImgRel 表 图像集合数据更新， 成功",
      task_id: "2018062212345678911",
      ids_omitted: true,
      set_sizes: { training: 3, verifying: 2, testing: 1 },
      unassigned_count: 4,
      seed: split.seed,
      version: 7,
    });
    expect(realBytes(omitted)).toBe(answerBytes(omitted));
    expect(realBytes(omitted)).toBeLessThanOrEqual(whole - 1);
  });
});
