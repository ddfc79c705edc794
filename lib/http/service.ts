import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy, { type Request } from "@middy/core";
import httpHeaderNormalizer from "@middy/http-header-normalizer";
import httpJsonBodyParser from "@middy/http-json-body-parser";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { readCorsOrigins } from "../config.ts";
import { describeError, ServiceError } from "../errors.ts";
import { serviceLogger } from "../log.ts";
import { publishAnswer } from "../metrics.ts";
import { MAX_BODY_BYTES } from "../model.ts";
import { ROUTES } from "../routes.ts";
import { resolveTenant, type Tenancy, tenantPrefixOf } from "./tenancy.ts";
import { parseTaskId } from "./values.ts";

const JSON_HEADERS = { "Content-Type": "application/json; charset=utf-8" };

/** The header every answer carries: API Gateway's request id, also a 5xx body's request_id and the logs' correlation_id. */
export const REQUEST_ID_HEADER = "X-Request-Id";

/** The body of each answer made here, for the request's log line and metrics (no parsing back). */
const answeredBodies = new WeakMap<APIGatewayProxyResult, Record<string, unknown>>();

/**
 * When a request's storage work must be done: the time the function has left, less the margin
 * that lets its answer (a 503 included) reach the caller first; undefined without a Lambda
 * context (tests, direct calls), where the store's own budget applies.
 */
export function answerDeadline(
  context: Partial<Pick<Context, "getRemainingTimeInMillis">> | undefined,
  answerMarginMs: number,
): number | undefined {
  const left = context?.getRemainingTimeInMillis?.();
  return typeof left === "number" && left > 0 ? Date.now() + left - answerMarginMs : undefined;
}

/** A 200 answer with a JSON body. */
export const ok = (body: object): APIGatewayProxyResult => {
  const result = { statusCode: 200, headers: JSON_HEADERS, body: JSON.stringify(body) };
  answeredBodies.set(result, body as Record<string, unknown>);
  return result;
};

/**
 * A request's id: API Gateway's (`requestContext.requestId`, what the caller can quote), else the
 * Lambda invocation's when the event has none (a direct invoke), else "unknown".
 */
function requestIdOf(
  event: Partial<Pick<APIGatewayProxyEvent, "requestContext">> | undefined,
  context?: Partial<Pick<Context, "awsRequestId">>,
): string {
  return event?.requestContext?.requestId || context?.awsRequestId || "unknown";
}

/** What a failure answers: a ServiceError as it is, a body the JSON parser refused as 1001, anything else 1500. */
function toServiceError(error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  if (isParserRefusal(error))
    return new ServiceError(1001, {}, { detail: `the body is not valid JSON: ${whereNotJson(error)}` });
  return new ServiceError(1500);
}

/** What a 1500 is about, for the log only: the wrapped cause (storage) or the failure itself, with its stack. */
function causeOf(error: unknown): unknown {
  const cause = error instanceof ServiceError ? (error.cause ?? error) : error;
  return cause instanceof Error ? cause : describeError(cause);
}

/**
 * The one place an error becomes a response. ServiceErrors keep their code and message; a body the
 * JSON parser refused is 1001; anything else is 1500 with the request id, and only the log sees its
 * cause (here, unless `logCause` is false because the caller logs the request with it). Every error
 * answer carries X-Request-Id.
 */
export function errorResponse(
  error: unknown,
  requestId: string,
  options: { logCause?: boolean; tenantPrefix?: string | undefined } = {},
): APIGatewayProxyResult {
  const failure = toServiceError(error);
  if (failure.code === 1500 && options.logCause !== false) {
    serviceLogger().error("unexpected failure", { correlation_id: requestId, error: causeOf(error) });
  }
  const headers: Record<string, string> = { ...JSON_HEADERS, [REQUEST_ID_HEADER]: requestId };
  if (failure.retryAfter !== undefined) headers["Retry-After"] = String(failure.retryAfter);
  // Errors raised below the HTTP layer name the task by its stored key: the caller sees the bare task_id.
  const shown = (text: string) => (options.tenantPrefix ? text.replaceAll(options.tenantPrefix, "") : text);
  const body: Record<string, unknown> = { code: failure.code, msg: shown(failure.message) };
  if (failure.detail !== undefined) body.detail = shown(failure.detail);
  if (failure.status >= 500) body.request_id = requestId;
  const result = { statusCode: failure.status, headers, body: JSON.stringify(body) };
  answeredBodies.set(result, body);
  return result;
}

/** Where the JSON parser stopped, in its own words ("Unexpected token … at position 12 (line 1 column 13)"). */
function whereNotJson(error: unknown): string {
  const cause = (error as { cause?: { message?: unknown } } | null)?.cause;
  const message = typeof cause?.message === "string" ? cause.message : "";
  return message.length > 0 ? message.slice(0, 200) : "it could not be parsed";
}

function isParserRefusal(error: unknown): boolean {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" && status >= 400 && status < 500;
}

const bodyLimit = {
  before: ({ event }: { event: APIGatewayProxyEvent }) => {
    const body = event.body ?? "";
    if (body.trim() === "") throw new ServiceError(1001, {}, { detail: "the body is empty: send a JSON object" });
    const bytes = Buffer.byteLength(body, event.isBase64Encoded ? "base64" : "utf8");
    if (bytes > MAX_BODY_BYTES) {
      throw new ServiceError(1014, {}, { detail: `the body is ${bytes} bytes, more than ${MAX_BODY_BYTES} (1 MiB)` });
    }
  },
};

/** Answer headers a browser script may read: the request id, the replay flag, when to retry. */
export const EXPOSED_HEADERS = [REQUEST_ID_HEADER, "Idempotent-Replayed", "Retry-After"].join(",");

/**
 * The CORS headers for a request from `origin`: Access-Control-Allow-Origin when the origin is
 * allowed (or "*" is), and `Vary: Origin` whenever the answer depends on the origin.
 */
export function corsHeaders(origin: string | undefined, allowed: readonly string[]): Record<string, string> {
  if (allowed.includes("*"))
    return { "Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": EXPOSED_HEADERS };
  if (allowed.length === 0) return {};
  if (origin !== undefined && allowed.includes(origin))
    return {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Expose-Headers": EXPOSED_HEADERS,
      Vary: "Origin",
    };
  return { Vary: "Origin" };
}

/** The request's Origin header, whatever its case (the error path may run before the header normalizer). */
function originOf(event: APIGatewayProxyEvent | undefined): string | undefined {
  for (const [name, value] of Object.entries(event?.headers ?? {})) {
    if (name.toLowerCase() === "origin" && value) return value;
  }
  return undefined;
}

type HttpRequest = Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>;

/** The route of an event as the stack defines it ("PUT /training/tasks/sets"), or "unknown": a metric dimension, so never free text. */
function routeOf(event: Partial<APIGatewayProxyEvent> | undefined): string {
  const route = ROUTES.find(
    (candidate) => candidate.method === event?.httpMethod && candidate.path === event?.resource,
  );
  return route ? `${route.method} ${route.path}` : "unknown";
}

/** The request's task_id when it names a valid one (the body's, or a GET's query, quotes stripped). */
function taskIdOf(event: APIGatewayProxyEvent | undefined): string | undefined {
  const body = event?.body as unknown;
  const raw =
    typeof body === "object" && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>).task_id
      : event?.httpMethod === "GET"
        ? event.queryStringParameters?.task_id?.replace(/^"(.*)"$/s, "$1")
        : undefined;
  if (raw === undefined) return undefined;
  try {
    return parseTaskId(raw);
  } catch {
    return undefined;
  }
}

const count = (value: unknown): number => (Array.isArray(value) ? value.length : typeof value === "number" ? value : 0);

/** The images an answer says the request touched: a split's (sets and unassigned), a page's, a registration's added and updated. */
function imagesOf(body: Record<string, unknown> | undefined): number | undefined {
  if (body?.code !== 0) return undefined;
  if (Array.isArray(body.img_info_list)) return body.img_info_list.length;
  if (typeof body.added === "number") return body.added + count(body.updated);
  const sizes = body.set_sizes as Record<string, unknown> | undefined;
  if (Array.isArray(body.img_ids_set_training) || sizes) {
    const sets = sizes
      ? count(sizes.training) + count(sizes.verifying) + count(sizes.testing)
      : count(body.img_ids_set_training) + count(body.img_ids_set_verifying) + count(body.img_ids_set_testing);
    return sets + count(body.unassigned_count);
  }
  return undefined;
}

/** The body of an answer: as made here, or read back (an answer made elsewhere, e.g. a replay). */
function bodyOf(response: APIGatewayProxyResult | null | undefined): Record<string, unknown> | undefined {
  if (!response) return undefined;
  const made = answeredBodies.get(response);
  if (made) return made;
  if (typeof response.body !== "string" || response.body.length > 100_000) return undefined;
  try {
    const parsed = JSON.parse(response.body) as unknown;
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The middy composition every HTTP function shares: Powertools' Logger context (correlation id =
 * API Gateway's request id), header normalizer, body size limit, JSON body (read whatever the
 * Content-Type says) when `withBody`, and the error mapper. When the request ends, however it
 * ended (an early answer from a middleware included), its answer gets X-Request-Id and the CORS
 * headers for `corsOrigins` (default: CORS_ORIGINS), the log gets one line for it and the metrics
 * one answer by route and code.
 */
export function httpService<TBody = unknown>(options: {
  withBody: boolean;
  corsOrigins?: readonly string[];
  /** Whose tasks the request may see (lib/http/tenancy.ts); routes that read no task leave it off. */
  tenancy?: Tenancy;
}) {
  const tenancy = options.tenancy ?? { mode: "off" };
  const corsOrigins = options.corsOrigins ?? readCorsOrigins();
  const logger = serviceLogger();
  const started = new WeakMap<object, number>();

  const end = (request: HttpRequest) => {
    const { event, context } = request;
    const requestId = requestIdOf(event, context);
    const response = request.response;
    if (response) {
      response.headers = {
        ...response.headers,
        ...corsHeaders(originOf(event), corsOrigins),
        [REQUEST_ID_HEADER]: requestId,
      };
    }
    const status = response?.statusCode ?? 500;
    const body = bodyOf(response);
    const code = typeof body?.code === "number" ? body.code : status < 400 ? 0 : 1500;
    const route = routeOf(event);
    const taskId = taskIdOf(event);
    const images = imagesOf(body);
    const line = {
      correlation_id: requestId,
      route,
      ...(taskId === undefined ? {} : { task_id: taskId }),
      code,
      status,
      duration_ms: Math.round(performance.now() - (started.get(request) ?? performance.now())),
      ...(images === undefined ? {} : { images }),
    };
    if (status >= 500) logger.error("request", { ...line, error: causeOf(request.error) });
    else logger.info("request", line);
    publishAnswer(route, code);
  };

  const handler = middy<APIGatewayProxyEvent & { body: TBody }, APIGatewayProxyResult, Error, Context>({
    timeoutEarlyInMillis: 0,
    requestStart: (request) => void started.set(request, performance.now()),
    requestEnd: (request) => end(request as HttpRequest),
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      before: (request) => logger.setCorrelationId(requestIdOf(request.event, request.context)),
    })
    .use(httpHeaderNormalizer())
    // Like API Gateway's authorizer, who the caller is comes before anything about the request.
    .use({ before: (request) => void resolveTenant(request.event, tenancy) });
  if (options.withBody) {
    handler.use(bodyLimit).use(httpJsonBodyParser({ disableContentTypeCheck: true }));
  }
  return handler.use({
    onError: (request) => {
      // The request's log line carries a 1500's cause (requestEnd), so errorResponse does not.
      request.response = errorResponse(request.error, requestIdOf(request.event, request.context), {
        logCause: false,
        tenantPrefix: tenantPrefixOf(request.event),
      });
    },
  });
}
