/**
 * The API's contract as an OpenAPI 3.1 document, built once in code: the error part from the one
 * catalogue (lib/errors.ts), the limits and enums from lib/model.ts and lib/plan; the request
 * schemas name exactly the fields of lib/http/fields.ts (the compiler checks it: `satisfies`).
 * Served at GET /openapi.json; tests tie it to lib/http/validate.ts and check every HTTP test
 * response against it.
 */
import { type ErrorCode, errorCatalogue } from "../errors.ts";
import type { DELETE_FIELDS, IMAGE_FIELDS, REGISTER_FIELDS, SPLIT_FIELDS } from "../http/fields.ts";
import {
  DEFAULT_LIMIT,
  MAX_BODY_BYTES,
  MAX_IMAGES_PER_REQUEST,
  MAX_LIMIT,
  RARE_LABEL_POLICIES,
  SET_TYPES,
  SPLIT_MODES,
} from "../model.ts";
import { ROUTES } from "../routes.ts";
import { ALGORITHM_VERSIONS } from "../split/plan/index.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON Schema 2020-12 object (OpenAPI 3.1's schema dialect). */
export type JsonSchema = { [key: string]: unknown };

interface Example {
  summary: string;
  value: unknown;
}
interface MediaType {
  schema: JsonSchema;
  examples?: Record<string, Example>;
}
export interface ResponseObject {
  description: string;
  headers?: Record<string, { schema: JsonSchema; description?: string }>;
  content?: Record<string, MediaType>;
}
interface Parameter {
  name: string;
  in: "query" | "header";
  required: boolean;
  schema: JsonSchema;
  description: string;
}
export interface Operation {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: Record<string, MediaType> };
  responses: Record<string, ResponseObject>;
}
/** The parts of an OpenAPI 3.1 document this API uses. */
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; summary: string; description: string };
  servers: { url: string; description: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<"get" | "put" | "post" | "delete", Operation>>>;
  components: { schemas: Record<string, JsonSchema>; responses: Record<string, ResponseObject> };
}

/** The largest integer a JSON number carries exactly. */
const SAFE = Number.MAX_SAFE_INTEGER;
const ID_PATTERN = "^[0-9A-Za-z_-]{1,64}$";

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const int = (minimum: number, description?: string): JsonSchema => ({
  type: "integer",
  minimum,
  maximum: SAFE,
  ...(description ? { description } : {}),
});
/** The two fields that say a capped list (its first entries within LIST_BYTES) was cut: its total and `truncated`. */
const cut = (name: string): Record<string, JsonSchema> => ({
  [`${name}_total`]: int(0, `present only when ${name} was cut to its first entries: how many there were`),
  [`${name}_truncated`]: { const: true },
});

const object = (properties: Record<string, JsonSchema>, required: string[], extra: JsonSchema = {}): JsonSchema => ({
  type: "object",
  properties,
  required,
  additionalProperties: false,
  ...extra,
});

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
  1023: "a field the request does not have (detail names the nearest known one)",
  1024: "an Idempotency-Key reused with a different body (or a key that is not 1–255 visible ASCII characters)",
  1025: "the first request with this Idempotency-Key is still running (at most the function's timeout): retry later",
  1026: "the image is not one of the task's, or it was deleted",
  1027: "the deployed API refused the caller: missing, invalid or expired credentials (401) or access denied (403)",
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

/** The error codes each operation answers (besides 1013, which belongs to no operation). */
const OPERATION_ERRORS = {
  split: [
    1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1014, 1016, 1017, 1018, 1019, 1020, 1021, 1022, 1023, 1024, 1025,
    1027, 1500,
  ],
  list: [1002, 1003, 1004, 1010, 1012, 1014, 1015, 1027, 1500],
  register: [1001, 1002, 1011, 1014, 1023, 1024, 1025, 1027, 1500],
  images: [1002, 1003, 1011, 1012, 1014, 1015, 1026, 1027, 1500],
  delete: [1001, 1002, 1003, 1011, 1014, 1023, 1027, 1500],
  openapi: [1014, 1500],
} as const satisfies Record<string, readonly ErrorCode[]>;

const errorSchemaName = (code: ErrorCode) => `Error${code}`;

function errorSchema(entry: ErrorEntry): JsonSchema {
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
function errorExample(entry: ErrorEntry): Json {
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
  };
  const body: Record<string, Json> = {
    code: entry.code,
    msg: entry.msg.replace(/\{([a-z_]+)\}/g, (_, name: string) => params[name] ?? name),
  };
  if (entry.code === 1023) body.detail = "unknown field dryRun (did you mean dry_run?)";
  if (entry.code === 1009) body.detail = "training_count must be an integer ≥ 1, got 7.5";
  if (entry.code === 1026)
    body.detail = "no image 2018072080042233351 in task 2018072049434026765 (unknown, or deleted)";
  if (entry.code === 1500) body.request_id = "c6af9ac6-7b61-4d3e-9b0a-1c6e2f1e0b1a";
  return body;
}

/** The error responses of an operation, one per HTTP status, each any of its codes. */
function errorResponses(codes: readonly ErrorCode[], entries: ErrorEntry[]): Record<string, ResponseObject> {
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

const json = (schema: JsonSchema, examples: Record<string, Example> = {}): { content: Record<string, MediaType> } => ({
  content: {
    "application/json": { schema, ...(Object.keys(examples).length > 0 ? { examples } : {}) },
  },
});

const SPLIT_MSG = "TaskImgRel 表 图像集合数据更新， 成功";
const DEMO_TASK = "2018062212345678911";

/** Examples of the PUT body; each parses with lib/http/validate.ts (tested). */
export const SPLIT_REQUEST_EXAMPLES = {
  legacy: {
    summary: "The legacy API's request",
    value: { task_id: DEMO_TASK, training_count: 7, verifying_count: 2, testing_count: 1 },
  },
  seeded: {
    summary: "Reproducible, with a seed",
    value: { task_id: DEMO_TASK, training_count: 7, verifying_count: 2, testing_count: 1, seed: "demo" },
  },
  ratios: {
    summary: "Ratios, stratified by label",
    value: {
      task_id: "42",
      ratios: { training: 0.6, verifying: 0.2, testing: 0.2 },
      stratify_by: "label",
      seed: "doc",
    },
  },
  grouped_dry_run: {
    summary: "A dry run of a grouped split",
    value: {
      task_id: "42",
      training_count: 6,
      verifying_count: 2,
      testing_count: 2,
      group_by: "group",
      dry_run: true,
      seed: "doc",
    },
  },
} satisfies Record<string, { summary: string; value: Json }>;

/** Examples of the POST body; each parses with lib/http/validate.ts (tested). */
export const REGISTER_REQUEST_EXAMPLES = {
  legacy: {
    summary: "The legacy API's images (docs/api.md)",
    value: {
      task_id: "2018072049434026765",
      images: [
        { img_id: "2018072080042233351", img_name: "img_拓海_1.png" },
        { img_id: "2018072084092101478", img_name: "img_1.jpg" },
        { img_id: "2018072067241762338", img_name: "img_2.jpg", state: 1 },
      ],
    },
  },
  labelled: {
    summary: "With label and group, for stratify_by and group_by",
    value: {
      task_id: "42",
      images: [
        { img_id: "1", img_name: "cat_1.jpg", label: "cat", group: "p1" },
        { img_id: "4", img_name: "dog_1.jpg", label: "dog", group: "p2", state: 1 },
      ],
    },
  },
} satisfies Record<string, { summary: string; value: Json }>;

/** Examples of the GET query; each parses with lib/http/validate.ts (tested). */
export const LIST_QUERY_EXAMPLES = {
  legacy: {
    summary: "The legacy API's URL (quoted task_id)",
    value: { task_id: '"2018070477207204860"', set_type_id: "1" },
  },
  paged: { summary: "A page of one image", value: { task_id: DEMO_TASK, set_type_id: "2", limit: "1" } },
  summary: { summary: "The task's split summary", value: { task_id: "42" } },
} satisfies Record<string, { summary: string; value: Record<string, string> }>;

/** Examples of the images GET query; each parses with lib/http/validate.ts (tested). */
export const IMAGES_QUERY_EXAMPLES = {
  image: { summary: "One image", value: { task_id: "2018072049434026765", img_id: "2018072080042233351" } },
  images: { summary: "Every image of the task, a page of 2", value: { task_id: "2018072049434026765", limit: "2" } },
} satisfies Record<string, { summary: string; value: Record<string, string> }>;

/** Examples of the DELETE body; each parses with lib/http/validate.ts (tested). */
export const DELETE_REQUEST_EXAMPLES = {
  legacy: {
    summary: "Delete two images (one of them unknown)",
    value: { task_id: "2018072049434026765", img_ids: ["2018072084092101478", "2018072099999999999"] },
  },
} satisfies Record<string, { summary: string; value: Json }>;

const DOMAIN_SCHEMAS: Record<string, JsonSchema> = {
  Id: {
    type: "string",
    pattern: ID_PATTERN,
    description: "An id: 1–64 of 0-9A-Za-z_-. Always a string in answers (19-digit ids do not fit a JSON number).",
    examples: ["2018062212345678911"],
  },
  IdInput: {
    description: "An id as a string, or as a JSON number when it is a safe integer (else 1002).",
    oneOf: [ref("Id"), { type: "integer", minimum: -SAFE, maximum: SAFE }],
  },
  TaskIdInput: { ...ref("IdInput"), description: "The task (1002 when missing or malformed)." },
  Count: {
    description: "A non-negative integer, or an integer string (form fields often arrive as strings).",
    oneOf: [int(0), { type: "string", pattern: "^\\d+$" }],
  },
  SetSizes: object({ training: int(0), verifying: int(0), testing: int(0) }, ["training", "verifying", "testing"]),
  Ratios: object(
    {
      training: { type: "number", exclusiveMinimum: 0, maximum: 1 },
      verifying: { type: "number", minimum: 0, maximum: 1 },
      testing: { type: "number", minimum: 0, maximum: 1 },
    },
    ["training", "verifying", "testing"],
    { description: "Shares of the task's images; sum ≤ 1 (1018). Sizes by largest remainder." },
  ),
  SplitRequest: {
    ...object(
      {
        task_id: ref("TaskIdInput"),
        training_count: {
          description: "Images in training, ≥ 1 (1009). Integer or integer string.",
          oneOf: [int(1), { type: "string", pattern: "^0*[1-9]\\d*$" }],
          examples: [7],
        },
        verifying_count: { ...ref("Count"), description: "Images in verifying, ≥ 0 (1005).", examples: [2] },
        testing_count: { ...ref("Count"), description: "Images in testing, ≥ 0 (1006).", examples: [1] },
        ratios: { ...ref("Ratios"), examples: [{ training: 0.7, verifying: 0.2, testing: 0.1 }] },
        seed: {
          description: "Makes the split reproducible (1016 if invalid); drawn and returned when absent.",
          oneOf: [
            { type: "string", minLength: 1, maxLength: 128 },
            { type: "integer", minimum: -SAFE, maximum: SAFE },
          ],
          examples: ["demo"],
        },
        stratify_by: { enum: ["label"], description: "Each set gets each label in proportion.", examples: ["label"] },
        group_by: { enum: ["group"], description: "All images of a group land in one set.", examples: ["group"] },
        rare_labels: {
          enum: [...RARE_LABEL_POLICIES],
          default: "training",
          description: "Where labels with too few images go (1020 with error).",
          examples: ["random"],
        },
        mode: {
          enum: [...SPLIT_MODES],
          default: "fresh",
          description: "keep: assigned images stay, only unassigned ones are placed (1021).",
          examples: ["keep"],
        },
        lock_testing: {
          type: "boolean",
          default: false,
          description: "The current testing set stays exactly (1022 without one; 1019 with mode keep).",
          examples: [false],
        },
        dry_run: { type: "boolean", default: false, description: "Plan and answer, write nothing.", examples: [true] },
        algorithm: {
          enum: [...ALGORITHM_VERSIONS],
          default: ALGORITHM_VERSIONS[0] ?? "v1",
          description: "The seeded planning algorithm, recorded per split.",
          examples: [ALGORITHM_VERSIONS[0] ?? "v1"],
        },
      } satisfies Record<(typeof SPLIT_FIELDS)[number], JsonSchema>,
      ["task_id"],
    ),
    description:
      "Either the three counts or ratios (1017 if both). Any field beyond the legacy four adds the planner's account to the answer. Unknown fields: 1023.",
    anyOf: [
      { required: ["training_count", "verifying_count", "testing_count"], not: { required: ["ratios"] } },
      {
        required: ["ratios"],
        not: {
          anyOf: [{ required: ["training_count"] }, { required: ["verifying_count"] }, { required: ["testing_count"] }],
        },
      },
    ],
  },
  ImageInput: object(
    {
      img_id: ref("IdInput"),
      img_name: {
        type: "string",
        minLength: 1,
        maxLength: 255,
        pattern: "\\S",
        description: "1–255 characters, any Unicode, not only whitespace.",
        examples: ["img_拓海_1.png"],
      },
      state: {
        description:
          "0 uploading, 1 ready, 2 annotating, 3 training, 4 testing, 5 verifying (default 0 for a new image).",
        oneOf: [int(0), { type: "string", pattern: "^\\d+$" }],
        examples: [0],
      },
      label: { ...ref("Tag"), description: "For stratify_by.", examples: ["cat"] },
      group: { ...ref("Tag"), description: "For group_by: a patient, a video, a scene.", examples: ["p1"] },
    } satisfies Record<(typeof IMAGE_FIELDS)[number], JsonSchema>,
    ["img_id", "img_name"],
  ),
  Tag: {
    oneOf: [
      { type: "string", minLength: 1, maxLength: 128, pattern: "\\S" },
      { type: "integer", minimum: -SAFE, maximum: SAFE },
    ],
  },
  RegisterRequest: object(
    {
      task_id: ref("TaskIdInput"),
      images: {
        type: "array",
        minItems: 1,
        maxItems: MAX_IMAGES_PER_REQUEST,
        items: ref("ImageInput"),
        description: `1–${MAX_IMAGES_PER_REQUEST} images, img_ids unique (1011 names the first failing field).`,
      },
    } satisfies Record<(typeof REGISTER_FIELDS)[number], JsonSchema>,
    ["task_id", "images"],
    { description: "An idempotent upsert. Unknown fields (here or in an image): 1023." },
  ),
  LabelCount: object(
    {
      label: { type: ["string", "null"], description: "null for the unlabelled images" },
      training: int(0),
      verifying: int(0),
      testing: int(0),
      unassigned: int(0),
    },
    ["label", "training", "verifying", "testing", "unassigned"],
  ),
  SplitResponse: {
    ...object(
      {
        code: { const: 0 },
        msg: { const: SPLIT_MSG },
        task_id: ref("Id"),
        img_ids_set_training: { type: "array", items: ref("Id"), description: "in the order drawn" },
        img_ids_set_verifying: { type: "array", items: ref("Id") },
        img_ids_set_testing: { type: "array", items: ref("Id") },
        ids_omitted: { const: true, description: "the lists would pass MAX_ANSWER_BYTES: read the sets with GET" },
        set_sizes: ref("SetSizes"),
        unassigned_count: int(0),
        seed: { type: "string", description: "the seed used: the one sent, or the one drawn" },
        version: int(0, "the new split's version; for a dry run the live one (0 when never split)"),
        dry_run: { type: "boolean" },
        algorithm: { type: "string" },
        requested_sizes: ref("SetSizes"),
        achieved_sizes: ref("SetSizes"),
        label_counts: { type: "array", items: ref("LabelCount") },
        ...cut("label_counts"),
        rare_labels: object(
          {
            policy: { enum: [...RARE_LABEL_POLICIES] },
            labels: { type: "array", items: ref("LabelCount") },
            ...cut("labels"),
          },
          ["policy", "labels"],
        ),
        moved_count: int(0),
        newly_assigned_count: int(0),
        leaked_groups: { type: "array", items: { type: "string" } },
        ...cut("leaked_groups"),
        held_back_count: int(0),
      },
      ["code", "msg", "task_id", "unassigned_count", "seed", "version"],
    ),
    description:
      "The three id lists, or (a very big split) ids_omitted with set_sizes. A request with ratios or any option also gets the planner's account (dry_run … held_back_count).",
    oneOf: [
      { required: ["img_ids_set_training", "img_ids_set_verifying", "img_ids_set_testing"] },
      { required: ["ids_omitted", "set_sizes"] },
    ],
    dependentRequired: {
      dry_run: [
        "algorithm",
        "requested_sizes",
        "achieved_sizes",
        "label_counts",
        "rare_labels",
        "moved_count",
        "newly_assigned_count",
        "leaked_groups",
        "held_back_count",
      ],
    },
  },
  ImageInfo: object({ img_name: { type: "string" }, img_id: ref("Id"), state: int(0), order_id: int(1) }, [
    "img_name",
    "img_id",
    "state",
    "order_id",
  ]),
  SetPage: object(
    {
      code: { const: 0 },
      msg: { type: "string", pattern: `^集合编号id=[${SET_TYPES.join("")}]的图像数据查询成功$` },
      task_id: ref("Id"),
      img_info_list: {
        type: "array",
        items: ref("ImageInfo"),
        description:
          "ascending order_id; a first page is never empty (an empty set is 1010), a later one may be when every image left after its cursor was deleted meanwhile",
      },
      next_cursor: { type: "string", description: "only when more images follow: pass it back as cursor" },
    },
    ["code", "msg", "task_id", "img_info_list"],
    { description: "One page of one set (with set_type_id)." },
  ),
  SplitRecord: object(
    {
      version: int(1),
      seed: { type: "string" },
      algorithm: { type: "string" },
      split_at: { type: "string", format: "date-time" },
      mode: { enum: [...SPLIT_MODES] },
      options: object(
        {
          stratify_by: { enum: ["label", null] },
          group_by: { enum: ["group", null] },
          rare_labels: { enum: [...RARE_LABEL_POLICIES] },
          lock_testing: { type: "boolean" },
        },
        ["stratify_by", "group_by", "rare_labels", "lock_testing"],
      ),
      counts: ref("SetSizes"),
      ratios: ref("Ratios"),
      requested_sizes: ref("SetSizes"),
      achieved_sizes: ref("SetSizes"),
      unassigned_count: int(0, "at split time"),
      moved_count: int(0),
      label_counts: { type: "array", items: ref("LabelCount"), description: "the live split only" },
      ...cut("label_counts"),
      leaked_groups: { type: "array", items: { type: "string" } },
      ...cut("leaked_groups"),
    },
    [
      "version",
      "seed",
      "algorithm",
      "split_at",
      "mode",
      "options",
      "requested_sizes",
      "achieved_sizes",
      "unassigned_count",
      "moved_count",
      "leaked_groups",
    ],
    { oneOf: [{ required: ["counts"] }, { required: ["ratios"] }] },
  ),
  TaskSummary: object(
    {
      code: { const: 0 },
      msg: { const: "任务分集概况查询成功" },
      task_id: ref("Id"),
      image_count: int(0, "the task's images, deleted ones not counted"),
      deleted_count: int(0, "the task's deleted images (task-wide; a deleted image registered again is not one)"),
      unassigned_count: int(0, "now: images registered since the split count as unassigned"),
      split: { oneOf: [{ $ref: "#/components/schemas/SplitRecord", required: ["label_counts"] }, { type: "null" }] },
      history: {
        type: "array",
        items: { $ref: "#/components/schemas/SplitRecord", not: { required: ["label_counts"] } },
        maxItems: 20,
        description: "the last splits, newest first",
      },
    },
    ["code", "msg", "task_id", "image_count", "deleted_count", "unassigned_count", "split", "history"],
    { description: "The task's live split and its history (without set_type_id)." },
  ),
  RegisterResponse: object(
    {
      code: { const: 0 },
      msg: { const: "图像登记成功" },
      task_id: ref("Id"),
      added: int(0, "new images"),
      updated: int(0, "known images whose name, state, label or group changed"),
      unchanged: int(0, "known images sent again as they are"),
      total: int(0, "the task's images, deleted ones not counted"),
    },
    ["code", "msg", "task_id", "added", "updated", "unchanged", "total"],
  ),
  Image: object(
    {
      img_id: ref("Id"),
      img_name: { type: "string" },
      state: int(0),
      order_id: int(1, "kept for good: a deleted image's order_id is never given to another"),
      label: { type: ["string", "null"], description: "null when the image has none" },
      group: { type: ["string", "null"], description: "null when the image has none" },
      set_type_id: {
        enum: [...SET_TYPES, null],
        description:
          "the image's set in the live split (0 training, 1 testing, 2 verifying), or null: unassigned, or never split",
      },
    },
    ["img_id", "img_name", "state", "order_id", "label", "group", "set_type_id"],
  ),
  ImageAnswer: object(
    { code: { const: 0 }, msg: { const: "图像查询成功" }, task_id: ref("Id"), image: ref("Image") },
    ["code", "msg", "task_id", "image"],
    { description: "One image (with img_id)." },
  ),
  ImagePage: object(
    {
      code: { const: 0 },
      msg: { const: "任务图像查询成功" },
      task_id: ref("Id"),
      img_info_list: {
        type: "array",
        items: ref("Image"),
        description:
          "ascending order_id; deleted images left out (a later page may be empty when the images after its cursor were deleted meanwhile)",
      },
      next_cursor: { type: "string", description: "only when more images follow: pass it back as cursor" },
    },
    ["code", "msg", "task_id", "img_info_list"],
    { description: "One page of the task's images (without img_id)." },
  ),
  DeleteRequest: object(
    {
      task_id: ref("TaskIdInput"),
      img_ids: {
        type: "array",
        minItems: 1,
        maxItems: MAX_IMAGES_PER_REQUEST,
        uniqueItems: true,
        items: ref("IdInput"),
        description: `1–${MAX_IMAGES_PER_REQUEST} ids, each once (1011 names the first failing one, e.g. img_ids[2]).`,
      },
    } satisfies Record<(typeof DELETE_FIELDS)[number], JsonSchema>,
    ["task_id", "img_ids"],
    { description: "A logical delete (the legacy is_del). Unknown fields: 1023." },
  ),
  DeleteResponse: object(
    {
      code: { const: 0 },
      msg: { const: "图像删除成功" },
      task_id: ref("Id"),
      deleted: int(0, "images deleted by this request"),
      already_deleted: int(0, "images deleted before: nothing changed for them"),
      not_found: { type: "array", items: ref("Id"), description: "ids the task never had, in request order" },
      total: int(0, "the task's images left"),
    },
    ["code", "msg", "task_id", "deleted", "already_deleted", "not_found", "total"],
  ),
};

const SPLIT_EXAMPLE: Json = {
  code: 0,
  msg: SPLIT_MSG,
  task_id: DEMO_TASK,
  img_ids_set_training: [
    "2018070417860564005",
    "2018070417860564003",
    "2018070417860564006",
    "2018070417860564002",
    "2018070417860564001",
    "2018070417860564008",
    "2018070417860564009",
  ],
  img_ids_set_verifying: ["2018070417860564000", "2018070417860564007"],
  img_ids_set_testing: ["2018070417860564004"],
  unassigned_count: 0,
  seed: "demo",
  version: 1,
};

const SET_PAGE_EXAMPLE: Json = {
  code: 0,
  msg: "集合编号id=1的图像数据查询成功",
  task_id: "2018072049434026765",
  img_info_list: [{ img_name: "img_拓海_1.png", img_id: "2018072080042233351", state: 0, order_id: 1 }],
};

const SUMMARY_EXAMPLE: Json = {
  code: 0,
  msg: "任务分集概况查询成功",
  task_id: "42",
  image_count: 10,
  deleted_count: 0,
  unassigned_count: 0,
  split: {
    version: 1,
    seed: "doc",
    algorithm: "v1",
    split_at: "2026-11-24T19:38:40.485Z",
    mode: "fresh",
    options: { stratify_by: "label", group_by: null, rare_labels: "training", lock_testing: false },
    ratios: { training: 0.6, verifying: 0.2, testing: 0.2 },
    requested_sizes: { training: 6, verifying: 2, testing: 2 },
    achieved_sizes: { training: 6, verifying: 2, testing: 2 },
    unassigned_count: 0,
    moved_count: 0,
    label_counts: [
      { label: "cat", training: 2, verifying: 1, testing: 0, unassigned: 0 },
      { label: "dog", training: 4, verifying: 1, testing: 2, unassigned: 0 },
    ],
    leaked_groups: ["p1", "p4"],
  },
  history: [
    {
      version: 1,
      seed: "doc",
      algorithm: "v1",
      split_at: "2026-11-24T19:38:40.485Z",
      mode: "fresh",
      options: { stratify_by: "label", group_by: null, rare_labels: "training", lock_testing: false },
      ratios: { training: 0.6, verifying: 0.2, testing: 0.2 },
      requested_sizes: { training: 6, verifying: 2, testing: 2 },
      achieved_sizes: { training: 6, verifying: 2, testing: 2 },
      unassigned_count: 0,
      moved_count: 0,
      leaked_groups: ["p1", "p4"],
    },
  ],
};

/** The markdown table of every error, for the document's description (and so the docs page). */
function errorTable(entries: ErrorEntry[]): string {
  const rows = entries.map((e) => `| ${e.code} | ${e.statuses.join(" / ")} | ${e.when} | ${e.msg} |`);
  return ["| code | HTTP | when | msg |", "|---|---|---|---|", ...rows].join("\n");
}

/** The Idempotency-Key request header of the PUT, the POST and (when its route takes one) the DELETE (docs/api.md "Idempotency keys"). */
const IDEMPOTENCY_KEY_PARAMETER: Parameter = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  schema: {
    type: "string",
    pattern: '^"?[\\x21-\\x7E]{1,255}"?$',
    examples: ['"8e03978e-40d5-43e8-bc93-6894a57f9324"'],
  },
  description:
    "IETF httpapi Idempotency-Key: 1–255 visible ASCII characters, quoted or not. The same key and body from the same caller within the expiry (1 h) gets the first answer again, with Idempotent-Replayed: true, and does nothing again; another body is 1024; while the first request runs, 1025. Error answers are not kept. Without it, every request runs.",
};

/** The 200 answer's header on a replay. */
const REPLAYED_HEADERS = {
  "Idempotent-Replayed": {
    schema: { const: "true" },
    description: "present (true) when this is the kept answer of an earlier request with the same Idempotency-Key",
  },
};

const queryParameter = (name: string, required: boolean, schema: JsonSchema, description: string): Parameter => ({
  name,
  in: "query" as const,
  required,
  schema,
  description,
});

const IMAGE_EXAMPLE = {
  img_id: "2018072080042233351",
  img_name: "img_拓海_1.png",
  state: 0,
  order_id: 1,
  label: "cat",
  group: null,
  set_type_id: 0,
} satisfies Json;

const IMAGE_PAGE_EXAMPLE: Json = {
  code: 0,
  msg: "任务图像查询成功",
  task_id: "2018072049434026765",
  img_info_list: [
    IMAGE_EXAMPLE,
    {
      img_id: "2018072067241762338",
      img_name: "img_2.jpg",
      state: 1,
      order_id: 3,
      label: null,
      group: null,
      set_type_id: null,
    },
  ],
  next_cursor: "WyIyMDE4MDcyMDQ5NDM0MDI2NzY1IiwzXQ",
};

/** Whether the route `method path` takes an Idempotency-Key (lib/routes.ts). */
const idempotent = (method: string, path: string): boolean =>
  (ROUTES as readonly { method: string; path: string; idempotent: boolean }[]).some(
    (route) => route.method === method && route.path === path && route.idempotent,
  );

/** The OpenAPI 3.1 document of the API. */
export function openApiDocument(): OpenApiDocument {
  const entries = errorEntries();
  const errorsOf = (operation: keyof typeof OPERATION_ERRORS, extra: readonly ErrorCode[] = []) =>
    errorResponses([...OPERATION_ERRORS[operation], ...extra], entries);
  const deleteKeyed = idempotent("DELETE", "/training/tasks/images");
  const unknownRoute = entries.find((e) => e.code === 1013)!;
  return {
    openapi: "3.1.0",
    info: {
      title: "training-sets",
      version: "0.1.0",
      summary:
        "Split a labelling task's images at random into training, verifying and testing sets, and list each set.",
      description: [
        "Every answer is JSON (`application/json; charset=utf-8`) with `code` (0 = success) and `msg` (Chinese, shown to the platform's users); an error answer may add `detail` (English) and, from the server side, `request_id`. All ids are strings in answers. A request body is read as JSON whatever its Content-Type says.",
        "",
        "Set types: `0` training 训练, `1` testing 测试, `2` verifying 验证.",
        "",
        "Validation reports the first failing rule: body (1014, 1001), unknown fields (1023), task_id (1002), then the request's fields in order, and only then reads the task (1003, 1007); 1008 comes only at publish.",
        "",
        "## Error codes",
        "",
        errorTable(entries),
      ].join("\n"),
    },
    servers: [{ url: ".", description: "where this document is served (the local server, or the deployed stage)" }],
    tags: [
      { name: "sets", description: "Split a task and list its sets" },
      { name: "images", description: "Register, look up, list and delete a task's images" },
      { name: "contract", description: "This document" },
    ],
    paths: {
      "/training/tasks/sets": {
        put: {
          operationId: "splitTask",
          tags: ["sets"],
          summary: "Split a task's images at random",
          description:
            "A fresh uniformly random permutation (Fisher–Yates); the same seed over the same images gives the same split. Images beyond the counts stay unassigned.",
          parameters: [IDEMPOTENCY_KEY_PARAMETER],
          requestBody: {
            required: true,
            content: { "application/json": { schema: ref("SplitRequest"), examples: SPLIT_REQUEST_EXAMPLES } },
          },
          responses: {
            "200": {
              description: "The split",
              headers: REPLAYED_HEADERS,
              ...json(ref("SplitResponse"), {
                legacy: {
                  summary: "The legacy API's answer (plus task_id, unassigned_count, seed, version)",
                  value: SPLIT_EXAMPLE,
                },
                ids_omitted: {
                  summary: "A split too big for one answer",
                  value: {
                    code: 0,
                    msg: SPLIT_MSG,
                    task_id: DEMO_TASK,
                    ids_omitted: true,
                    set_sizes: { training: 7, verifying: 2, testing: 1 },
                    unassigned_count: 0,
                    seed: "demo",
                    version: 1,
                  },
                },
              }),
            },
            ...errorsOf("split"),
          },
        },
        get: {
          operationId: "listSet",
          tags: ["sets"],
          summary: "List one set (with set_type_id), or the task's split summary (without)",
          description:
            "With `set_type_id`: one page of the set in ascending order_id; `next_cursor` only when more images follow. Without it: the live split and the last 20. Other query parameters are ignored.",
          parameters: [
            queryParameter(
              "task_id",
              true,
              { type: "string", pattern: '^"?[0-9A-Za-z_-]{1,64}"?$' },
              "The task; may come in double quotes, as the legacy platform sends it.",
            ),
            queryParameter(
              "set_type_id",
              false,
              { type: "string", enum: SET_TYPES.map(String) },
              "0 training, 1 testing, 2 verifying (1004); without it, the summary.",
            ),
            queryParameter(
              "limit",
              false,
              { type: "integer", minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
              "Images per page (1012).",
            ),
            queryParameter("cursor", false, { type: "string" }, "next_cursor of the previous page (1012, 1015)."),
          ],
          responses: {
            "200": {
              description: "A page of the set, or (without set_type_id) the task's split summary",
              ...json(
                { oneOf: [ref("SetPage"), ref("TaskSummary")] },
                {
                  set_page: { summary: "The legacy API's answer: a set", value: SET_PAGE_EXAMPLE },
                  next_page: {
                    summary: "A page with more to follow",
                    value: {
                      code: 0,
                      msg: "集合编号id=2的图像数据查询成功",
                      task_id: DEMO_TASK,
                      img_info_list: [
                        { img_name: "img_拓海_1.png", img_id: "2018070417860564000", state: 0, order_id: 1 },
                      ],
                      next_cursor: "WyIyMDE4MDYyMjEyMzQ1Njc4OTExIiwyLDEsIjUxOThiY2VmMGVjMCIsMTAsMiwxLDFd",
                    },
                  },
                  summary: { summary: "The split summary (no set_type_id)", value: SUMMARY_EXAMPLE },
                },
              ),
            },
            ...errorsOf("list"),
          },
        },
      },
      "/training/tasks/images": {
        post: {
          operationId: "registerImages",
          tags: ["images"],
          summary: "Register images of a task",
          description:
            "Idempotent upsert: a new image gets the task's next order_id and starts in no set; a known img_id gets its name (and the fields given) updated and keeps its order_id and set.",
          parameters: [IDEMPOTENCY_KEY_PARAMETER],
          requestBody: {
            required: true,
            content: { "application/json": { schema: ref("RegisterRequest"), examples: REGISTER_REQUEST_EXAMPLES } },
          },
          responses: {
            "200": {
              description: "Registered",
              headers: REPLAYED_HEADERS,
              ...json(ref("RegisterResponse"), {
                legacy: {
                  summary: "Three new images",
                  value: {
                    code: 0,
                    msg: "图像登记成功",
                    task_id: "2018072049434026765",
                    added: 3,
                    updated: 0,
                    unchanged: 0,
                    total: 3,
                  },
                },
              }),
            },
            ...errorsOf("register"),
          },
        },
        get: {
          operationId: "getImages",
          tags: ["images"],
          summary: "Look up one image (with img_id), or list the task's images (without)",
          description:
            "With `img_id`: the image, with its set in the live split (`set_type_id`, null when unassigned); an unknown or deleted image is 1026. Without it: one page of the task's images in ascending order_id, deleted ones left out; `next_cursor` only when more images follow. Other query parameters are ignored.",
          parameters: [
            queryParameter(
              "task_id",
              true,
              { type: "string", pattern: '^"?[0-9A-Za-z_-]{1,64}"?$' },
              "The task; may come in double quotes, as the legacy platform sends it.",
            ),
            queryParameter(
              "img_id",
              false,
              { type: "string", pattern: '^"?[0-9A-Za-z_-]{1,64}"?$' },
              "The image (1011 when malformed); without it, the task's images.",
            ),
            queryParameter(
              "limit",
              false,
              { type: "integer", minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
              "Images per page, without img_id (1012).",
            ),
            queryParameter(
              "cursor",
              false,
              { type: "string" },
              "next_cursor of the previous page, without img_id (1012, 1015).",
            ),
          ],
          responses: {
            "200": {
              description: "The image (with img_id), or a page of the task's images (without)",
              ...json(
                { oneOf: [ref("ImageAnswer"), ref("ImagePage")] },
                {
                  image: {
                    summary: "One image, in training",
                    value: { code: 0, msg: "图像查询成功", task_id: "2018072049434026765", image: IMAGE_EXAMPLE },
                  },
                  images: { summary: "A page of the task's images, more to follow", value: IMAGE_PAGE_EXAMPLE },
                },
              ),
            },
            ...errorsOf("images"),
          },
        },
        delete: {
          operationId: "deleteImages",
          tags: ["images"],
          summary: "Delete images of a task (logically, as the legacy is_del)",
          description:
            "A deleted image leaves every set listing and the image listing, of every split, keeps its order_id (never given to another image), is in no set of any later split and is not counted in the task's images. Deleting it again changes nothing (already_deleted); registered again, it comes back as a new image.",
          ...(deleteKeyed ? { parameters: [IDEMPOTENCY_KEY_PARAMETER] } : {}),
          requestBody: {
            required: true,
            content: { "application/json": { schema: ref("DeleteRequest"), examples: DELETE_REQUEST_EXAMPLES } },
          },
          responses: {
            "200": {
              description: "Deleted",
              ...(deleteKeyed ? { headers: REPLAYED_HEADERS } : {}),
              ...json(ref("DeleteResponse"), {
                legacy: {
                  summary: "One image deleted, one unknown",
                  value: {
                    code: 0,
                    msg: "图像删除成功",
                    task_id: "2018072049434026765",
                    deleted: 1,
                    already_deleted: 0,
                    not_found: ["2018072099999999999"],
                    total: 2,
                  },
                },
              }),
            },
            ...errorsOf("delete", deleteKeyed ? [1024, 1025] : []),
          },
        },
      },
      "/openapi.json": {
        get: {
          operationId: "openApiDocument",
          tags: ["contract"],
          summary: "This OpenAPI 3.1 document",
          responses: {
            "200": { description: "The document", ...json({ type: "object", required: ["openapi", "paths"] }) },
            ...errorsOf("openapi"),
          },
        },
      },
    },
    components: {
      schemas: {
        ...DOMAIN_SCHEMAS,
        ...Object.fromEntries(entries.map((entry) => [errorSchemaName(entry.code), errorSchema(entry)])),
      },
      responses: {
        UnknownRoute: {
          description: `${unknownRoute.when}: any other path or method`,
          ...json(ref(errorSchemaName(1013)), {
            "1013": { summary: unknownRoute.msg, value: errorExample(unknownRoute) },
          }),
        },
      },
    },
  };
}
