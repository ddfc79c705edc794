import type { APIGatewayProxyEvent } from "aws-lambda";
import { ServiceError } from "../errors.ts";
import { encodeTenant, storedTaskKey } from "../store/task-key.ts";

/**
 * Whose tasks a request may see. `off`: one namespace (IAM's default: the platform's backend is one
 * trusted caller). `claim`: the tenant is a claim of the caller's Cognito token (Cognito's default).
 * `account`: each AWS account that signs requests is a tenant (IAM, opt-in).
 */
export type Tenancy =
  | { readonly mode: "off" }
  | { readonly mode: "claim"; readonly claim: string }
  | { readonly mode: "account" };

const DEFAULT_TENANT_CLAIM = "custom:tenant";
const MAX_TENANT_LENGTH = 128;

/** TENANCY (`off` | `claim` | `account`, default off) and TENANT_CLAIM, as the stack sets them; throws at cold start on anything else. */
export function readTenancy(env: NodeJS.ProcessEnv = process.env): Tenancy {
  const mode = (env.TENANCY ?? "off").trim() || "off";
  if (mode === "off") return { mode };
  if (mode === "account") return { mode };
  if (mode === "claim") {
    const claim = (env.TENANT_CLAIM ?? "").trim() || DEFAULT_TENANT_CLAIM;
    return { mode, claim };
  }
  throw new Error(`TENANCY must be "off", "claim" or "account", got "${env.TENANCY}"`);
}

type RequestContext = Partial<APIGatewayProxyEvent["requestContext"]> | undefined;

const refuse = (detail: string) => new ServiceError(1027, {}, { status: 403, detail });

/**
 * API Gateway's Cognito authorizer passes each claim as a string; a claim with several values
 * arrives as an array or as its string rendering `[a, b]` (or `[a b]`).
 */
function claimValue(claims: Record<string, unknown> | undefined, claim: string): string {
  const raw = claims?.[claim];
  if (raw === undefined || raw === null || raw === "") {
    throw refuse(`the token has no "${claim}" claim: the tenant comes from it`);
  }
  const single = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
  if (typeof single !== "string" || /^\[.*\]$/s.test(single)) {
    throw refuse(`the token's "${claim}" claim has several values: the tenant must be one`);
  }
  const value = single;
  if (value.length > MAX_TENANT_LENGTH) {
    throw refuse(`the token's "${claim}" claim is ${value.length} characters, more than ${MAX_TENANT_LENGTH}`);
  }
  return value;
}

/** The request's tenant (undefined with tenancy off), or 1027 (403) naming what is missing. */
export function tenantOf(event: Pick<APIGatewayProxyEvent, "requestContext">, tenancy: Tenancy): string | undefined {
  const context = event.requestContext as RequestContext;
  if (tenancy.mode === "off") return undefined;
  if (tenancy.mode === "claim") {
    const claims = (context?.authorizer as { claims?: Record<string, unknown> } | null | undefined)?.claims;
    return claimValue(claims, tenancy.claim);
  }
  const account = context?.identity?.accountId;
  if (typeof account !== "string" || !/^\d{12}$/.test(account)) {
    throw refuse("the request names no caller account (requestContext.identity.accountId): the tenant comes from it");
  }
  return account;
}

/** Each request's tenant, resolved once by the HTTP middleware (httpService) before anything reads the task. */
const tenants = new WeakMap<object, string | undefined>();

export function resolveTenant(event: APIGatewayProxyEvent, tenancy: Tenancy): string | undefined {
  if (tenants.has(event)) return tenants.get(event);
  const tenant = tenantOf(event, tenancy);
  tenants.set(event, tenant);
  return tenant;
}

/** What to take out of any text an answer carries: the tenant's encoding, so only the bare task_id shows. */
export function tenantPrefixOf(event: object | undefined): string | undefined {
  const tenant = event && tenants.get(event);
  return tenant === undefined ? undefined : `${encodeTenant(tenant)}#`;
}

/** A parsed request with its task_id replaced by the key the task is stored under (lib/store/task-key.ts). */
export function inTenant<T extends { taskId: string }>(event: APIGatewayProxyEvent, request: T): T {
  if (!tenants.has(event)) throw new Error("inTenant before the tenant was resolved (httpService resolves it)");
  return { ...request, taskId: storedTaskKey(tenants.get(event), request.taskId) };
}
