import middy from "@middy/core";
import httpHeaderNormalizer from "@middy/http-header-normalizer";
import httpJsonBodyParser from "@middy/http-json-body-parser";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { readCorsOrigins } from "./config.ts";
import { describeError, ServiceError } from "./errors.ts";
import { MAX_BODY_BYTES } from "./model.ts";

const JSON_HEADERS = { "Content-Type": "application/json; charset=utf-8" };

/** A 200 answer with a JSON body. */
export const ok = (body: object): APIGatewayProxyResult => ({
  statusCode: 200,
  headers: JSON_HEADERS,
  body: JSON.stringify(body),
});

/**
 * The one place an error becomes a response. ServiceErrors keep their code and message; a body the
 * JSON parser refused is 1001; anything else is 1500 with the request id, and only the log sees its cause.
 */
export function errorResponse(error: unknown, requestId: string): APIGatewayProxyResult {
  let failure: ServiceError;
  if (error instanceof ServiceError) {
    failure = error;
  } else if (isParserRefusal(error)) {
    failure = new ServiceError(1001, {}, { detail: "the body is not valid JSON" });
  } else {
    failure = new ServiceError(1500);
  }
  if (failure.code === 1500) {
    console.error(
      JSON.stringify({ level: "error", request_id: requestId, error: describeError(failure.cause ?? error) }),
    );
  }
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (failure.retryAfter !== undefined) headers["Retry-After"] = String(failure.retryAfter);
  const body: Record<string, unknown> = { code: failure.code, msg: failure.message };
  if (failure.detail !== undefined) body.detail = failure.detail;
  if (failure.status >= 500) body.request_id = requestId;
  return { statusCode: failure.status, headers, body: JSON.stringify(body) };
}

function isParserRefusal(error: unknown): boolean {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" && status >= 400 && status < 500;
}

const bodyLimit = {
  before: ({ event }: { event: APIGatewayProxyEvent }) => {
    const body = event.body ?? "";
    const bytes = Buffer.byteLength(body, event.isBase64Encoded ? "base64" : "utf8");
    if (bytes > MAX_BODY_BYTES) {
      throw new ServiceError(1014, {}, { detail: `the body is ${bytes} bytes, more than ${MAX_BODY_BYTES} (1 MiB)` });
    }
  },
};

/**
 * The CORS headers for a request from `origin`: Access-Control-Allow-Origin when the origin is
 * allowed (or "*" is), and `Vary: Origin` whenever the answer depends on the origin.
 */
export function corsHeaders(origin: string | undefined, allowed: readonly string[]): Record<string, string> {
  if (allowed.includes("*")) return { "Access-Control-Allow-Origin": "*" };
  if (allowed.length === 0) return {};
  if (origin !== undefined && allowed.includes(origin))
    return { "Access-Control-Allow-Origin": origin, Vary: "Origin" };
  return { Vary: "Origin" };
}

/** The request's Origin header, whatever its case (the error path may run before the header normalizer). */
function originOf(event: APIGatewayProxyEvent | undefined): string | undefined {
  for (const [name, value] of Object.entries(event?.headers ?? {})) {
    if (name.toLowerCase() === "origin" && value) return value;
  }
  return undefined;
}

/**
 * The middy composition every HTTP function shares: header normalizer, body size limit,
 * JSON body (read whatever the Content-Type says) when `withBody`, and the error mapper; every
 * answer, success or error, carries the CORS headers for `corsOrigins` (default: CORS_ORIGINS).
 */
export function httpService<TBody = unknown>(options: { withBody: boolean; corsOrigins?: readonly string[] }) {
  const corsOrigins = options.corsOrigins ?? readCorsOrigins();
  const withCors = (request: { event: APIGatewayProxyEvent; response: APIGatewayProxyResult | undefined }) => {
    const cors = corsHeaders(originOf(request.event), corsOrigins);
    if (request.response && Object.keys(cors).length > 0) {
      request.response = { ...request.response, headers: { ...request.response.headers, ...cors } };
    }
  };
  const handler = middy<APIGatewayProxyEvent & { body: TBody }, APIGatewayProxyResult, Error, Context>({
    timeoutEarlyInMillis: 0,
  }).use(httpHeaderNormalizer());
  if (options.withBody) {
    handler.use(bodyLimit).use(httpJsonBodyParser({ disableContentTypeCheck: true }));
  }
  return handler.use({
    after: withCors,
    onError: (request) => {
      request.response = errorResponse(
        request.error,
        request.context?.awsRequestId ?? request.event.requestContext?.requestId ?? "unknown",
      );
      withCors(request);
    },
  });
}
