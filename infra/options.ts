import { RemovalPolicy } from "aws-cdk-lib";
import { ServiceError } from "../lib/errors.ts";
import { parseTaskId } from "../lib/http/validate.ts";
import type { ApiAuth, TrainingSetsStackProps } from "./training-sets-stack.ts";

// One direction only: this file reads context into the stack's props (a type import); the stack
// never reads context, and build-app.ts wires the two together.

const CONTEXT_PREFIX = "training-sets:";

/** What the context decides; the rest of the stack's props (name, description) is build-app.ts's. */
export type StackOptions = Omit<TrainingSetsStackProps, "env" | "stackName" | "description"> & {
  /** Names the stack, `TrainingSets-<stage>`, so that dev and prod live in one account. */
  readonly stage: string;
};

/** Looks a context value up by its name without the `training-sets:` prefix. */
type Context = (name: string) => unknown;

const fail = (name: string, expected: string, raw: unknown): never => {
  throw new Error(`${CONTEXT_PREFIX}${name} must be ${expected}, got ${JSON.stringify(raw)}`);
};

const isUnset = (raw: unknown) => raw === undefined || raw === null || (typeof raw === "string" && raw.trim() === "");

function positive(get: Context, name: string, fallback: number): number {
  const raw = get(name);
  if (isUnset(raw)) return fallback;
  const value = typeof raw === "number" ? raw : Number(raw);
  if (!Number.isFinite(value) || value <= 0) fail(name, "a positive number", raw);
  return value;
}

/** An optional positive integer: undefined when unset. */
function optionalInteger(get: Context, name: string): number | undefined {
  const raw = get(name);
  if (isUnset(raw)) return undefined;
  const value = typeof raw === "number" ? raw : Number(String(raw).trim());
  if (!Number.isSafeInteger(value) || value <= 0) fail(name, "a positive integer", raw);
  return value;
}

const USER_POOL_ARN = /^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool\/[a-z0-9-]+_[0-9A-Za-z]+$/;
const AUTH = '"iam", "none" or "cognito:<user pool ARN>"';

/** How callers authenticate: IAM (SigV4) unless told otherwise; `none` must be said explicitly. */
function auth(get: Context): ApiAuth {
  const raw = get("auth");
  if (isUnset(raw)) return { type: "iam" };
  const value = String(raw).trim();
  if (value.toLowerCase() === "iam") return { type: "iam" };
  if (value.toLowerCase() === "none") return { type: "none" };
  if (value.toLowerCase().startsWith("cognito:")) {
    const userPoolArn = value.slice("cognito:".length).trim();
    if (!USER_POOL_ARN.test(userPoolArn)) fail("auth", `${AUTH} (a user pool ARN after "cognito:")`, raw);
    return { type: "cognito", userPoolArn };
  }
  return fail("auth", AUTH, raw);
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

const TASK_IDS = "a list of task ids (1–64 of 0-9A-Za-z_-; 19-digit ids written as strings)";

/** The re-split schedule: the expression and the task ids together, or neither (then no rule is made). */
function resplit(get: Context): StackOptions["resplit"] {
  const rawSchedule = get("resplitSchedule");
  const rawIds = list(get, "resplitTaskIds", TASK_IDS);
  if (isUnset(rawSchedule) && rawIds.length === 0) return undefined;
  if (isUnset(rawSchedule)) fail("resplitSchedule", "set when resplitTaskIds is", rawSchedule);
  if (rawIds.length === 0) fail("resplitTaskIds", "set when resplitSchedule is", get("resplitTaskIds"));

  const schedule = String(rawSchedule).trim();
  if (!/^(rate|cron)\(.+\)$/.test(schedule))
    fail("resplitSchedule", "an EventBridge rate(…) or cron(…) expression", schedule);
  const taskIds = rawIds.map((raw) => {
    try {
      return parseTaskId(raw);
    } catch (error) {
      if (error instanceof ServiceError) return fail("resplitTaskIds", TASK_IDS, raw);
      throw error;
    }
  });
  return { schedule, taskIds: [...new Set(taskIds)] };
}

/**
 * Reads the stack options from CDK context (cdk.json, or `-c key=value` on the command line, where
 * every value arrives as a string) and fails the synth on a value it does not understand.
 */
export function readOptions(context: (key: string) => unknown): StackOptions {
  const get: Context = (name) => context(CONTEXT_PREFIX + name);

  const removal = String(get("removalPolicy") ?? "retain").toLowerCase();
  if (removal !== "retain" && removal !== "destroy") fail("removalPolicy", '"retain" or "destroy"', removal);

  const origins = list(get, "corsOrigins", "a list of origins");
  if (!origins.every((origin) => typeof origin === "string")) fail("corsOrigins", "a list of origins", origins);

  return {
    stage: stage(get),
    auth: auth(get),
    removalPolicy: removal === "destroy" ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    throttleRateLimit: positive(get, "throttleRateLimit", 100),
    throttleBurstLimit: Math.floor(positive(get, "throttleBurstLimit", 200)),
    corsOrigins: origins as string[],
    resplit: resplit(get),
    alarmEmail: email(get, "alarmEmail"),
    splitReservedConcurrency: optionalInteger(get, "splitReservedConcurrency"),
    tableMaxReadRequestUnits: optionalInteger(get, "tableMaxReadRequestUnits"),
    tableMaxWriteRequestUnits: optionalInteger(get, "tableMaxWriteRequestUnits"),
  };
}
