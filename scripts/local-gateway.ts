import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { readCorsOrigins } from "../lib/config.ts";
import { ServiceError } from "../lib/errors.ts";
import { errorResponse, REQUEST_ID_HEADER } from "../lib/http/service.ts";
import { MAX_BODY_BYTES } from "../lib/model.ts";
import { ROUTES, type Route } from "../lib/routes.ts";
import { lambdaContext } from "./lambda.ts";
import { PROJECT_ROOT } from "./project-root.ts";

/**
 * Who the local gateway says the caller is, as API Gateway would after its authorizer: nobody
 * (`none`), the claims of an unsigned JWT (`cognito`: the token is read, not verified), or the
 * account a header names (`iam-account`). The last two exist to try tenancy locally.
 */
export type LocalAuth = { readonly type: "none" } | { readonly type: "cognito" } | { readonly type: "iam-account" };

/** The header that names the caller's AWS account under `--auth iam --tenancy account`. */
export const CALLER_ACCOUNT_HEADER = "x-caller-account";

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
export type Handlers = Record<Route["name"], ProxyHandler>;

const root = PROJECT_ROOT;

/** Imports every route's handler; call after the environment (TABLE_NAME, DYNAMODB_ENDPOINT) is set. */
export async function loadHandlers(): Promise<Handlers> {
  const entries = await Promise.all(
    ROUTES.map(async (route) => {
      const module = (await import(pathToFileURL(resolve(root, route.entry)).href)) as { handler: ProxyHandler };
      return [route.name, module.handler] as const;
    }),
  );
  return Object.fromEntries(entries) as Handlers;
}

/**
 * Reads the body, keeping nothing past the size API Gateway would pass on to us. A larger body is
 * still read to its end (and dropped), so the client gets its 413 instead of a broken pipe.
 */
async function readBody(request: IncomingMessage): Promise<Buffer | "too large"> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of request as AsyncIterable<Buffer>) {
    size += part.length;
    if (size <= MAX_BODY_BYTES) parts.push(part);
  }
  return size > MAX_BODY_BYTES ? "too large" : Buffer.concat(parts);
}

/** A claim as API Gateway's Cognito authorizer passes it on: every value a string, a list as `[a b]`. */
const claimString = (value: unknown): string =>
  Array.isArray(value) ? `[${value.map(String).join(" ")}]` : typeof value === "string" ? value : JSON.stringify(value);

/** The claims of `Authorization: Bearer <JWT>`, read without verifying the signature; undefined when there is no readable token. */
function unverifiedClaims(authorization: string | undefined): Record<string, string> | undefined {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization?.trim() ?? "")?.[1];
  const payload = token?.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as unknown;
    if (typeof claims !== "object" || claims === null || Array.isArray(claims)) return undefined;
    return Object.fromEntries(Object.entries(claims).map(([name, value]) => [name, claimString(value)]));
  } catch {
    return undefined;
  }
}

/** The caller as the authorizer would pass it on, or 1027 (401) as API Gateway answers a request without credentials. */
function callerContext(request: IncomingMessage, auth: LocalAuth): Partial<APIGatewayProxyEvent["requestContext"]> {
  if (auth.type === "cognito") {
    const claims = unverifiedClaims(request.headers.authorization);
    if (!claims) {
      throw new ServiceError(1027, {}, { status: 401, detail: "send a JWT as Authorization: Bearer <token>" });
    }
    return { authorizer: { claims } };
  }
  if (auth.type === "iam-account") {
    const account = request.headers[CALLER_ACCOUNT_HEADER];
    if (typeof account !== "string" || account === "") {
      throw new ServiceError(
        1027,
        {},
        { status: 401, detail: `name the caller's account in ${CALLER_ACCOUNT_HEADER}` },
      );
    }
    return { identity: { accountId: account } as APIGatewayProxyEvent["requestContext"]["identity"] };
  }
  return {};
}

/** An API Gateway REST (v1) proxy event for one HTTP request, as AWS would build it. */
export function toProxyEvent(
  request: IncomingMessage,
  url: URL,
  body: Buffer,
  route: Route,
  requestId: string,
  caller: Partial<APIGatewayProxyEvent["requestContext"]> = {},
): APIGatewayProxyEvent {
  // Null-prototype records: a header or parameter named __proto__ or constructor is just a name.
  const headers: Record<string, string> = Object.create(null);
  const multiValueHeaders: Record<string, string[]> = Object.create(null);
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i] as string;
    const value = request.rawHeaders[i + 1] as string;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query: Record<string, string> = Object.create(null);
  const multiQuery: Record<string, string[]> = Object.create(null);
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    (multiQuery[name] ??= []).push(value);
  }
  const hasQuery = url.searchParams.size > 0;
  return {
    resource: route.path,
    path: url.pathname,
    httpMethod: route.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: null,
    stageVariables: null,
    body: body.length > 0 ? body.toString("utf8") : null,
    isBase64Encoded: false,
    requestContext: {
      requestId,
      httpMethod: route.method,
      path: url.pathname,
      resourcePath: route.path,
      stage: "local",
      requestTimeEpoch: Date.now(),
      ...caller,
      identity: { sourceIp: request.socket.remoteAddress ?? "127.0.0.1", ...caller.identity },
    } as APIGatewayProxyEvent["requestContext"],
  };
}

function send(response: ServerResponse, result: APIGatewayProxyResult, extra: Record<string, string> = {}) {
  response.writeHead(result.statusCode, { ...(result.headers as Record<string, string>), ...extra });
  response.end(result.body);
}

/** The `code` each answer carried, for the request log (kept off the wire). */
const answeredCodes = new WeakMap<ServerResponse, unknown>();

/** Sends an answer and notes its `code` for the request log. */
function reply(response: ServerResponse, result: APIGatewayProxyResult, extra: Record<string, string> = {}) {
  answeredCodes.set(response, codeOf(result.body));
  send(response, result, extra);
}

/** The `code` of a JSON answer, for the request log. */
function codeOf(body: string): unknown {
  try {
    return (JSON.parse(body) as { code?: unknown }).code;
  } catch {
    return undefined;
  }
}

/**
 * The CORS preflight API Gateway answers for the stack's corsOrigins (CDK's default preflight): 204,
 * the origin echoed when it is allowed, the routes' methods and CDK's default headers.
 */
function preflight(request: IncomingMessage, methods: string[], allowed: readonly string[]): APIGatewayProxyResult {
  const origin = request.headers.origin;
  const allowOrigin = allowed.includes("*")
    ? "*"
    : origin !== undefined && allowed.includes(origin)
      ? origin
      : allowed[0];
  return {
    statusCode: 204,
    headers: {
      "Access-Control-Allow-Origin": allowOrigin ?? "",
      ...(allowed.includes("*") ? {} : { Vary: "Origin" }),
      "Access-Control-Allow-Headers":
        "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token,X-Amz-User-Agent,Idempotency-Key",
      "Access-Control-Allow-Methods": methods.join(","),
    },
    body: "",
  };
}

/** An HTTP server that routes like the deployed REST API and calls the very same handlers. */
export function createGateway(
  handlers: Handlers,
  options: { log?: (line: string) => void; auth?: LocalAuth } = {},
): Server {
  const auth = options.auth ?? { type: "none" };
  return createServer(async (request, response) => {
    // API Gateway's request id: in the event, and on every answer as X-Request-Id (errorResponse sets it on 1013 and 1014).
    const requestId = randomUUID();
    const started = performance.now();
    // One line per request: method, path, code, status, time.
    response.once("finish", () => {
      const ms = Math.round(performance.now() - started);
      options.log?.(
        `${request.method} ${request.url} ${response.statusCode} code=${answeredCodes.get(response) ?? "-"} ${ms} ms`,
      );
    });
    try {
      // request.url is a path; "//x/…" must not be read as a host (as new URL(url, base) would).
      const url = new URL(`http://localhost${request.url?.startsWith("/") ? request.url : "/"}`);
      const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
      const onPath = ROUTES.filter((route) => route.path === path);
      const route = onPath.find((candidate) => candidate.method === request.method);
      const corsOrigins = readCorsOrigins();
      if (!route && request.method === "OPTIONS" && onPath.length > 0 && corsOrigins.length > 0) {
        request.resume();
        return reply(response, preflight(request, [...new Set(ROUTES.map((r) => r.method))], corsOrigins), {
          [REQUEST_ID_HEADER]: requestId,
        });
      }
      if (!route) {
        request.resume();
        const allowed = onPath.map((candidate) => candidate.method).join(", ");
        const status = onPath.length > 0 ? 405 : 404;
        const detail =
          onPath.length > 0
            ? `${request.method} is not allowed on ${path}: use ${allowed}`
            : `no route ${request.method} ${path}`;
        reply(
          response,
          errorResponse(new ServiceError(1013, {}, { status, detail }), requestId),
          allowed ? { Allow: allowed } : {},
        );
        return;
      }
      const body = await readBody(request);
      if (body === "too large") {
        const detail = `the body is more than ${MAX_BODY_BYTES} bytes (1 MiB)`;
        reply(response, errorResponse(new ServiceError(1014, {}, { detail }), requestId), { Connection: "close" });
        return;
      }
      const caller = "open" in route && route.open ? {} : callerContext(request, auth);
      const event = toProxyEvent(request, url, body, route, requestId, caller);
      reply(response, await handlers[route.name](event, lambdaContext(route.name, requestId)));
    } catch (error) {
      reply(response, errorResponse(error, requestId));
    }
  });
}
