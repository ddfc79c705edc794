import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ServiceError } from "../../lib/errors.ts";
import { httpService, ok } from "../../lib/http/service.ts";
import { log } from "../../lib/log.ts";
import { countRefusedSplit, flushMetrics, metricsEnabled, NAMESPACE, recordSplit } from "../../lib/metrics.ts";
import { resplitTasks } from "../../lib/split/resplit.ts";
import { retrying } from "../../lib/store/client.ts";
import type { Store } from "../../lib/store/index.ts";

/**
 * What the service writes, read as Lambda would see it: with AWS_LAMBDA_FUNCTION_NAME set, log and
 * EMF lines go straight to stdout (warn and error to stderr). Metrics are on (NODE_ENV=test turns
 * them off by default).
 */
let written: { stream: "stdout" | "stderr"; text: string }[] = [];
const saved = { ...process.env };
beforeEach(() => {
  written = [];
  process.env.AWS_LAMBDA_FUNCTION_NAME = "SplitTask";
  process.env.POWERTOOLS_METRICS_DISABLED = "false";
  for (const stream of ["stdout", "stderr"] as const) {
    vi.spyOn(process[stream], "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push({ stream, text: String(chunk) });
      return true;
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
  process.env = { ...saved };
});

/** Every line written, parsed (a line that is not JSON fails the test). */
const lines = (): Record<string, unknown>[] =>
  written.flatMap(({ stream, text }) =>
    text
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => ({ stream, ...(JSON.parse(line) as Record<string, unknown>) })),
  );
const isEmf = (line: Record<string, unknown>) => "_aws" in line;
const logLines = () => lines().filter((line) => !isEmf(line));
const emfLines = () => lines().filter(isEmf);

type Emf = {
  _aws: {
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
} & Record<string, unknown>;
/** The EMF lines that carry metric `name`. */
const emfWith = (name: string) =>
  (emfLines() as unknown as Emf[]).filter((line) =>
    line._aws.CloudWatchMetrics.some((set) => set.Metrics.some((metric) => metric.Name === name)),
  );

const API_ID = "apigw-7f3c9d";
const LAMBDA_ID = "lambda-51e0aa";
const event = (body: string | null, overrides: Partial<APIGatewayProxyEvent> = {}) =>
  ({
    resource: "/training/tasks/sets",
    path: "/training/tasks/sets",
    httpMethod: "PUT",
    headers: { "Content-Type": "application/json" },
    body,
    isBase64Encoded: false,
    queryStringParameters: null,
    requestContext: { requestId: API_ID },
    ...overrides,
  }) as unknown as APIGatewayProxyEvent;
const context = { awsRequestId: LAMBDA_ID, functionName: "SplitTask" } as Context;

/** A PUT of the shared composition: answers like a split of 10 images, or throws what `fail` says. */
const service = () =>
  httpService<{ task_id?: string; fail?: string }>({ withBody: true, corsOrigins: [] }).handler(async (request) => {
    log("debug", "split progress", { phase: "read" });
    log("info", "inside the handler");
    if (request.body.fail === "storage") throw new TypeError("secret table arn:aws:dynamodb:eu-west-1:1:table/x");
    if (request.body.fail === "1008") throw new ServiceError(1008, { task_id: "t" });
    return ok({
      code: 0,
      task_id: request.body.task_id,
      img_ids_set_training: ["a", "b", "c", "d", "e", "f", "g"],
      img_ids_set_verifying: ["h", "i"],
      img_ids_set_testing: ["j"],
      unassigned_count: 2,
    });
  });

describe("one JSON log line per request", () => {
  it("carries API Gateway's request id as correlation id, the route, task_id, code, status, duration and images", async () => {
    const reply = await service()(event('{"task_id":"2018062212345678911"}'), context);

    expect(reply.statusCode).toBe(200);
    const requestLines = logLines().filter((line) => line.msg === "request");
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      stream: "stdout",
      level: "info",
      service: "training-sets",
      correlation_id: API_ID,
      function_request_id: LAMBDA_ID,
      route: "PUT /training/tasks/sets",
      task_id: "2018062212345678911",
      code: 0,
      status: 200,
      duration_ms: expect.any(Number),
      images: 12,
    });
    expect(typeof requestLines[0]?.time).toBe("string");
    // The handler's own lines carry the same correlation id; debug stays hidden at the default INFO.
    expect(logLines().find((line) => line.msg === "inside the handler")).toMatchObject({ correlation_id: API_ID });
    expect(logLines().some((line) => line.level === "debug")).toBe(false);
  });

  it("writes the debug lines (split phases) when LOG_LEVEL=debug at cold start", async () => {
    // A cold start: fresh modules, so the logger reads LOG_LEVEL anew.
    process.env.LOG_LEVEL = "debug";
    vi.resetModules();
    const fresh = await import("../../lib/http/service.ts");
    const freshLog = await import("../../lib/log.ts");
    const handler = fresh.httpService({ withBody: true, corsOrigins: [] }).handler(async () => {
      freshLog.log("debug", "split progress", { phase: "read", ms: 3 });
      return fresh.ok({ code: 0 });
    });

    await handler(event('{"task_id":"t1"}'), context);

    expect(logLines().find((line) => line.level === "debug")).toMatchObject({
      msg: "split progress",
      phase: "read",
      ms: 3,
      correlation_id: API_ID,
    });
  });

  it("logs a 1500's cause with its stack, while the body has only code, msg and request_id", async () => {
    const reply = await service()(event('{"task_id":"t2","fail":"storage"}'), context);

    // The answer: nothing of the cause, and the id the caller can quote
    expect(reply.statusCode).toBe(500);
    expect(JSON.parse(reply.body)).toEqual({ code: 1500, msg: "服务器内部错误，请稍后重试", request_id: API_ID });
    expect(reply.body).not.toMatch(/secret|TypeError|stack/);
    expect(reply.headers?.["X-Request-Id"]).toBe(JSON.parse(reply.body).request_id);
    // The log: one error line for the request, with the cause and its stack
    const requestLines = logLines().filter((line) => line.msg === "request");
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      stream: "stderr",
      level: "error",
      correlation_id: API_ID,
      task_id: "t2",
      code: 1500,
      status: 500,
      error: { name: "TypeError", message: expect.stringContaining("secret table") },
    });
    const error = requestLines[0]?.error as { stack?: unknown };
    expect(error.stack).toEqual(expect.stringContaining("observability.test.ts"));
  });

  it("logs a client error at info, with its code and status and no cause", async () => {
    await service()(event('{"task_id":"t3","fail":"1008"}'), context);

    const [line] = logLines().filter((entry) => entry.msg === "request");
    expect(line).toMatchObject({ level: "info", code: 1008, status: 409, task_id: "t3" });
    expect(line).not.toHaveProperty("error");
  });
});

describe("X-Request-Id", () => {
  it("is API Gateway's request id on a 200, a 1001 and a 1014, whatever the Lambda request id", async () => {
    const handler = service();

    const replies = [
      await handler(event('{"task_id":"t4"}'), context),
      await handler(event("{not json"), context),
      await handler(event(`"${"x".repeat(1024 * 1024)}"`), context),
    ];

    expect(replies.map((reply) => [reply.statusCode, JSON.parse(reply.body).code])).toEqual([
      [200, 0],
      [400, 1001],
      [413, 1014],
    ]);
    for (const reply of replies) expect(reply.headers?.["X-Request-Id"]).toBe(API_ID);
  });

  it("falls back to the Lambda request id when the event has none (a direct invoke)", async () => {
    const reply = await service()(event('{"fail":"storage"}', { requestContext: undefined }), context);

    expect(reply.headers?.["X-Request-Id"]).toBe(LAMBDA_ID);
    expect(JSON.parse(reply.body).request_id).toBe(LAMBDA_ID);
  });
});

describe("metrics (CloudWatch EMF on stdout)", () => {
  it("count each answer by route and code, never by task_id", async () => {
    const handler = service();

    await handler(event('{"task_id":"2018062212345678911"}'), context);
    await handler(event('{"task_id":"2018062212345678911","fail":"1008"}'), context);

    const answers = emfWith("Answers");
    expect(answers).toHaveLength(2);
    for (const line of answers) {
      const [set] = line._aws.CloudWatchMetrics;
      expect(set?.Namespace).toBe(NAMESPACE);
      expect(set?.Dimensions).toEqual([["service", "route", "code"]]);
      expect(set?.Metrics).toEqual([{ Name: "Answers", Unit: "Count" }]);
      expect(line).toMatchObject({ service: "training-sets", route: "PUT /training/tasks/sets", Answers: 1 });
      expect(line).not.toHaveProperty("task_id");
      expect(JSON.stringify(line)).not.toContain("2018062212345678911");
    }
    expect(answers.map((line) => line.code)).toEqual(["0", "1008"]);
  });

  it("report split duration and size, refused splits and throttled storage calls, with the service dimension only", async () => {
    const throttled = Object.assign(new Error("slow down"), { name: "ThrottlingException" });
    let calls = 0;
    await retrying(Date.now() + 10_000, async () => {
      if (calls++ < 2) throw throttled;
      return "done";
    });
    await expect(
      retrying(Date.now(), async () => {
        throw throttled;
      }),
    ).rejects.toMatchObject({ code: 1500 });
    recordSplit(1234.4, 100_000);
    countRefusedSplit();

    flushMetrics();

    const [line] = emfLines() as unknown as Emf[];
    expect(emfLines()).toHaveLength(1);
    expect(line?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["service"]]);
    expect(line).toMatchObject({
      SplitDuration: 1234,
      SplitSize: 100_000,
      SplitsRefused: 1,
      ThrottledRetries: 2,
      ThrottledExhausted: 1,
    });
    // Flushed means forgotten
    flushMetrics();
    expect(emfLines()).toHaveLength(1);
  });

  it("report a scheduled re-split's outcome per task, beside its one log line per task", async () => {
    const store = { config: { budgetMs: 1_000 } } as unknown as Store;

    await resplitTasks(store, ["not valid!", "also bad?"]);

    const outcomes = emfWith("ResplitTasks");
    expect(outcomes).toHaveLength(2);
    for (const line of outcomes) {
      expect(line._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["service", "outcome"]]);
      expect(line).toMatchObject({ outcome: "failed", ResplitTasks: 1 });
      expect(line).not.toHaveProperty("task_id");
    }
    expect(logLines().filter((line) => line.msg === "resplit")).toEqual([
      expect.objectContaining({ level: "error", task_id: "not valid!", outcome: "failed", code: 1002 }),
      expect.objectContaining({ level: "error", task_id: "also bad?", outcome: "failed", code: 1002 }),
    ]);
  });

  it("are off under a test runner unless asked for, and POWERTOOLS_METRICS_DISABLED decides", () => {
    expect(metricsEnabled({ NODE_ENV: "test" })).toBe(false);
    expect(metricsEnabled({ NODE_ENV: "test", POWERTOOLS_METRICS_DISABLED: "false" })).toBe(true);
    expect(metricsEnabled({})).toBe(true);
    expect(metricsEnabled({ POWERTOOLS_METRICS_DISABLED: "true" })).toBe(false);
  });
});
