import { encodeCursor } from "./cursor.ts";
import {
  type LabelCount,
  type RegisterResult,
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

/**
 * The seed's success body for a split, plus the additive fields task_id, unassigned_count, seed,
 * version; a request that used ratios or an option also gets the planner's account.
 */
export const splitResponse = (split: SplitResult, withDetails: boolean) => ({
  code: 0,
  msg: "TaskImgRel 表 图像集合数据更新， 成功",
  task_id: split.taskId,
  img_ids_set_training: split.drawn[TRAINING],
  img_ids_set_verifying: split.drawn[VERIFYING],
  img_ids_set_testing: split.drawn[TESTING],
  unassigned_count: split.unassignedCount,
  seed: split.seed,
  version: split.version,
  ...(withDetails && split.details
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

/** The seed's success body for one set; `next_cursor` only when more images follow. */
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
  total: result.total,
});
