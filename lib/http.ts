import middy from "@middy/core";
import httpHeaderNormalizer from "@middy/http-header-normalizer";
import httpJsonBodyParser from "@middy/http-json-body-parser";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { ServiceError } from "./errors.ts";
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
    failure = new ServiceError(1001);
  } else {
    failure = new ServiceError(1500);
  }
  if (failure.code === 1500) {
    console.error(JSON.stringify({ level: "error", request_id: requestId, error: describe(failure.cause ?? error) }));
  }
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (failure.retryAfter !== undefined) headers["Retry-After"] = String(failure.retryAfter);
  const body: Record<string, unknown> = { code: failure.code, msg: failure.message };
  if (failure.status >= 500) body.request_id = requestId;
  return { statusCode: failure.status, headers, body: JSON.stringify(body) };
}

function isParserRefusal(error: unknown): boolean {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" && status >= 400 && status < 500;
}

function describe(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { value: String(error) };
  return { name: error.name, message: error.message, stack: error.stack, cause: error.cause && describe(error.cause) };
}

const bodyLimit = {
  before: ({ event }: { event: APIGatewayProxyEvent }) => {
    const body = event.body ?? "";
    const bytes = Buffer.byteLength(body, event.isBase64Encoded ? "base64" : "utf8");
    if (bytes > MAX_BODY_BYTES) throw new ServiceError(1014);
  },
};

/**
 * The middy composition every HTTP function shares: header normalizer, body size limit,
 * JSON body (read whatever the Content-Type says) when `withBody`, and the error mapper.
 */
export function httpService<TBody = unknown>(options: { withBody: boolean }) {
  const handler = middy<APIGatewayProxyEvent & { body: TBody }, APIGatewayProxyResult, Error, Context>({
    timeoutEarlyInMillis: 0,
  }).use(httpHeaderNormalizer());
  if (options.withBody) {
    handler.use(bodyLimit).use(httpJsonBodyParser({ disableContentTypeCheck: true }));
  }
  return handler.use({
    onError: (request) => {
      request.response = errorResponse(request.error, request.context?.awsRequestId ?? request.event.requestContext?.requestId ?? "unknown");
    },
  });
}
