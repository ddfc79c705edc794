/** The domain schemas of the contract: requests, answers and what they are made of. */
import type { DELETE_FIELDS, IMAGE_FIELDS, REGISTER_FIELDS, SPLIT_FIELDS } from "../http/fields.ts";
import { MAX_IMAGES_PER_REQUEST, RARE_LABEL_POLICIES, SET_TYPES, SPLIT_MODES } from "../model.ts";
import { ALGORITHM_VERSIONS } from "../split/plan/index.ts";
import { SPLIT_MSG } from "./examples.ts";
import { cut, ID_PATTERN, int, type JsonSchema, object, ref, SAFE } from "./shapes.ts";

export const DOMAIN_SCHEMAS: Record<string, JsonSchema> = {
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
