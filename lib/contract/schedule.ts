/** The schedule part of the contract: PUT, GET and DELETE /training/tasks/schedule, their schemas and examples. */
import type { SCHEDULE_FIELDS } from "../http/fields.ts";
import { DELETE_MSG, READ_MSG, SET_MSG } from "../schedule/answers.ts";
import { MAX_WINDOW_MINUTES } from "../schedule/window.ts";
import { operationIdOf } from "./errors.ts";
import { DEMO_TASK } from "./examples.ts";
import { DOMAIN_SCHEMAS } from "./schemas.ts";
import { int, type Json, type JsonSchema, json, type Operation, object, type Parameter, ref } from "./shapes.ts";

const SPLIT_REQUEST = DOMAIN_SCHEMAS.SplitRequest as JsonSchema & { properties: Record<string, JsonSchema> };
const { task_id: _task, seed: _seed, ...splitProperties } = SPLIT_REQUEST.properties;

const NIGHTLY_SPLIT = { training_count: 7, verifying_count: 2, testing_count: 1, mode: "keep" };

export const SCHEDULE_SCHEMAS: Record<string, JsonSchema> = {
  ScheduleSplit: {
    ...SPLIT_REQUEST,
    properties: {
      ...splitProperties,
      dry_run: { const: false, description: "A scheduled split is published: true is 1019." },
    },
    required: [],
    description:
      "The body of PUT /training/tasks/sets without task_id (the schedule's) and seed (each run draws one), checked with the same codes in the same order at the PUT; what needs the task's images (1003, 1007, 1020–1022) makes a run skipped. Unknown fields: 1023.",
  },
  ScheduleRequest: object(
    {
      task_id: ref("TaskIdInput"),
      expression: {
        type: "string",
        maxLength: 256,
        pattern: "^(rate|cron)\\(.*\\)$",
        description:
          "A recurring EventBridge Scheduler expression: rate(value unit) with minute(s), hour(s) or day(s), or cron(minutes hours day-of-month month day-of-week year) with one of the day fields ? (1028).",
        examples: ["cron(0 2 * * ? *)"],
      },
      timezone: {
        type: "string",
        default: "UTC",
        description: "An IANA time zone the cron fields are read in (1028).",
        examples: ["Asia/Shanghai"],
      },
      split: ref("ScheduleSplit"),
      enabled: { type: "boolean", default: true, description: "false keeps the schedule without running it (1028)." },
      window_minutes: {
        type: "integer",
        minimum: 0,
        maximum: MAX_WINDOW_MINUTES,
        default: 0,
        description: "EventBridge Scheduler's flexible time window: a run starts within this many minutes (1028).",
      },
    } satisfies Record<(typeof SCHEDULE_FIELDS)[number], JsonSchema>,
    ["task_id", "expression", "split"],
    { description: "Creates or replaces the task's one schedule. Unknown fields: 1023." },
  ),
  ScheduleRun: object(
    {
      scheduled_at: { type: "string", format: "date-time", description: "when the run was due (UTC)" },
      finished_at: { type: ["string", "null"], format: "date-time" },
      outcome: {
        enum: ["split", "skipped", "failed", "unknown"],
        description:
          "split: published; skipped: the task could not be split as it stands (code says why, 1008 when another split was published first); failed; unknown: whether its split was published cannot be known",
      },
      version: { type: ["integer", "null"], minimum: 1, description: "the published split's version" },
      code: { type: ["integer", "null"], description: "the error code of a run that did not split" },
      detail: { type: ["string", "null"] },
    },
    ["scheduled_at", "finished_at", "outcome", "version", "code", "detail"],
  ),
  ScheduleAnswer: object(
    {
      code: { const: 0 },
      msg: { enum: [SET_MSG, READ_MSG] },
      task_id: ref("Id"),
      expression: { type: "string" },
      timezone: { type: "string" },
      split: ref("ScheduleSplit"),
      enabled: { type: "boolean" },
      window_minutes: int(0),
      revision: int(1, "raised by every change of the schedule"),
      state: {
        enum: ["active", "pending"],
        description: "pending: saved, but the scheduler may not have it yet (the same PUT again completes it)",
      },
      next_run_at: {
        type: ["string", "null"],
        format: "date-time",
        description: "the next run (UTC); null when disabled or no run is left",
      },
      runs: {
        type: "array",
        items: ref("ScheduleRun"),
        maxItems: 20,
        description: "GET only: the last runs, newest first",
      },
    },
    [
      "code",
      "msg",
      "task_id",
      "expression",
      "timezone",
      "split",
      "enabled",
      "window_minutes",
      "revision",
      "state",
      "next_run_at",
    ],
  ),
  ScheduleDeleted: object(
    {
      code: { const: 0 },
      msg: { const: DELETE_MSG },
      task_id: ref("Id"),
      deleted: { type: "boolean", description: "false: the task had no schedule (a retried DELETE)" },
    },
    ["code", "msg", "task_id", "deleted"],
  ),
};

/** Examples of the schedule PUT body; each parses (tested). */
export const SCHEDULE_REQUEST_EXAMPLES = {
  nightly_keep: {
    summary: "Nightly at 02:00 Beijing time: the day's new images join the sets",
    value: { task_id: DEMO_TASK, expression: "cron(0 2 * * ? *)", timezone: "Asia/Shanghai", split: NIGHTLY_SPLIT },
  },
  hourly_ratios: {
    summary: "Every 6 hours by ratios, within a 15-minute window",
    value: {
      task_id: "42",
      expression: "rate(6 hours)",
      split: { ratios: { training: 0.8, verifying: 0.1, testing: 0.1 }, stratify_by: "label" },
      window_minutes: 15,
    },
  },
} satisfies Record<string, { summary: string; value: Json }>;

const SCHEDULE_EXAMPLE = {
  code: 0,
  task_id: DEMO_TASK,
  expression: "cron(0 2 * * ? *)",
  timezone: "Asia/Shanghai",
  split: NIGHTLY_SPLIT,
  enabled: true,
  window_minutes: 0,
  revision: 1,
  state: "active",
  next_run_at: "2025-11-24T18:00:00Z",
};

const taskIdParameter = (description: string): Parameter => ({
  name: "task_id",
  in: "query",
  required: true,
  schema: { type: "string", pattern: '^"?[0-9A-Za-z_-]{1,64}"?$' },
  description,
});

type Responses = Operation["responses"];

/** The path item of /training/tasks/schedule, each operation's error answers from `errorsOf`. */
export function schedulePaths(errorsOf: (operation: "SetSchedule" | "GetSchedule" | "DeleteSchedule") => Responses) {
  return {
    put: {
      operationId: operationIdOf("SetSchedule"),
      tags: ["schedules"],
      summary: "Create or replace the task's schedule of re-splits",
      description:
        "Stored, then given to EventBridge Scheduler (in-process under npm start); 200 only when both have it, else 503 and the same PUT again completes it. The same settings again write nothing. The first run is one interval (or the next cron time) after the PUT.",
      requestBody: {
        required: true,
        content: { "application/json": { schema: ref("ScheduleRequest"), examples: SCHEDULE_REQUEST_EXAMPLES } },
      },
      responses: {
        "200": {
          description: "The schedule as stored, with its next run",
          ...json(ref("ScheduleAnswer"), {
            nightly_keep: { summary: "Nightly, mode keep", value: { ...SCHEDULE_EXAMPLE, msg: SET_MSG } },
          }),
        },
        ...errorsOf("SetSchedule"),
      },
    },
    get: {
      operationId: operationIdOf("GetSchedule"),
      tags: ["schedules"],
      summary: "The task's schedule, its next run and its last 20 runs",
      parameters: [taskIdParameter("The task (1002); may come in double quotes.")],
      responses: {
        "200": {
          description: "The schedule with its runs, newest first",
          ...json(ref("ScheduleAnswer"), {
            with_runs: {
              summary: "Two runs: one split, one skipped",
              value: {
                ...SCHEDULE_EXAMPLE,
                msg: READ_MSG,
                runs: [
                  {
                    scheduled_at: "2025-11-23T18:00:00Z",
                    finished_at: "2025-11-23T18:00:01Z",
                    outcome: "split",
                    version: 4,
                    code: null,
                    detail: null,
                  },
                  {
                    scheduled_at: "2025-11-22T18:00:00Z",
                    finished_at: "2025-11-22T18:00:01Z",
                    outcome: "skipped",
                    version: null,
                    code: 1008,
                    detail: "another split was published first",
                  },
                ],
              },
            },
          }),
        },
        ...errorsOf("GetSchedule"),
      },
    },
    delete: {
      operationId: operationIdOf("DeleteSchedule"),
      tags: ["schedules"],
      summary: "Stop and remove the task's schedule",
      description: "A retried DELETE is not an error: it answers deleted: false.",
      parameters: [taskIdParameter("The task (1002); may come in double quotes.")],
      responses: {
        "200": {
          description: "Deleted, or there was none",
          ...json(ref("ScheduleDeleted"), {
            deleted: { summary: "Deleted", value: { code: 0, msg: DELETE_MSG, task_id: DEMO_TASK, deleted: true } },
          }),
        },
        ...errorsOf("DeleteSchedule"),
      },
    },
  } satisfies Record<string, Omit<Operation, "security">>;
}
