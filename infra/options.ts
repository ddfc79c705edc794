import { RemovalPolicy } from "aws-cdk-lib";
import { type ApiAuth, checkTenancy, defaultTenancyMode, NONE_NEEDS_ENDPOINTS, type Tenancy } from "./api-access.ts";
import { DEFAULTS, WAF_RATE_LIMIT_RANGE } from "./defaults.ts";
import { SettingError } from "./setting-error.ts";
import type { TrainingSetsStackProps } from "./training-sets-stack.ts";

// One direction only: this file reads context into the stack's props (a type import); the stack
// never reads context, and build-app.ts wires the two together.

const CONTEXT_PREFIX = "training-sets:";

/** What the context decides; the rest of the stack's props (name, description) is build-app.ts's. */
export type StackOptions = Omit<TrainingSetsStackProps, "env" | "stackName" | "description"> & {
  /** Names the stack, `TrainingSets-<stage>`, so that dev and prod live in one account. */
  readonly stage: string;
  /** Always decided here, from the auth setting when the context does not say. */
  readonly tenancy: Tenancy;
};

/** Looks a context value up by its name without the `training-sets:` prefix. */
type Context = (name: string) => unknown;

const fail = (name: string, expected: string, raw: unknown): never => {
  throw new SettingError(`${CONTEXT_PREFIX}${name} must be ${expected}, got ${JSON.stringify(raw)}`);
};

const isUnset = (raw: unknown) => raw === undefined || raw === null || (typeof raw === "string" && raw.trim() === "");

function positive(get: Context, name: string, fallback: number): number {
  const raw = get(name);
  if (isUnset(raw)) return fallback;
  const value = typeof raw === "number" ? raw : Number(raw);
  if (!Number.isFinite(value) || value <= 0) fail(name, "a positive number", raw);
  return value;
}

const OFF = new Set(["off", "none", "false"]);
const ON = new Set(["on", "true"]);

/** A guard: a positive integer, its default when unset, or `false` when written as "off" (or "none"). */
function guard(get: Context, name: string, fallback: number): number | false {
  const raw = get(name);
  if (isUnset(raw)) return fallback;
  if (raw === false || OFF.has(String(raw).trim().toLowerCase())) return false;
  const value = typeof raw === "number" ? raw : Number(String(raw).trim());
  if (!Number.isSafeInteger(value) || value <= 0) fail(name, 'a positive integer or "off"', raw);
  return value;
}

/** An integer within `range`, its default when unset. */
function integerIn(get: Context, name: string, fallback: number, range: { min: number; max: number }): number {
  const raw = get(name);
  if (isUnset(raw)) return fallback;
  const value = typeof raw === "number" ? raw : Number(String(raw).trim());
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    fail(name, `an integer from ${range.min} to ${range.max}`, raw);
  }
  return value;
}

/** A switch: `on` or `off` (true or false), its default when unset. */
function onOff(get: Context, name: string, fallback: boolean): boolean {
  const raw = get(name);
  if (isUnset(raw)) return fallback;
  if (typeof raw === "boolean") return raw;
  const value = String(raw).trim().toLowerCase();
  if (ON.has(value)) return true;
  if (OFF.has(value)) return false;
  return fail(name, '"on" or "off"', raw);
}

const USER_POOL_ARN = /^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool\/[a-z0-9-]+_[0-9A-Za-z]+$/;
const AUTH = '"iam", "none" or "cognito:<user pool ARN>"';

const VPC_ENDPOINT_ID = /^vpce-[0-9a-f]{8,17}$/;

/**
 * How callers authenticate: IAM (SigV4) unless told otherwise. `none` must be said explicitly, and
 * only with the VPC endpoints that may call: the API is then private, never open to the internet.
 */
function auth(get: Context): ApiAuth {
  const raw = get("auth");
  const value = isUnset(raw) ? "iam" : String(raw).trim();
  const endpoints = list(get, "vpcEndpointIds", "a list of VPC endpoint ids (vpce-…)");
  for (const id of endpoints) {
    if (typeof id !== "string" || !VPC_ENDPOINT_ID.test(id))
      fail("vpcEndpointIds", "a list of VPC endpoint ids (vpce-…)", id);
  }
  if (value.toLowerCase() === "none") {
    if (endpoints.length === 0) throw new SettingError(NONE_NEEDS_ENDPOINTS);
    return { type: "none", vpcEndpointIds: [...new Set(endpoints as string[])] };
  }
  if (endpoints.length > 0) fail("vpcEndpointIds", `unset unless ${CONTEXT_PREFIX}auth is none`, get("vpcEndpointIds"));
  if (value.toLowerCase() === "iam") return { type: "iam" };
  if (value.toLowerCase().startsWith("cognito:")) {
    const userPoolArn = value.slice("cognito:".length).trim();
    if (!USER_POOL_ARN.test(userPoolArn)) fail("auth", `${AUTH} (a user pool ARN after "cognito:")`, raw);
    return { type: "cognito", userPoolArn };
  }
  return fail("auth", AUTH, raw);
}

/** Whose tasks a request sees: the auth setting's default unless the context says otherwise. */
function tenancy(get: Context, api: ApiAuth): Tenancy {
  const rawMode = get("tenancy");
  const rawClaim = get("tenantClaim");
  const read = {
    mode: (isUnset(rawMode) ? defaultTenancyMode(api) : String(rawMode).trim().toLowerCase()) as Tenancy["mode"],
    claim: isUnset(rawClaim) ? DEFAULTS.tenantClaim : String(rawClaim).trim(),
  };
  checkTenancy(api, read);
  return read;
}

/** A stage name: a letter, then letters, digits and hyphens (it ends up in the stack's name). */
function stage(get: Context): string {
  const raw = get("stage");
  if (isUnset(raw)) return "dev";
  const value = String(raw).trim();
  if (!/^[A-Za-z][A-Za-z0-9-]{0,31}$/.test(value)) fail("stage", "a letter then up to 31 letters, digits or -", raw);
  return value;
}

function email(get: Context, name: string): string | undefined {
  const raw = get(name);
  if (isUnset(raw)) return undefined;
  const value = String(raw).trim();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) fail(name, "an email address", raw);
  return value;
}

/** A list: a JSON array (cdk.json), or on the command line a JSON array or a comma-separated string. */
function list(get: Context, name: string, expected: string): unknown[] {
  let raw = get(name);
  if (isUnset(raw)) return [];
  if (typeof raw === "string") {
    try {
      raw = raw.trim().startsWith("[") ? JSON.parse(raw) : raw.split(",");
    } catch {
      fail(name, expected, raw);
    }
  }
  if (!Array.isArray(raw)) return fail(name, expected, raw);
  return raw.map((entry) => (typeof entry === "string" ? entry.trim() : entry)).filter((entry) => entry !== "");
}

/** The options of the one rule that re-split fixed task ids at deploy time, before tasks had schedules. */
const RETIRED_RESPLIT_OPTIONS = ["resplitSchedule", "resplitTaskIds"] as const;

/** Either retired option set stops the synth: a deploy without it would drop those tasks' re-splits unseen. */
function refuseRetiredResplit(get: Context): void {
  for (const name of RETIRED_RESPLIT_OPTIONS) {
    const raw = get(name);
    if (isUnset(raw) || (Array.isArray(raw) && raw.length === 0)) continue;
    throw new SettingError(
      `${CONTEXT_PREFIX}${name} is gone: schedules are now per task, set each with PUT /training/tasks/schedule or \`training-sets set-schedule\` (docs/operations.md, "Scheduled re-splits", has the loop for a list of task ids)`,
    );
  }
}

/**
 * Reads the stack options from CDK context (cdk.json, or `-c key=value` on the command line, where
 * every value arrives as a string) and fails the synth on a value it does not understand.
 */
export function readOptions(context: (key: string) => unknown): StackOptions {
  const get: Context = (name) => context(CONTEXT_PREFIX + name);
  refuseRetiredResplit(get);

  const removal = String(get("removalPolicy") ?? "retain").toLowerCase();
  if (removal !== "retain" && removal !== "destroy") fail("removalPolicy", '"retain" or "destroy"', removal);

  const origins = list(get, "corsOrigins", "a list of origins");
  if (!origins.every((origin) => typeof origin === "string")) fail("corsOrigins", "a list of origins", origins);

  // A throwaway stage's tables go with the stack, which deletion protection would stop.
  const deletionProtection = onOff(get, "deletionProtection", removal === "retain");
  if (deletionProtection && removal === "destroy") {
    fail(
      "deletionProtection",
      `"off" with ${CONTEXT_PREFIX}removalPolicy=destroy (the stack could not delete its tables)`,
      get("deletionProtection"),
    );
  }

  const encryption =
    String(get("tableEncryption") ?? "")
      .trim()
      .toLowerCase() || "aws-owned";
  if (encryption !== "aws-owned" && encryption !== "customer-managed") {
    fail("tableEncryption", '"aws-owned" or "customer-managed"', get("tableEncryption"));
  }

  const apiAuth = auth(get);
  const wafRateLimit = integerIn(get, "wafRateLimit", DEFAULTS.wafRateLimit, WAF_RATE_LIMIT_RANGE);
  return {
    stage: stage(get),
    auth: apiAuth,
    tenancy: tenancy(get, apiAuth),
    removalPolicy: removal === "destroy" ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    deletionProtection,
    tableEncryption: encryption as "aws-owned" | "customer-managed",
    throttleRateLimit: positive(get, "throttleRateLimit", 100),
    throttleBurstLimit: Math.floor(positive(get, "throttleBurstLimit", 200)),
    waf: onOff(get, "waf", true) ? { rateLimit: wafRateLimit } : false,
    corsOrigins: origins as string[],
    alarmEmail: email(get, "alarmEmail"),
    splitReservedConcurrency: guard(get, "splitReservedConcurrency", DEFAULTS.splitReservedConcurrency),
    resplitReservedConcurrency: guard(get, "resplitReservedConcurrency", DEFAULTS.resplitReservedConcurrency),
    tableMaxReadRequestUnits: guard(get, "tableMaxReadRequestUnits", DEFAULTS.tableMaxReadRequestUnits),
    tableMaxWriteRequestUnits: guard(get, "tableMaxWriteRequestUnits", DEFAULTS.tableMaxWriteRequestUnits),
    cloudWatchRole: onOff(get, "cloudWatchRole", false),
  };
}
