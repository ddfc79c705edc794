import { ResponseType, type RestApi } from "aws-cdk-lib/aws-apigateway";
import { type ErrorCode, ServiceError } from "../lib/errors.ts";
import type { ApiAuth } from "./api-access.ts";

const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** The answer headers a browser script may read (CORS): the idempotency replay flag, the retry hint, the request id. */
export const EXPOSED_HEADERS = ["Idempotent-Replayed", "Retry-After", "X-Request-Id"] as const;

/** A gateway response body in the service's `{code,msg}` shape, message from the one error catalogue. */
const gatewayBody = (code: ErrorCode, extra: { requestId?: boolean; detail?: string } = {}): string => {
  const body: Record<string, unknown> = { code, msg: new ServiceError(code).message };
  // Gateway response templates may use $context variables: the caller gets an id to quote, as with the functions' 1500s.
  if (extra.requestId) body.request_id = "$context.requestId";
  if (extra.detail !== undefined) body.detail = extra.detail;
  // `$context.error.messageString` is already a quoted JSON string: it goes in unquoted.
  return JSON.stringify(body).replace('"$context.error.messageString"', "$context.error.messageString");
};

interface GatewayResponseRow {
  id: string;
  type: ResponseType;
  statusCode?: string;
  body: string;
  /** Extra headers, values as API Gateway wants them (static values in single quotes). */
  headers?: Record<string, string>;
}

/** The gateway's own English reason for a refusal, e.g. "The security token included in the request is expired". */
const GATEWAY_REASON = "$context.error.messageString";

/**
 * What API Gateway answers by itself, reshaped to `{code,msg}` so that nothing but the service's
 * JSON ever reaches the caller. Without a statusCode the gateway's own status is kept. Refusals
 * are code 1027: 401 when credentials are missing or expired (with `WWW-Authenticate` naming the
 * scheme), 403 when they are invalid, not allowed, or the web ACL blocked the request.
 */
function gatewayResponses(auth: ApiAuth, wafRateLimit: number | undefined): readonly GatewayResponseRow[] {
  const scheme = auth.type === "iam" ? "AWS4-HMAC-SHA256" : auth.type === "cognito" ? "Bearer" : undefined;
  const challenge = scheme ? { "WWW-Authenticate": `'${scheme}'` } : undefined;
  const refused = gatewayBody(1027, { requestId: true, detail: GATEWAY_REASON });
  return [
    // A REST API answers an unknown path, or a known path with an unknown method, with 403 "Missing
    // Authentication Token". Under IAM an unsigned request to a real route gets the same answer,
    // and API Gateway cannot tell the two apart: both are 1027 there, with a detail that says so.
    auth.type === "iam"
      ? {
          id: "UnknownRoute",
          type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
          statusCode: "403",
          body: gatewayBody(1027, {
            requestId: true,
            detail:
              "Missing Authentication Token: the request is not SigV4-signed, or no route has this path and method (API Gateway cannot tell the two apart under IAM authorization)",
          }),
        }
      : {
          id: "UnknownRoute",
          type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
          statusCode: "404",
          body: gatewayBody(1013),
        },
    // Cognito: no token, or one the authorizer rejects.
    { id: "Unauthorized", type: ResponseType.UNAUTHORIZED, statusCode: "401", body: refused, headers: challenge },
    // IAM: the signing credentials' session token has expired.
    { id: "ExpiredToken", type: ResponseType.EXPIRED_TOKEN, statusCode: "401", body: refused, headers: challenge },
    // IAM: the signature does not match (wrong secret, wrong region, altered request).
    { id: "InvalidSignature", type: ResponseType.INVALID_SIGNATURE, statusCode: "403", body: refused },
    // IAM: a valid signature from a principal not allowed execute-api:Invoke here; or, on a private
    // endpoint, a caller outside the allowed VPC endpoints.
    { id: "AccessDenied", type: ResponseType.ACCESS_DENIED, statusCode: "403", body: refused },
    ...(wafRateLimit !== undefined
      ? [
          {
            id: "WafBlocked",
            type: ResponseType.WAF_FILTERED,
            statusCode: "403",
            body: gatewayBody(1027, {
              requestId: true,
              detail: `The web ACL blocked the request: more than ${wafRateLimit} requests from this address in 5 minutes, or a rule of AWS's common rule set matched it`,
            }),
          },
        ]
      : []),
    { id: "RequestTooLarge", type: ResponseType.REQUEST_TOO_LARGE, statusCode: "413", body: gatewayBody(1014) },
    // Stage throttling is the server side running out of room: retryable, like storage throttling (1500/503).
    {
      id: "Throttled",
      type: ResponseType.THROTTLED,
      statusCode: "503",
      body: gatewayBody(1500, { requestId: true }),
      headers: { "Retry-After": "'1'" },
    },
    { id: "Default4xx", type: ResponseType.DEFAULT_4XX, body: gatewayBody(1013) },
    { id: "Default5xx", type: ResponseType.DEFAULT_5XX, body: gatewayBody(1500, { requestId: true }) },
  ];
}

/**
 * The CORS headers of the gateway's own answers, so a browser script can read a refusal too. One
 * origin (or `*`) is named as it is; with several, the gateway cannot choose among them, so it
 * echoes the request's Origin: these answers carry no data, only the refusal and its request id.
 */
function corsHeaders(origins: readonly string[]): Record<string, string> {
  if (origins.length === 0) return {};
  const single = origins.includes("*") ? "*" : origins.length === 1 ? origins[0] : undefined;
  return {
    "Access-Control-Allow-Origin": single !== undefined ? `'${single}'` : "method.request.header.Origin",
    ...(single === undefined ? { Vary: "'Origin'" } : {}),
    "Access-Control-Expose-Headers": `'${EXPOSED_HEADERS.join(",")}'`,
  };
}

/** Puts every gateway response on `api`: `{code,msg}` JSON, and the CORS headers when origins are configured. */
export function addGatewayResponses(
  api: RestApi,
  auth: ApiAuth,
  options: { corsOrigins: readonly string[]; wafRateLimit: number | undefined },
): void {
  const cors = corsHeaders(options.corsOrigins);
  for (const response of gatewayResponses(auth, options.wafRateLimit)) {
    api.addGatewayResponse(response.id, {
      type: response.type,
      ...(response.statusCode ? { statusCode: response.statusCode } : {}),
      responseHeaders: { "Content-Type": `'${JSON_CONTENT_TYPE}'`, ...response.headers, ...cors },
      templates: { "application/json": response.body },
    });
  }
}
