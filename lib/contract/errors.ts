/** The error part of the contract: every code's statuses, message pattern and meaning, from the one catalogue (lib/errors.ts). */
import { type ErrorCode, errorCatalogue } from "../errors.ts";
import { MAX_BODY_BYTES } from "../model.ts";
import type { Route } from "../routes.ts";
import { type Json, type JsonSchema, type ResponseObject, ref } from "./shapes.ts";

/** HTTP statuses a code is answered with besides its catalogue status. */
const OTHER_STATUSES: Partial<Record<ErrorCode, number[]>> = { 1013: [405], 1027: [401], 1500: [503] };

/** What each code means (English; the `msg` itself comes from the catalogue). */
const WHEN: Record<ErrorCode, string> = {
  1001: "the body is not JSON, or not a JSON object",
  1002: "task_id missing, malformed (1–64 of 0-9A-Za-z_-), or an unsafe number",
  1003: "the task has no images at all (or all of them are deleted)",
  1004: "set_type_id not 0, 1 or 2",
  1005: "verifying_count missing, not an integer, or < 0",
  1006: "testing_count missing, not an integer, or < 0",
  1007: "the sum of the counts is more than the task's images",
  1008: "another split of this task was published while this one ran (detail names its version)",
  1009: "training_count missing, not an integer, or ≤ 0",
  1010: "the requested set is empty, or the task was never split",
  1011: "the images payload (POST), img_ids (DELETE) or img_id (GET) is invalid; names the field, e.g. images[3].img_name or img_ids[2]",
  1012: "limit or cursor invalid",
  1013: "unknown route (404) or method (405, with Allow)",
  1014: `body larger than ${MAX_BODY_BYTES} bytes`,
  1015: "a cursor whose split is no longer retained: read again from the first page",
  1016: "seed not a string of 1–128 characters or a safe integer",
  1017: "ratios together with any *_count",
  1018: "ratios invalid (three numbers in [0, 1], training > 0, sum ≤ 1)",
  1019: "a split option's value is invalid (or lock_testing with mode keep)",
  1020: 'labels too rare to place under rare_labels "error" (or training cannot hold them)',
  1021: 'mode "keep" would have to move an assigned image',
  1022: "lock_testing without a current, non-empty testing set",
  1023: "a body field or query parameter the request does not have (detail names the nearest known one)",
  1024: "an Idempotency-Key reused with a different body (or a key that is not 1–255 visible ASCII characters)",
  1025: "the first request with this Idempotency-Key is still running (at most the function's timeout): retry later",
  1026: "the image is not one of the task's, or it was deleted",
  1027: "the deployed API refused the caller: missing, invalid or expired credentials (401) or access denied (403)",
  1028: "a schedule's expression, timezone, window_minutes or enabled is invalid (which names it; detail says why)",
  1029: "the task has no schedule",
  1500: "storage failed: 503 with Retry-After when retries ran out of time, else 500; the body carries request_id",
};

/** One entry per code: its statuses and message pattern, from the catalogue. */
export interface ErrorEntry {
  code: ErrorCode;
  statuses: number[];
  /** The message with each parameter as `{name}`, e.g. `任务id为 {task_id} 的任务下没有图像`. */
  msg: string;
  when: string;
}

export const errorEntries = (): ErrorEntry[] =>
  errorCatalogue().map(({ code, status, msg }) => ({
    code,
    statuses: [status, ...(OTHER_STATUSES[code] ?? [])],
    msg,
    when: WHEN[code],
  }));

/** A regular expression (unicode mode) matching the messages a pattern stands for. */
export const msgRegex = (pattern: string): string =>
  `^${pattern
    .split(/\{[a-z_]+\}/)
    .map((part) => part.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&"))
    .join("[\\s\\S]+")}$`;

/**
 * The error codes each operation answers (besides 1013 for an unknown route), by its route's name
 * in lib/routes.ts: every route has its list, and its operationId is that name, camel-cased.
 */
export const OPERATION_ERRORS = {
  SplitTask: [
    1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1014, 1016, 1017, 1018, 1019, 1020, 1021, 1022, 1023, 1024, 1025,
    1027, 1500,
  ],
  ListSet: [1002, 1003, 1004, 1010, 1012, 1014, 1015, 1023, 1027, 1500],
  RegisterImages: [1001, 1002, 1011, 1014, 1023, 1024, 1025, 1027, 1500],
  GetImages: [1002, 1003, 1011, 1012, 1014, 1015, 1023, 1026, 1027, 1500],
  DeleteImages: [1001, 1002, 1003, 1011, 1014, 1023, 1027, 1500],
  SetSchedule: [1001, 1002, 1005, 1006, 1009, 1014, 1017, 1018, 1019, 1023, 1027, 1028, 1500],
  GetSchedule: [1002, 1014, 1023, 1027, 1029, 1500],
  DeleteSchedule: [1002, 1014, 1023, 1027, 1500],
  OpenApiDocument: [1014, 1500],
  DocsPage: [1014, 1500],
} as const satisfies Record<Route["name"], readonly ErrorCode[]>;

/** A route's operationId: its name in lib/routes.ts, camel-cased (SplitTask → splitTask). */
export const operationIdOf = (name: Route["name"]): string => name.charAt(0).toLowerCase() + name.slice(1);

export const errorSchemaName = (code: ErrorCode) => `Error${code}`;

export function errorSchema(entry: ErrorEntry): JsonSchema {
  const serverSide = entry.statuses.some((status) => status >= 500);
  return {
    title: `${entry.code}`,
    description: `${entry.when}. HTTP ${entry.statuses.join(" / ")}. msg: ${entry.msg}`,
    type: "object",
    properties: {
      code: { const: entry.code },
      msg: { type: "string", pattern: msgRegex(entry.msg), description: `pattern: ${entry.msg}` },
      detail: { type: "string", description: "English: the field, the rule and the value received" },
      request_id: { type: "string", description: "quote it when reporting a server-side failure" },
    },
    required: ["code", "msg", ...(serverSide ? ["request_id"] : [])],
    additionalProperties: false,
  };
}

/** An error example body for `entry`, its parameters filled with plausible values. */
export function errorExample(entry: ErrorEntry): Json {
  const params: Record<string, string> = {
    task_id: "2018072049434026765",
    set_type_id: "2",
    sum: "12",
    total: "10",
    field: entry.code === 1023 ? "dryRun" : "images[3].img_name",
    reason: entry.code === 1018 ? "三个比例之和不能大于 1" : "a label's images are all assigned",
    rule: '只能是 "fresh"、"keep"',
    policy: "error",
    labels: "cat",
    img_id: "2018072080042233351",
    which: "expression",
  };
  const body: Record<string, Json> = {
    code: entry.code,
    msg: entry.msg.replace(/\{([a-z_]+)\}/g, (_, name: string) => params[name] ?? name),
  };
  if (entry.code === 1023) body.detail = "unknown field dryRun (did you mean dry_run?)";
  if (entry.code === 1009) body.detail = "training_count must be an integer ≥ 1, got 7.5";
  if (entry.code === 1026)
    body.detail = "no image 2018072080042233351 in task 2018072049434026765 (unknown, or deleted)";
  if (entry.code === 1028)
    body.detail =
      'expression must be rate(value unit) or cron(minutes hours day-of-month month day-of-week year), got "daily"';
  if (entry.code === 1500) body.request_id = "c6af9ac6-7b61-4d3e-9b0a-1c6e2f1e0b1a";
  return body;
}

/** The error responses of an operation, one per HTTP status, each any of its codes. */
export function errorResponses(codes: readonly ErrorCode[], entries: ErrorEntry[]): Record<string, ResponseObject> {
  const byStatus = new Map<number, ErrorEntry[]>();
  for (const entry of entries.filter((e) => codes.includes(e.code))) {
    for (const status of entry.statuses) byStatus.set(status, [...(byStatus.get(status) ?? []), entry]);
  }
  const responses: Record<string, ResponseObject> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: list.map((e) => `${e.code}: ${e.when}`).join("; "),
      ...(status === 503 ? { headers: { "Retry-After": { schema: { type: "integer" } } } } : {}),
      content: {
        "application/json": {
          schema:
            list.length === 1
              ? ref(errorSchemaName(list[0]!.code))
              : { anyOf: list.map((e) => ref(errorSchemaName(e.code))) },
          examples: Object.fromEntries(list.map((e) => [`${e.code}`, { summary: e.msg, value: errorExample(e) }])),
        },
      },
    };
  }
  return responses;
}

/** The markdown table of every error, for the document's description (and so the docs page). */
export function errorTable(entries: ErrorEntry[]): string {
  const rows = entries.map((e) => `| ${e.code} | ${e.statuses.join(" / ")} | ${e.when} | ${e.msg} |`);
  return ["| code | HTTP | when | msg |", "|---|---|---|---|", ...rows].join("\n");
}
