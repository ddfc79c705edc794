/** The contract's examples: request bodies and queries (each parses, tested) and answers. */
import type { Json } from "./shapes.ts";

export const SPLIT_MSG = "TaskImgRel 表 图像集合数据更新， 成功";
export const DEMO_TASK = "2018062212345678911";

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

/** Examples of the GET query; each parses with lib/http/queries.ts (tested). */
export const LIST_QUERY_EXAMPLES = {
  legacy: {
    summary: "The legacy API's URL (quoted task_id)",
    value: { task_id: '"2018070477207204860"', set_type_id: "1" },
  },
  paged: { summary: "A page of one image", value: { task_id: DEMO_TASK, set_type_id: "2", limit: "1" } },
  summary: { summary: "The task's split summary", value: { task_id: "42" } },
} satisfies Record<string, { summary: string; value: Record<string, string> }>;

/** Examples of the images GET query; each parses with lib/http/queries.ts (tested). */
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

export const SPLIT_EXAMPLE: Json = {
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

export const SET_PAGE_EXAMPLE: Json = {
  code: 0,
  msg: "集合编号id=1的图像数据查询成功",
  task_id: "2018072049434026765",
  img_info_list: [{ img_name: "img_拓海_1.png", img_id: "2018072080042233351", state: 0, order_id: 1 }],
};

/** The live split as the summary shows it; its history entries are the same without the label counts. */
const SUMMARY_SPLIT = {
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
};
const { label_counts: _labelCounts, ...SUMMARY_HISTORY_ENTRY } = SUMMARY_SPLIT;

export const SUMMARY_EXAMPLE: Json = {
  code: 0,
  msg: "任务分集概况查询成功",
  task_id: "42",
  image_count: 10,
  deleted_count: 0,
  unassigned_count: 0,
  split: SUMMARY_SPLIT,
  history: [SUMMARY_HISTORY_ENTRY],
};

export const IMAGE_EXAMPLE = {
  img_id: "2018072080042233351",
  img_name: "img_拓海_1.png",
  state: 0,
  order_id: 1,
  label: "cat",
  group: null,
  set_type_id: 0,
} satisfies Json;

export const IMAGE_PAGE_EXAMPLE: Json = {
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
