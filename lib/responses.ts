import { encodeCursor, encodeImageCursor } from "./cursor.ts";
import {
  type DeleteResult,
  type ImagePage,
  type ImageRecord,
  type LabelCount,
  type RegisterResult,
  SET_TYPES,
  type SetPage,
  type SetSizes,
  type SetType,
  type SplitRecord,
  type SplitResult,
  type TaskSummary,
  TESTING,
  TRAINING,
  VERIFYING,
} from "./model.ts";

const bySetName = (sizes: SetSizes) => ({
  training: sizes[TRAINING],
  verifying: sizes[VERIFYING],
  testing: sizes[TESTING],
});

const labelCount = (count: LabelCount) => ({
  label: count.label,
  ...bySetName(count.sizes),
  unassigned: count.unassigned,
});

/** Bytes kept for everything but the id lists in a split's answer. */
const SPLIT_ENVELOPE_BYTES = 64 * 1024;

/** The JSON size of the three id lists (each id quoted, comma-separated). */
const listBytes = (split: SplitResult) =>
  SET_TYPES.reduce<number>(
    (sum, setType) => sum + split.drawn[setType].reduce((bytes, id) => bytes + Buffer.byteLength(id) + 3, 2),
    0,
  );

/** The id lists, or, when they would take the answer past `maxAnswerBytes`, their sizes and `ids_omitted`. */
const idLists = (split: SplitResult, maxAnswerBytes: number) =>
  listBytes(split) + SPLIT_ENVELOPE_BYTES <= maxAnswerBytes
    ? {
        img_ids_set_training: split.drawn[TRAINING],
        img_ids_set_verifying: split.drawn[VERIFYING],
        img_ids_set_testing: split.drawn[TESTING],
      }
    : {
        ids_omitted: true,
        set_sizes: bySetName({
          [TRAINING]: split.drawn[TRAINING].length,
          [TESTING]: split.drawn[TESTING].length,
          [VERIFYING]: split.drawn[VERIFYING].length,
        }),
      };

/**
 * The legacy API's success body for a split, plus the additive fields task_id, unassigned_count,
 * seed, version; a request that used ratios or an option also gets the planner's account.
 */
export const splitResponse = (split: SplitResult, options: { withDetails: boolean; maxAnswerBytes: number }) => ({
  code: 0,
  msg: "TaskImgRel 表 图像集合数据更新， 成功",
  task_id: split.taskId,
  ...idLists(split, options.maxAnswerBytes),
  unassigned_count: split.unassignedCount,
  seed: split.seed,
  version: split.version,
  ...(options.withDetails && split.details
    ? {
        dry_run: split.details.dryRun,
        algorithm: split.details.algorithm,
        requested_sizes: bySetName(split.details.requested),
        achieved_sizes: bySetName(split.details.achieved),
        label_counts: split.details.labelCounts.map(labelCount),
        rare_labels: { policy: split.details.rareLabelPolicy, labels: split.details.rareLabels.map(labelCount) },
        moved_count: split.details.moved,
        newly_assigned_count: split.details.newlyAssigned,
        leaked_groups: split.details.leakedGroups,
        held_back_count: split.details.heldBack,
      }
    : {}),
});

/** The legacy API's success body for one set; `next_cursor` only when more images follow. */
export const setPageResponse = (page: SetPage, setType: SetType) => ({
  code: 0,
  msg: `集合编号id=${setType}的图像数据查询成功`,
  task_id: page.taskId,
  img_info_list: page.images,
  ...(page.nextCursor ? { next_cursor: encodeCursor(page.nextCursor) } : {}),
});

const splitRecord = (record: SplitRecord) => {
  const options = record.spec.options;
  return {
    version: record.version,
    seed: record.seed,
    algorithm: record.algorithm,
    split_at: record.splitAt,
    mode: options?.mode ?? "fresh",
    options: {
      stratify_by: options?.stratifyBy ?? null,
      group_by: options?.groupBy ?? null,
      rare_labels: options?.rareLabels ?? "training",
      lock_testing: options?.lockTesting ?? false,
    },
    ...(record.spec.counts ? { counts: bySetName(record.spec.counts) } : { ratios: bySetName(record.spec.ratios) }),
    requested_sizes: bySetName(record.requested),
    achieved_sizes: bySetName(record.achieved),
    unassigned_count: record.unassigned,
    moved_count: record.moved,
    label_counts: record.labelCounts.map(labelCount),
    leaked_groups: record.leakedGroups,
  };
};

/** GET /training/tasks/sets?task_id=… without set_type_id: the live split and the recent ones. */
export const summaryResponse = (summary: TaskSummary) => ({
  code: 0,
  msg: "任务分集概况查询成功",
  task_id: summary.taskId,
  image_count: summary.imageCount,
  unassigned_count: summary.unassignedCount,
  deleted_count: summary.deletedCount,
  split: summary.live ? splitRecord(summary.live) : null,
  history: summary.history.map(({ labelCounts: _omitted, ...record }) => {
    const { label_counts: _none, ...rest } = splitRecord({ ...record, labelCounts: [] });
    return rest;
  }),
});

export const registerResponse = (result: RegisterResult) => ({
  code: 0,
  msg: "图像登记成功",
  task_id: result.taskId,
  added: result.added,
  updated: result.updated,
  unchanged: result.unchanged,
  total: result.total,
});

/** GET /training/tasks/images?task_id=…&img_id=…: one image and its set in the live split. */
export const imageResponse = (taskId: string, image: ImageRecord) => ({
  code: 0,
  msg: "图像查询成功",
  task_id: taskId,
  image,
});

/** GET /training/tasks/images?task_id=…: one page of the task's images; `next_cursor` only when more follow. */
export const imagePageResponse = (page: ImagePage) => ({
  code: 0,
  msg: "任务图像查询成功",
  task_id: page.taskId,
  img_info_list: page.images,
  ...(page.nextCursor ? { next_cursor: encodeImageCursor(page.nextCursor) } : {}),
});

export const deleteResponse = (result: DeleteResult) => ({
  code: 0,
  msg: "图像删除成功",
  task_id: result.taskId,
  deleted: result.deleted,
  already_deleted: result.alreadyDeleted,
  not_found: result.notFound,
  total: result.total,
});
